"""A group field's values as JSON (decimals as text, dates as ISO text), by its fields' types."""

from __future__ import annotations

from typing import Any, Callable

from engine.definitions.model import FieldSpec
from engine.expr.types import ExprType
from engine.forms.fieldtype import FIELD_TYPES, FieldType

#: value types that are JSON as they are
_PLAIN_JSON = frozenset({ExprType.STRING, ExprType.INTEGER, ExprType.BOOLEAN, ExprType.LIST})


def json_safe(spec: FieldSpec, values: dict[str, Any]) -> dict[str, Any]:
    """A group's clean values as JSON (decimals as text, dates as ISO text)."""
    return json_dumper(spec)(values)


def json_dumper(spec: FieldSpec) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """:func:`json_safe` for one group, with its fields' dump functions looked up once."""
    plan = [(f.name, f, FIELD_TYPES[f.type].dump) for f in spec.fields]
    if all(
        type(FIELD_TYPES[f.type]).dump is FieldType.dump and FIELD_TYPES[f.type].expr_type in _PLAIN_JSON
        for f in spec.fields
    ):
        return dict  # texts, numbers, choices: already JSON

    def dump(values: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, field, to_json in plan:
            if name in values:
                value = values[name]
                if value is not None:
                    value = to_json(field, value)
                    if hasattr(value, "isoformat"):
                        value = value.isoformat()
                out[name] = value
        return out

    return dump
