"""What the loader asks of a field type, and where it finds them: by name, in the registry.

The field types themselves are the form engine's (:class:`engine.forms.FieldType`); they
register in :data:`engine.registry.FIELD_TYPES` when ``engine.forms`` is imported, and a
plugin's through ``lowcode.fields``. The loader only needs the part described by
:class:`FieldKind`, so this layer imports the registry, never the form engine.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, cast

from engine import registry
from engine.definitions.model import FieldSpec
from engine.errors import LowcodeError
from engine.expr.types import ExprType
from engine.registry import Registry

#: properties any field may have (besides the common keys): a lookup, and live mode
COMMON_PROPS: dict[str, Any] = {
    "lookup": {
        "anyOf": [
            {"type": "string", "minLength": 1},
            {
                "type": "object",
                "required": ["from", "value"],
                "additionalProperties": False,
                "properties": {
                    "from": {"type": "string", "pattern": "^[a-z_][a-z0-9_]*$"},
                    "where": {"type": "string", "minLength": 1},
                    "value": {"type": "string", "minLength": 1},
                    "order_by": {"type": "string", "minLength": 1},
                },
            },
        ],
        "x-message": "{value} is not a lookup: give an expression (product.price) or {from, where, value, order_by}",
    },
    "live": {"type": "boolean"},
}


class FieldKind(Protocol):
    """A field type as definitions see it: its name, properties, value type and parser."""

    name: ClassVar[str]
    expr_type: ClassVar[ExprType]
    element_type: ClassVar[ExprType]
    props_schema: ClassVar[dict[str, Any]]
    stored: ClassVar[bool]
    computed: ClassVar[bool]
    choices: ClassVar[bool]
    is_table: ClassVar[bool]
    is_group: ClassVar[bool]
    is_link: ClassVar[bool]
    is_multilink: ClassVar[bool]
    is_user: ClassVar[bool]
    is_autonumber: ClassVar[bool]

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        """The value, or raise :class:`engine.field_errors.FieldError`."""

    def expr_type_of(self, spec: FieldSpec) -> ExprType:
        """The type expressions see for this field."""


def field_types() -> Registry[FieldKind]:
    """The field types by name; an error that says what to do when none are registered."""
    if not len(registry.FIELD_TYPES):
        raise LowcodeError(
            "no field types are registered: import engine.forms (the platform and "
            "engine.runtime do) before loading a pack"
        )
    return cast("Registry[FieldKind]", registry.FIELD_TYPES)
