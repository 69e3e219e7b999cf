"""Codes (barcodes with their check digits), ratings, colours and tags."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from engine.definitions.model import FieldSpec
from engine.expr.types import ExprType
from engine.field_errors import FieldError
from engine.forms.fieldtype import FieldType, register
from engine.forms.types_basic import Text
from engine.forms.types_extra import COUNT_PROPS, count_items


def _ean_ok(digits: str) -> bool:
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


_SYMBOLOGIES = {
    "ean13": lambda s: len(s) == 13 and s.isdigit() and _ean_ok(s),
    "ean8": lambda s: len(s) == 8 and s.isdigit() and _ean_ok(s),
    "upca": lambda s: len(s) == 12 and s.isdigit() and _ean_ok(s),
    "code128": lambda s: 0 < len(s) <= 80 and all(32 <= ord(c) < 127 for c in s),
    "code39": lambda s: bool(re.fullmatch(r"[0-9A-Z \-.$/+%]{1,80}", s)),
    "qr": lambda s: 0 < len(s.encode("utf-8")) <= 2953,
}


@register
class Barcode(Text):
    """A bar code or QR code value (scanned or typed); ``symbology`` adds a format check."""

    name = "barcode"
    widget = "scanner"
    props_schema = {**Text.props_schema, "symbology": {"enum": sorted(_SYMBOLOGIES)}}

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        value = super().parse(spec, value)
        symbology = spec.prop("symbology")
        if symbology and not _SYMBOLOGIES[symbology](value):
            raise FieldError("bad_barcode", symbology=symbology.upper())
        return value


@register
class Rating(FieldType):
    """Whole stars from 1 to ``max`` (default 5)."""

    name = "rating"
    widget = "stars"
    expr_type = ExprType.INTEGER
    props_schema = {"max": {"type": "integer", "minimum": 1, "maximum": 10}}

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.SmallInteger()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, float) and value == int(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError("not_integer")
        hi = spec.prop("max", 5)
        if value < 1:
            raise FieldError("too_small", min=1)
        if value > hi:
            raise FieldError("too_large", max=hi)
        return value

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "integer", "minimum": 1, "maximum": spec.prop("max", 5)}


_COLOUR = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


@register
class Colour(FieldType):
    """A colour as ``#RRGGBB`` (``#abc`` and no ``#`` are accepted and normalised)."""

    name = "colour"
    widget = "colour"
    expr_type = ExprType.STRING

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.String(7)

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        m = _COLOUR.fullmatch(value.strip()) if isinstance(value, str) else None
        if m is None:
            raise FieldError("not_colour")
        hexa = m[1].upper()
        if len(hexa) == 3:
            hexa = "".join(c * 2 for c in hexa)
        return "#" + hexa

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"}


@register
class Tags(FieldType):
    """A free list of short texts (duplicates dropped, order kept)."""

    name = "tags"
    widget = "tags"
    expr_type = ExprType.LIST
    element_type = ExprType.STRING
    props_schema = {**COUNT_PROPS, "max_length": {"type": "integer", "minimum": 1}}

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.JSON()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, str):
            value = re.split(r"[,，;；]", value)
        if not isinstance(value, list):
            raise FieldError("not_list")
        hi = spec.prop("max_length", 32)
        out: list[str] = []
        for item in value:
            if not isinstance(item, (str, int)) or isinstance(item, bool):
                raise FieldError("not_text")
            text = str(item).strip()
            if len(text) > hi:
                raise FieldError("too_long", max=hi)
            if text:
                out.append(text)
        return count_items(spec, list(dict.fromkeys(out)))

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string", "maxLength": spec.prop("max_length", 32)}}
