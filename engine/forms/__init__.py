"""Form engine: field types, validation, computed values."""
from engine.forms import types_basic, types_choice, types_time  # noqa: F401  (register the types)
from engine.forms import types_computed, types_extra, types_files  # noqa: F401
from engine.field_errors import FieldError
from engine.forms import pack_check  # noqa: F401  (the loader checks form logic)
from engine.forms.fieldtype import FIELD_TYPES, FieldType, register

__all__ = ["FIELD_TYPES", "FieldType", "FieldError", "register"]
