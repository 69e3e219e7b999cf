"""SQL column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Optional, cast

import sqlalchemy as sa

#: the largest record id, and so link value: ids are 32-bit integers on PostgreSQL (``serial``);
#: anything larger names no record, and is answered as such (404, or "no such record" for a link)
ID_MAX = 2**31 - 1


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes in, timezone-aware UTC datetimes out."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[dt.datetime], dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        value = value.astimezone(dt.timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Any) -> Optional[dt.datetime]:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class ExactDecimal(sa.types.TypeDecorator[Decimal]):
    """NUMERIC(precision, scale) that always returns a Decimal quantized to its scale."""

    impl = sa.Numeric
    cache_ok = True

    def __init__(self, precision: int = 18, scale: int = 2) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            # SQLite has no exact decimal: keep the digits, let SQL still compare them as numbers.
            return dialect.type_descriptor(sa.Numeric(asdecimal=False))
        numeric = cast("sa.Numeric[Any]", self.impl)  # an instance once __init__ has run
        return dialect.type_descriptor(sa.Numeric(numeric.precision, self.scale))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return float(value)
        return Decimal(value)

    def process_result_value(self, value: Any, dialect: Any) -> Optional[Decimal]:
        if value is None:
            return None
        return Decimal(str(value)).quantize(self._quantum)


class Seconds(sa.types.TypeDecorator[dt.timedelta]):
    """A duration kept as whole seconds (BIGINT), read back as a ``timedelta``."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, dt.timedelta):
            return int(value.total_seconds())
        return int(value)

    def process_result_value(self, value: Any, dialect: Any) -> Optional[dt.timedelta]:
        return None if value is None else dt.timedelta(seconds=int(value))
