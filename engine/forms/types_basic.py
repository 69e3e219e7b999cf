"""Text, numbers and booleans."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable, ClassVar, Optional

import sqlalchemy as sa

from engine.definitions.model import FieldSpec
from engine.expr.types import ExprType
from engine.field_errors import FieldError
from engine.forms.coltypes import ExactDecimal
from engine.forms.fieldtype import FieldType, owner, register

_LEN_PROPS = {
    "min_length": {"type": "integer", "minimum": 0},
    "max_length": {"type": "integer", "minimum": 1},
    "pattern": {"type": "string"},
}
_INT64 = (-(2**63), 2**63 - 1)
_RANGE_PROPS = {"min": {"type": "number"}, "max": {"type": "number"}}


def _check_range(spec: FieldSpec, value: Any) -> Any:
    lo, hi = spec.prop("min"), spec.prop("max")
    if lo is not None and value < lo:
        raise FieldError("too_small", min=lo)
    if hi is not None and value > hi:
        raise FieldError("too_large", max=hi)
    return value


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9][0-9 \-()]{4,30}")
_URL = re.compile(r"https?://[^\s/$.?#].[^\s]*", re.IGNORECASE)


@register
class Text(FieldType):
    """Text; its kinds differ in how input is cleaned, a shape it must have and a last touch."""

    name = "text"
    widget = "text"
    expr_type = ExprType.STRING
    props_schema = _LEN_PROPS
    #: the shape every value of this kind has (e-mail, phone, URL), and the error if not
    shape: ClassVar[Optional[re.Pattern[str]]] = None
    shape_error: ClassVar[str] = ""
    #: ``clean`` and ``finish`` as source over ``{}`` (for :meth:`inline`)
    clean_source: ClassVar[str] = "{}.strip()"
    finish_source: ClassVar[str] = "{}"

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
        if self.shape is not None and not self.shape.fullmatch(value):
            raise FieldError(self.shape_error)
        return self.finish(value)

    def clean(self, value: str) -> str:
        return value.strip()

    def finish(self, value: str) -> str:
        return value

    def inline(self, spec: FieldSpec, const: Callable[[Any], str]) -> Optional[tuple[str, str]]:
        kind = type(self)
        if owner(kind, "clean") is not owner(kind, "clean_source") or owner(kind, "finish") is not owner(
            kind, "finish_source"
        ):
            return None  # a kind that cleans or finishes differently has no source for it
        cond = f"type(v) is str and (s := {self.clean_source.format('v')})"
        lo, hi = spec.prop("min_length"), spec.prop("max_length")
        if lo is not None:
            cond += f" and len(s) >= {int(lo)}"
        if hi is not None:
            cond += f" and len(s) <= {int(hi)}"
        if spec.prop("pattern"):
            cond += f" and {const(re.compile(spec.prop('pattern')))}.fullmatch(s) is not None"
        if self.shape is not None:
            cond += f" and {const(self.shape)}.fullmatch(s) is not None"
        return cond, self.finish_source.format("s")

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string"}
        if spec.prop("max_length"):
            out["maxLength"] = spec.prop("max_length")
        return out


@register
class TextArea(Text):
    name = "textarea"
    widget = "textarea"
    clean_source = "{}.replace('\\r\\n', '\\n')"

    def clean(self, value: str) -> str:
        return value.replace("\r\n", "\n")


@register
class Email(Text):
    name = "email"
    widget = "email"
    shape, shape_error = _EMAIL, "not_email"
    finish_source = "{}.lower()"

    def finish(self, value: str) -> str:
        return value.lower()


@register
class Phone(Text):
    name = "phone"
    widget = "tel"
    shape, shape_error = _PHONE, "not_phone"


@register
class Url(Text):
    name = "url"
    widget = "url"
    shape, shape_error = _URL, "not_url"


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
            try:
                whole = int(value)
            except (ValueError, OverflowError):  # NaN, infinity
                raise FieldError("not_integer") from None
            if value != whole:
                raise FieldError("not_integer")
            value = whole
        if not isinstance(value, int):
            raise FieldError("not_integer")
        if not _INT64[0] <= value <= _INT64[1]:  # what a BIGINT column holds
            raise FieldError("too_small" if value < 0 else "too_large", min=_INT64[0], max=_INT64[1])
        return _check_range(spec, value)

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "integer"}

    def inline(self, spec: FieldSpec, const: Callable[[Any], str]) -> Optional[tuple[str, str]]:
        lo = _INT64[0] if spec.prop("min") is None else max(_INT64[0], spec.prop("min"))
        hi = _INT64[1] if spec.prop("max") is None else min(_INT64[1], spec.prop("max"))
        return f"type(v) is int and {const(lo)} <= v <= {const(hi)}", "v"


@register
class DecimalNumber(FieldType):
    """An exact number with a fixed scale; money and percent build on it."""

    name = "decimal"
    widget = "decimal"
    expr_type = ExprType.DECIMAL
    props_schema = {
        **_RANGE_PROPS,
        "scale": {"type": "integer", "minimum": 0, "maximum": 10},
        "precision": {"type": "integer", "minimum": 1, "maximum": 38},
    }
    default_scale = 4

    def scale(self, spec: FieldSpec) -> int:
        return int(spec.prop("scale", self.default_scale))

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return ExactDecimal(self.whole_digits(spec) + self.scale(spec), self.scale(spec))

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
        whole = self.whole_digits(spec)
        try:
            number = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
        except InvalidOperation:  # more digits than any column holds
            raise FieldError("too_many_digits", max=whole) from None
        if number.adjusted() >= whole:
            raise FieldError("too_many_digits", max=whole)
        return _check_range(spec, number)

    def whole_digits(self, spec: FieldSpec) -> int:
        """How many digits the column keeps before the decimal point."""
        return int(spec.prop("precision", 18)) - self.scale(spec)

    def dump(self, spec: FieldSpec, value: Any) -> Any:
        return None if value is None else str(value)

    def inline(self, spec: FieldSpec, const: Callable[[Any], str]) -> Optional[tuple[str, str]]:
        cond = f"type(v) is str and (d := {const(_decimal_text(self.scale(spec), self.whole_digits(spec)))}(v)) is not None"
        for bound, op in (("min", ">="), ("max", "<=")):
            if spec.prop(bound) is not None:
                cond += f" and d {op} {const(Decimal(str(spec.prop(bound))))}"
        return cond, "d"

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": ["string", "number"], "format": "decimal"}


def _decimal_text(scale: int, whole: int) -> Callable[[str], Optional[Decimal]]:
    """Text to a number rounded to ``scale`` places as :meth:`DecimalNumber.parse` does, or None.

    None means "not a plain finite number of at most ``whole`` digits before the point" (a
    thousands separator, NaN, too long, not a number at all); the caller then asks ``parse``
    for the value or the error.
    """
    quantum, dec, half_up = Decimal(1).scaleb(-scale), Decimal, ROUND_HALF_UP

    def number(text: str) -> Optional[Decimal]:
        try:
            value = dec(text).quantize(quantum, half_up)
        except ArithmeticError:
            return None
        return value if value.is_finite() and value.adjusted() < whole else None

    return number


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

    def inline(self, spec: FieldSpec, const: Callable[[Any], str]) -> Optional[tuple[str, str]]:
        return "type(v) is bool", "v"
