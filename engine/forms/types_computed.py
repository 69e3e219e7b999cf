"""Computed field types: ``formula`` (an expression) and ``rollup`` (an aggregate).

Both are stored in a real column of their result type (so reports can group and sort by
them) unless ``live: true``; the server recomputes them on every write (see
:mod:`engine.forms.compute`). A value sent by a client is ignored.
"""

from __future__ import annotations

from typing import Any, Mapping

import sqlalchemy as sa

from engine.definitions.model import FieldSpec
from engine.expr.types import ExprType
from engine.forms.fieldtype import FIELD_TYPES, FieldType, register

#: result types a formula or rollup may have: the field type whose column and JSON it uses
RESULT_TYPES = (
    "text",
    "integer",
    "decimal",
    "number",
    "money",
    "percent",
    "boolean",
    "date",
    "datetime",
    "time",
    "duration",
)
ROLLUP_FUNCS = ("sum", "count", "min", "max", "avg")

_RESULT_PROPS = {
    "result": {"enum": list(RESULT_TYPES)},
    "scale": {"type": "integer", "minimum": 0, "maximum": 10},
    "precision": {"type": "integer", "minimum": 1, "maximum": 38},
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
}


class Computed(FieldType):
    """Shared by formula and rollup: the result type decides column, parsing and JSON."""

    computed = True
    widget = "readonly"
    default_result = "decimal"

    def result(self, spec: FieldSpec) -> FieldType:
        return FIELD_TYPES[spec.prop("result", self.default_result)]

    def expr_type_of(self, spec: FieldSpec) -> ExprType:
        return self.result(spec).expr_type

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return self.result(spec).column_type(spec)

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        return self.result(spec).parse(spec, value)

    def dump(self, spec: FieldSpec, value: Any) -> Any:
        return self.result(spec).dump(spec, value)

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {**self.result(spec).json_schema(spec), "readOnly": True}


@register
class Formula(Computed):
    """``formula: qty * unit_price`` with ``result: money`` (default ``decimal``)."""

    name = "formula"
    props_schema = {**_RESULT_PROPS, "live": {"type": "boolean"}}


@register
class Rollup(Computed):
    """``rollup: {of: lines.amount, fn: sum}`` (a sub-table column, or ``<form>.<field>`` with
    ``where``), or ``rollup: "sum(lines.amount)"`` (any aggregate expression)."""

    name = "rollup"
    props_schema = {
        **_RESULT_PROPS,
        "live": {"type": "boolean"},
        "rollup": {
            "anyOf": [
                {"type": "string", "minLength": 1},
                {
                    "type": "object",
                    "required": ["of"],
                    "additionalProperties": False,
                    "properties": {
                        "of": {"type": "string", "minLength": 1},
                        "fn": {"enum": list(ROLLUP_FUNCS)},
                        "where": {"type": "string", "minLength": 1},
                    },
                },
            ]
        },
    }

    def result(self, spec: FieldSpec) -> FieldType:
        if "result" not in spec.props and _fn(spec) == "count":
            return FIELD_TYPES["integer"]
        return super().result(spec)


def _fn(spec: FieldSpec) -> str:
    r = spec.prop("rollup")
    return str(r.get("fn", "sum")) if isinstance(r, Mapping) else ""


def rollup_expression(spec: FieldSpec) -> str:
    """The expression a rollup stands for: ``{of: lines.amount, fn: sum}`` -> ``sum(lines.amount)``."""
    r = spec.prop("rollup")
    if isinstance(r, str):
        return r
    where = f" where {r['where']}" if r.get("where") else ""
    return f"{r.get('fn', 'sum')}({r['of']}{where})"
