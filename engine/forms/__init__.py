"""Form engine: field types, validation, computed values."""
from engine.forms import types_basic, types_choice, types_time  # noqa: F401  (register the types)
from engine.forms import types_computed, types_extra, types_files  # noqa: F401
from engine.forms.fieldtype import FIELD_TYPES, FieldType, register
from engine.forms.messages import FieldError

__all__ = ["FIELD_TYPES", "FieldType", "FieldError", "register"]
