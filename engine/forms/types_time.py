"""Dates, datetimes and times."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Optional

import sqlalchemy as sa

from engine.definitions.model import FieldSpec
from engine.expr.types import ExprType
from engine.field_errors import FieldError
from engine.forms.coltypes import UTCDateTime
from engine.forms.fieldtype import FieldType, register


@register
class Date(FieldType):
    name = "date"
    widget = "date"
    expr_type = ExprType.DATE

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.Date()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            text = value.strip().replace("/", "-")
            try:
                return dt.date.fromisoformat(text[:10]) if len(text) >= 10 else _loose_date(text)
            except ValueError:
                pass
        raise FieldError("not_date")

    def dump(self, spec: FieldSpec, value: Any) -> Any:
        return None if value is None else value.isoformat()

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "string", "format": "date"}

    def inline(self, spec: FieldSpec, const: Callable[[Any], str]) -> Optional[tuple[str, str]]:
        return f"type(v) is str and len(v) == 10 and (d := {const(_iso_date)}(v)) is not None", "d"


def _iso_date(text: str) -> Optional[dt.date]:
    """``YYYY-MM-DD`` as a date, or None (the caller then parses it the slow way)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _loose_date(text: str) -> dt.date:
    year, month, day = (int(p) for p in text.split("-"))
    return dt.date(year, month, day)


@register
class DateTime(FieldType):
    """A moment in time, kept in UTC; input without an offset is read in the pack's time zone."""

    name = "datetime"
    widget = "datetime"
    expr_type = ExprType.DATETIME

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return UTCDateTime()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                raise FieldError("not_datetime") from None
        if not isinstance(value, dt.datetime):
            raise FieldError("not_datetime")
        if value.tzinfo is None:
            value = value.replace(tzinfo=_zone(spec))
        return value.astimezone(dt.timezone.utc)

    def dump(self, spec: FieldSpec, value: Any) -> Any:
        return None if value is None else value.isoformat()

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}


def _zone(spec: FieldSpec) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(spec.prop("timezone", "Asia/Shanghai"))


@register
class Time(FieldType):
    name = "time"
    widget = "time"
    expr_type = ExprType.TIME

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.Time()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, dt.time):
            return value
        if isinstance(value, str):
            try:
                return dt.time.fromisoformat(value.strip())
            except ValueError:
                pass
        raise FieldError("not_time")

    def dump(self, spec: FieldSpec, value: Any) -> Any:
        return None if value is None else value.isoformat()

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "string", "format": "time"}
