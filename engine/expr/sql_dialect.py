"""Everything that differs between SQLite and PostgreSQL, as SQLAlchemy elements compiled per dialect.

The SQL back end builds dialect-neutral trees from these elements; the SQL text is decided
when the statement is compiled for a connection. Storage conventions assumed here:
dates are DATE (SQLite: 'YYYY-MM-DD' text), date-times are UTC (SQLite: SQLAlchemy's
'YYYY-MM-DD HH:MM:SS.ffffff' text), durations are seconds (numbers), lists are JSON arrays,
booleans are BOOLEAN (SQLite: 0/1), money is NUMERIC (SQLite: REAL).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlalchemy.types import TypeDecorator

from engine.expr.types import ExprType as T

SQLITE_DT = "%Y-%m-%d %H:%M:%f"
DECIMAL_PLACES_SQLITE = 9  # SQLite computes money in binary floats: compare rounded


def sqlite_dt_text(value: dt.datetime) -> str:
    value = value.astimezone(dt.timezone.utc) if value.tzinfo else value
    return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"


class ExprDecimal(TypeDecorator):  # type: ignore[type-arg]
    """NUMERIC on PostgreSQL, REAL on SQLite (which has no decimal type)."""

    impl = sa.Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Float())
        return dialect.type_descriptor(sa.Numeric())

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is not None and dialect.name == "sqlite":
            return float(value)
        return value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        return Decimal(str(value)) if not isinstance(value, Decimal) else value


class ExprDateTime(TypeDecorator):  # type: ignore[type-arg]
    """Aware UTC datetimes: timestamptz on PostgreSQL, canonical text on SQLite."""

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is not None and dialect.name == "sqlite":
            return sqlite_dt_text(value)
        return value


def literal(value: Any, t: T) -> ColumnElement[Any]:
    """A bound literal of an expression value with a dialect-aware type."""
    if value is None:
        return sa.null()
    if isinstance(value, bool):
        return sa.true() if value else sa.false()
    if isinstance(value, dt.timedelta):
        return sa.literal(Decimal(str(value.total_seconds())), ExprDecimal())
    if isinstance(value, dt.datetime):
        return sa.literal(value, ExprDateTime())
    if isinstance(value, dt.date):
        return sa.literal(value, sa.Date())
    if isinstance(value, dt.time):
        return sa.literal(value, sa.Time())
    if isinstance(value, Decimal) or isinstance(value, float):
        return sa.literal(value, ExprDecimal())
    if isinstance(value, int):
        return sa.literal(value, sa.BigInteger())
    return sa.literal(str(value), sa.String())


def bind_type(t: T) -> Any:
    return {T.INTEGER: sa.BigInteger(), T.RECORD: sa.BigInteger(), T.DECIMAL: ExprDecimal(),
            T.FLOAT: sa.Float(), T.STRING: sa.String(), T.BOOLEAN: sa.Boolean(), T.DATE: sa.Date(), T.TIME: sa.Time(),
            T.DATETIME: ExprDateTime()}.get(t, sa.String())


def bind_value(value: Any, t: T) -> Any:
    if isinstance(value, dt.timedelta):
        return Decimal(str(value.total_seconds()))
    return value


# ------------------------------------------------------------------ custom elements
class _El(FunctionElement):  # type: ignore[type-arg]
    inherit_cache = True


class DtValue(_El):
    """A date-time value in a comparable form (SQLite: canonical text)."""
    inherit_cache = True
    type = sa.String()


class DecCmp(_El):
    """A decimal value to compare (SQLite: rounded, to hide binary float noise)."""
    inherit_cache = True
    type = sa.Float()


class StrOrder(_El):
    """A string ordered by code point, as Python orders it."""
    inherit_cache = True
    type = sa.String()


class Div(_El):
    inherit_cache = True
    type = ExprDecimal()


class Mod(_El):
    inherit_cache = True
    type = ExprDecimal()


class DateAdd(_El):
    """date + seconds (whole days, truncated)."""
    inherit_cache = True
    type = sa.Date()


class DateTimeAdd(_El):
    inherit_cache = True
    type = sa.String()


class DateDiff(_El):
    """date - date in days."""
    inherit_cache = True
    type = sa.BigInteger()


class DateTimeDiff(_El):
    """datetime - datetime in seconds."""
    inherit_cache = True
    type = ExprDecimal()


class DaysBetween(_El):
    inherit_cache = True
    type = sa.BigInteger()


class DaysBetweenTs(_El):
    """days_between where an argument is a date-time (UTC calendar days)."""
    inherit_cache = True
    type = sa.BigInteger()


class Round(_El):
    inherit_cache = True
    type = ExprDecimal()


class RoundInt(_El):
    inherit_cache = True
    type = sa.BigInteger()


class ListContains(_El):
    inherit_cache = True
    type = sa.Boolean()


class ListLen(_El):
    inherit_cache = True
    type = sa.BigInteger()


class Least(_El):
    inherit_cache = True
    pass


class Greatest(_El):
    inherit_cache = True
    pass


class ToText(_El):
    inherit_cache = True
    type = sa.String()


def _args(compiler: Any, el: Any, **kw: Any) -> list[str]:
    return [compiler.process(c, **kw) for c in el.clauses]


@compiles(DtValue, "sqlite")
def _dt_sqlite(el: Any, compiler: Any, **kw: Any) -> str:
    return f"strftime('{SQLITE_DT}', {_args(compiler, el, **kw)[0]})"


@compiles(DtValue)
def _dt_pg(el: Any, compiler: Any, **kw: Any) -> str:
    return _args(compiler, el, **kw)[0]


@compiles(DecCmp, "sqlite")
def _dec_sqlite(el: Any, compiler: Any, **kw: Any) -> str:
    return f"round({_args(compiler, el, **kw)[0]}, {DECIMAL_PLACES_SQLITE})"


@compiles(DecCmp)
def _dec_pg(el: Any, compiler: Any, **kw: Any) -> str:
    return _args(compiler, el, **kw)[0]


@compiles(StrOrder, "postgresql")
def _str_pg(el: Any, compiler: Any, **kw: Any) -> str:
    return f'({_args(compiler, el, **kw)[0]} COLLATE "C")'


@compiles(StrOrder)
def _str_default(el: Any, compiler: Any, **kw: Any) -> str:
    return _args(compiler, el, **kw)[0]


@compiles(Div, "sqlite")
def _div_sqlite(el: Any, compiler: Any, **kw: Any) -> str:
    a, b = _args(compiler, el, **kw)
    return f"(CAST({a} AS REAL) / NULLIF({b}, 0))"


@compiles(Div)
def _div_pg(el: Any, compiler: Any, **kw: Any) -> str:
    a, b = _args(compiler, el, **kw)
    return f"(CAST({a} AS NUMERIC) / NULLIF({b}, 0))"


@compiles(Mod, "sqlite")
def _mod_sqlite(el: Any, compiler: Any, **kw: Any) -> str:
    a, b = _args(compiler, el, **kw)
    return f"(({a}) - ({b}) * CAST(CAST({a} AS REAL) / NULLIF({b}, 0) AS INTEGER))"


@compiles(Mod)
def _mod_pg(el: Any, compiler: Any, **kw: Any) -> str:
    a, b = _args(compiler, el, **kw)
    return f"mod({a}, NULLIF({b}, 0))"


@compiles(DateAdd, "sqlite")
def _date_add_sqlite(el: Any, compiler: Any, **kw: Any) -> str:
    d, s = _args(compiler, el, **kw)
    return f"date({d}, printf('%+d days', CAST(({s}) / 86400 AS INTEGER)))"


@compiles(DateAdd)
def _date_add_pg(el: Any, compiler: Any, **kw: Any) -> str:
    d, s = _args(compiler, el, **kw)
    return f"(CAST({d} AS DATE) + CAST(trunc(({s}) / 86400) AS INTEGER))"


@compiles(DateTimeAdd, "sqlite")
def _dt_add_sqlite(el: Any, compiler: Any, **kw: Any) -> str:
    d, s = _args(compiler, el, **kw)
    return f"strftime('{SQLITE_DT}', {d}, printf('%+.3f seconds', {s}))"


@compiles(DateTimeAdd)
def _dt_add_pg(el: Any, compiler: Any, **kw: Any) -> str:
    d, s = _args(compiler, el, **kw)
    return f"({d} + make_interval(secs => CAST({s} AS DOUBLE PRECISION)))"


@compiles(DateDiff, "sqlite")
def _date_diff_sqlite(el: Any, compiler: Any, **kw: Any) -> str:
    a, b = _args(compiler, el, **kw)
    return f"CAST(round(julianday({a}) - julianday({b})) AS INTEGER)"


@compiles(DateDiff)
def _date_diff_pg(el: Any, compiler: Any, **kw: Any) -> str:
    a, b = _args(compiler, el, **kw)
    return f"(CAST({a} AS DATE) - CAST({b} AS DATE))"


@compiles(DateTimeDiff, "sqlite")
def _dt_diff_sqlite(el: Any, compiler: Any, **kw: Any) -> str:
    a, b = _args(compiler, el, **kw)
    return f"round((julianday({a}) - julianday({b})) * 86400.0, 3)"


@compiles(DateTimeDiff)
def _dt_diff_pg(el: Any, compiler: Any, **kw: Any) -> str:
    a, b = _args(compiler, el, **kw)
    return f"EXTRACT(EPOCH FROM ({a}) - ({b}))"


@compiles(DaysBetween, "sqlite")
def _days_sqlite(el: Any, compiler: Any, **kw: Any) -> str:
    a, b = _args(compiler, el, **kw)
    return f"CAST(round(julianday(date({b})) - julianday(date({a}))) AS INTEGER)"


@compiles(DaysBetweenTs, "sqlite")
def _days_ts_sqlite(el: Any, compiler: Any, **kw: Any) -> str:
    return _days_sqlite(el, compiler, **kw)


@compiles(DaysBetween)
def _days_pg(el: Any, compiler: Any, **kw: Any) -> str:
    a, b = _args(compiler, el, **kw)
    return f"(CAST({b} AS DATE) - CAST({a} AS DATE))"


@compiles(DaysBetweenTs)
def _days_ts_pg(el: Any, compiler: Any, **kw: Any) -> str:
    a, b = _args(compiler, el, **kw)
    return f"(CAST(timezone('UTC', {b}) AS DATE) - CAST(timezone('UTC', {a}) AS DATE))"


@compiles(Round, "sqlite")
def _round_sqlite(el: Any, compiler: Any, **kw: Any) -> str:
    a, p = _args(compiler, el, **kw)
    return f"round({a}, {p})"


@compiles(Round)
def _round_pg(el: Any, compiler: Any, **kw: Any) -> str:
    a, p = _args(compiler, el, **kw)
    return f"round(CAST({a} AS NUMERIC), CAST({p} AS INTEGER))"


@compiles(RoundInt, "sqlite")
def _round_int_sqlite(el: Any, compiler: Any, **kw: Any) -> str:
    return f"CAST(round({_args(compiler, el, **kw)[0]}) AS INTEGER)"


@compiles(RoundInt)
def _round_int_pg(el: Any, compiler: Any, **kw: Any) -> str:
    return f"CAST(round(CAST({_args(compiler, el, **kw)[0]} AS NUMERIC)) AS BIGINT)"


@compiles(ListContains, "sqlite")
def _list_in_sqlite(el: Any, compiler: Any, **kw: Any) -> str:
    lst, item = _args(compiler, el, **kw)
    return f"EXISTS (SELECT 1 FROM json_each({lst}) WHERE json_each.value = {item})"


@compiles(ListContains)
def _list_in_pg(el: Any, compiler: Any, **kw: Any) -> str:
    lst, item = _args(compiler, el, **kw)
    return f"(CAST({lst} AS JSONB) @> jsonb_build_array({item}))"


@compiles(ListLen, "sqlite")
def _list_len_sqlite(el: Any, compiler: Any, **kw: Any) -> str:
    return f"coalesce(json_array_length({_args(compiler, el, **kw)[0]}), 0)"


@compiles(ListLen)
def _list_len_pg(el: Any, compiler: Any, **kw: Any) -> str:
    return f"coalesce(jsonb_array_length(CAST({_args(compiler, el, **kw)[0]} AS JSONB)), 0)"


@compiles(Least, "sqlite")
def _least_sqlite(el: Any, compiler: Any, **kw: Any) -> str:
    return _values("min", _args(compiler, el, **kw))


@compiles(Greatest, "sqlite")
def _greatest_sqlite(el: Any, compiler: Any, **kw: Any) -> str:
    return _values("max", _args(compiler, el, **kw))


def _values(fn: str, args: list[str]) -> str:
    # SQLite's scalar min/max(a, b) are null if any argument is; the aggregate ignores nulls
    rows = " UNION ALL ".join(f"SELECT {a} AS v" for a in args)
    return f"(SELECT {fn}(v) FROM ({rows}))"


@compiles(Least)
def _least_pg(el: Any, compiler: Any, **kw: Any) -> str:
    return f"LEAST({', '.join(_args(compiler, el, **kw))})"


@compiles(Greatest)
def _greatest_pg(el: Any, compiler: Any, **kw: Any) -> str:
    return f"GREATEST({', '.join(_args(compiler, el, **kw))})"


@compiles(ToText)
def _to_text(el: Any, compiler: Any, **kw: Any) -> str:
    return f"CAST({_args(compiler, el, **kw)[0]} AS TEXT)"


# ------------------------------------------------------------------ the functions' SQL side
class Dialect:
    """What functions.py calls; everything returns dialect-neutral elements from above."""

    def round(self, x: Any, places: Optional[Any], integer: bool = False) -> Any:
        if integer:
            return RoundInt(x)
        return Round(x, places if places is not None else sa.literal(0, sa.Integer()))

    def length(self, x: Any, t: T) -> Any:
        return ListLen(x) if t == T.LIST else sa.func.coalesce(sa.func.length(x), 0)

    def concat(self, args: list[Any], types: list[T]) -> Any:
        parts = [sa.func.coalesce(a if t == T.STRING else ToText(a), sa.literal("", sa.String()))
                 for a, t in zip(args, types)]
        out: Any = parts[0]
        for p in parts[1:]:
            out = out.op("||")(p)
        return out

    def days_between(self, a: Any, b: Any, ta: T, tb: T) -> Any:
        return DaysBetweenTs(a, b) if T.DATETIME in (ta, tb) else DaysBetween(a, b)

    def least(self, args: list[Any]) -> Any:
        return Least(*args)

    def greatest(self, args: list[Any]) -> Any:
        return Greatest(*args)


DIALECT = Dialect()


class StrContains(_El):
    inherit_cache = True
    type = sa.Integer()


@compiles(StrContains, "postgresql")
def _contains_pg(el: Any, compiler: Any, **kw: Any) -> str:
    a, b = _args(compiler, el, **kw)
    return f"strpos({a}, {b})"


@compiles(StrContains)
def _contains_default(el: Any, compiler: Any, **kw: Any) -> str:
    a, b = _args(compiler, el, **kw)
    return f"instr({a}, {b})"
