"""Choices, references, sub-tables, auto numbers and JSON."""

from __future__ import annotations

from typing import Any, Callable, Optional

import sqlalchemy as sa

from engine.definitions.model import FieldSpec
from engine.expr.types import ExprType
from engine.field_errors import FieldError
from engine.forms.coltypes import ID_MAX
from engine.forms.fieldtype import FieldType, register
from engine.forms.group_json import json_safe


@register
class Select(FieldType):
    name = "select"
    widget = "select"
    expr_type = ExprType.STRING
    choices = True

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise FieldError("not_text")
        value = value.strip()
        for option in spec.options:
            if value == option.value or value in option.label.all():
                return option.value
        raise FieldError("not_option", value=value)

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "string", "enum": [o.value for o in spec.options]}

    def inline(self, spec: FieldSpec, const: Callable[[Any], str]) -> Optional[tuple[str, str]]:
        values = {o.value: o.value for o in spec.options}
        for o in reversed(spec.options):
            for label in o.label.all():
                values.setdefault(label, o.value)
        values.pop("", None)
        return f"type(v) is str and (h := {const(values)}.get(v)) is not None", "h"


@register
class Radio(Select):
    name = "radio"
    widget = "radio"


@register
class MultiSelect(FieldType):
    name = "multiselect"
    widget = "multiselect"
    choices = True
    element_type = ExprType.STRING
    expr_type = ExprType.LIST

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.JSON()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, str):
            value = [v for v in (p.strip() for p in value.replace("，", ",").split(",")) if v]
        if not isinstance(value, list):
            raise FieldError("not_list")
        return [Select.parse(self, spec, v) for v in value]  # type: ignore[arg-type]

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string", "enum": [o.value for o in spec.options]}}


class Reference(FieldType):
    """A reference by integer id (to a record or a user); existence is checked by the store."""

    expr_type = ExprType.RECORD

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.Integer()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, bool):
            raise FieldError("not_record")
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if not isinstance(value, int) or value <= 0:
            raise FieldError("not_record")
        if value > ID_MAX:  # no record has such an id: said before the database sees it
            raise FieldError("no_such_record", id=value)
        return value

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "integer", "minimum": 1, "maximum": ID_MAX}

    def inline(self, spec: FieldSpec, const: Callable[[Any], str]) -> Optional[tuple[str, str]]:
        return f"type(v) is int and 0 < v <= {ID_MAX}", "v"


@register
class Link(Reference):
    name = "link"
    is_link = True
    widget = "record_picker"
    props_schema = {"form": {"type": "string"}}

    def link_form(self, spec: FieldSpec) -> Optional[str]:
        return spec.form


@register
class User(Reference):
    name = "user"
    is_user = True
    widget = "user_picker"
    expr_type = ExprType.INTEGER


@register
class SubTable(FieldType):
    """Child rows with their own fields, kept in a child table."""

    name = "table"
    is_table = True
    widget = "subtable"
    expr_type = ExprType.TABLE
    stored = False

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "object"}}


@register
class AutoNumber(FieldType):
    """A number from a sequence pattern such as ``SO-{YYYY}{MM}-{seq:05}``."""

    name = "autonumber"
    is_autonumber = True
    widget = "readonly"
    expr_type = ExprType.STRING
    computed = True
    props_schema = {"sequence": {"type": "string", "minLength": 1}}

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "string", "readOnly": True}


@register
class Json(FieldType):
    name = "json"
    widget = "json"
    expr_type = ExprType.JSON

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.JSON()

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {}


@register
class Group(FieldType):
    """A nested object with its own fields (``fields:``), kept as one JSON value, e.g. a
    customer's contact ``{name, phone, email}``. Its fields are validated like a row's;
    errors are reported as ``contact.phone``."""

    name = "group"
    is_group = True
    widget = "group"
    expr_type = ExprType.JSON

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.JSON()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        from engine.forms.validate import RowValidator

        errors: dict[str, list[str]] = {}
        out = RowValidator(spec.fields).run(value, errors, "", partial=False, locale="en")
        if errors:
            path, messages = next(iter(errors.items()))
            raise FieldError("in_group", path=path, message=messages[0])
        return json_safe(spec, out)

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        from engine.forms.fieldtype import FIELD_TYPES

        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {f.name: FIELD_TYPES[f.type].json_schema(f) for f in spec.fields},
        }
