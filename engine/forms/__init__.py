"""Form engine: field types, validation, computed values."""

from engine.field_errors import FieldError

# importing the modules registers the field types and the loader's check of form logic
from engine.forms import (  # noqa: F401
    pack_check,
    types_basic,
    types_choice,
    types_codes,
    types_computed,
    types_extra,
    types_files,
    types_time,
)
from engine.forms.fieldtype import FIELD_TYPES, FieldType, register

__all__ = ["FIELD_TYPES", "FieldType", "FieldError", "register"]
