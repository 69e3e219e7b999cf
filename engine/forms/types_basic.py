"""Text, numbers and booleans."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable

import sqlalchemy as sa

from engine.definitions.model import FieldSpec
from engine.expr.types import ExprType
from engine.forms.coltypes import ExactDecimal
from engine.forms.fieldtype import FieldType, register
from engine.forms.messages import FieldError

_LEN_PROPS = {
    "min_length": {"type": "integer", "minimum": 0},
    "max_length": {"type": "integer", "minimum": 1},
    "pattern": {"type": "string"},
}
_RANGE_PROPS = {"min": {"type": "number"}, "max": {"type": "number"}}


def _check_range(spec: FieldSpec, value: Any) -> Any:
    lo, hi = spec.prop("min"), spec.prop("max")
    if lo is not None and value < lo:
        raise FieldError("too_small", min=lo)
    if hi is not None and value > hi:
        raise FieldError("too_large", max=hi)
    return value


@register
class Text(FieldType):
    name = "text"
    widget = "text"
    expr_type = ExprType.STRING
    props_schema = _LEN_PROPS

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise FieldError("not_text")
        value = self.clean(value)
        lo, hi = spec.prop("min_length"), spec.prop("max_length")
        if lo is not None and len(value) < lo:
            raise FieldError("too_short", min=lo)
        if hi is not None and len(value) > hi:
            raise FieldError("too_long", max=hi)
        pattern = spec.prop("pattern")
        if pattern and not re.fullmatch(pattern, value):
            raise FieldError("pattern")
        return value

    def clean(self, value: str) -> str:
        return value.strip()

    def fast(self, spec: FieldSpec) -> Callable[[Any], Any]:
        if type(self).parse is not Text.parse or type(self).clean is not Text.clean:
            return super().fast(spec)
        lo, hi = spec.prop("min_length"), spec.prop("max_length")
        pattern = re.compile(spec.prop("pattern")) if spec.prop("pattern") else None
        slow = self.parse

        def parse(value: Any) -> Any:
            if type(value) is not str:
                return slow(spec, value)
            value = value.strip()
            if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi) or \
                    (pattern is not None and not pattern.fullmatch(value)):
                return slow(spec, value)
            return value
        return parse

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string"}
        if spec.prop("max_length"):
            out["maxLength"] = spec.prop("max_length")
        return out


@register
class TextArea(Text):
    name = "textarea"
    widget = "textarea"

    def clean(self, value: str) -> str:
        return value.replace("\r\n", "\n")


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9][0-9 \-()]{4,30}")
_URL = re.compile(r"https?://[^\s/$.?#].[^\s]*", re.IGNORECASE)


@register
class Email(Text):
    name = "email"
    widget = "email"

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        value = super().parse(spec, value)
        if not _EMAIL.fullmatch(value):
            raise FieldError("not_email")
        return value.lower()


@register
class Phone(Text):
    name = "phone"
    widget = "tel"

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        value = super().parse(spec, value)
        if not _PHONE.fullmatch(value):
            raise FieldError("not_phone")
        return value


@register
class Url(Text):
    name = "url"
    widget = "url"

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        value = super().parse(spec, value)
        if not _URL.fullmatch(value):
            raise FieldError("not_url")
        return value


@register
class Integer(FieldType):
    name = "integer"
    widget = "integer"
    expr_type = ExprType.INTEGER
    props_schema = _RANGE_PROPS

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.BigInteger().with_variant(sa.Integer(), "sqlite")

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, bool):
            raise FieldError("not_integer")
        if isinstance(value, str):
            try:
                value = Decimal(value.strip().replace(",", ""))
            except InvalidOperation:
                raise FieldError("not_integer") from None
        if isinstance(value, (float, Decimal)):
            if value != int(value):
                raise FieldError("not_integer")
            value = int(value)
        if not isinstance(value, int):
            raise FieldError("not_integer")
        return _check_range(spec, value)

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "integer"}

    def fast(self, spec: FieldSpec) -> Callable[[Any], Any]:
        lo, hi = spec.prop("min"), spec.prop("max")
        slow = self.parse

        def parse(value: Any) -> Any:
            if type(value) is int and (lo is None or value >= lo) and (hi is None or value <= hi):
                return value
            return slow(spec, value)
        return parse


@register
class DecimalNumber(FieldType):
    """An exact number with a fixed scale; money and percent build on it."""

    name = "decimal"
    widget = "decimal"
    expr_type = ExprType.DECIMAL
    props_schema = {**_RANGE_PROPS, "scale": {"type": "integer", "minimum": 0, "maximum": 10},
                    "precision": {"type": "integer", "minimum": 1, "maximum": 38}}
    default_scale = 4

    def scale(self, spec: FieldSpec) -> int:
        return int(spec.prop("scale", self.default_scale))

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return ExactDecimal(int(spec.prop("precision", 18)), self.scale(spec))

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, bool):
            raise FieldError("not_number")
        try:
            if isinstance(value, float):
                number = Decimal(repr(value))
            elif isinstance(value, str):
                number = Decimal(value.strip().replace(",", ""))
            elif isinstance(value, (int, Decimal)):
                number = Decimal(value)
            else:
                raise FieldError("not_number")
        except InvalidOperation:
            raise FieldError("not_number") from None
        if not number.is_finite():
            raise FieldError("not_number")
        scale = self.scale(spec)
        number = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
        return _check_range(spec, number)

    def dump(self, spec: FieldSpec, value: Any) -> Any:
        return None if value is None else str(value)

    def fast(self, spec: FieldSpec) -> Callable[[Any], Any]:
        quantum = Decimal(1).scaleb(-self.scale(spec))
        lo = None if spec.prop("min") is None else Decimal(str(spec.prop("min")))
        hi = None if spec.prop("max") is None else Decimal(str(spec.prop("max")))
        slow = self.parse
        dec, half_up = Decimal, ROUND_HALF_UP

        def parse(value: Any) -> Any:
            kind = type(value)
            if kind is str or kind is int:
                try:
                    number = dec(value)
                except InvalidOperation:
                    return slow(spec, value)
                if not number.is_finite():
                    return slow(spec, value)
                number = number.quantize(quantum, rounding=half_up)
                if (lo is None or number >= lo) and (hi is None or number <= hi):
                    return number
            return slow(spec, value)
        return parse

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": ["string", "number"], "format": "decimal"}


@register
class Number(DecimalNumber):
    name = "number"
    default_scale = 6


@register
class Money(DecimalNumber):
    name = "money"
    widget = "money"
    props_schema = {**DecimalNumber.props_schema, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}
    default_scale = 2


@register
class Percent(DecimalNumber):
    name = "percent"
    widget = "percent"
    default_scale = 4


_TRUE = {"true", "1", "yes", "y", "是", "对", "√", "on"}
_FALSE = {"false", "0", "no", "n", "否", "错", "×", "off", ""}


@register
class Boolean(FieldType):
    name = "boolean"
    widget = "checkbox"
    expr_type = ExprType.BOOLEAN

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.Boolean()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            low = value.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
        raise FieldError("not_boolean")

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "boolean"}

    def fast(self, spec: FieldSpec) -> Callable[[Any], Any]:
        slow = self.parse
        return lambda value: value if type(value) is bool else slow(spec, value)
