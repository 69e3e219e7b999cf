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

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value


class ExprDuration(TypeDecorator):  # type: ignore[type-arg]
    """Durations: seconds in SQL, ``timedelta`` in Python."""

    impl = sa.Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        return dialect.type_descriptor(sa.Float() if dialect.name == "sqlite" else sa.Numeric())

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if isinstance(value, dt.timedelta):
            value = Decimal(str(value.total_seconds()))
        return float(value) if value is not None and dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else dt.timedelta(seconds=float(value))


def result_type(t: T) -> Any:
    """The SQLAlchemy type that brings a value of static type ``t`` back as the Python back end's value."""
    return {
        T.DECIMAL: ExprDecimal(),
        T.DATETIME: ExprDateTime(),
        T.DURATION: ExprDuration(),
        T.DATE: sa.Date(),
        T.INTEGER: sa.BigInteger(),
        T.RECORD: sa.BigInteger(),
        T.STRING: sa.String(),
        T.BOOLEAN: sa.Boolean(),
        T.TIME: sa.Time(),
    }.get(t)


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
    return {
        T.INTEGER: sa.BigInteger(),
        T.RECORD: sa.BigInteger(),
        T.DECIMAL: ExprDecimal(),
        T.FLOAT: sa.Float(),
        T.STRING: sa.String(),
        T.BOOLEAN: sa.Boolean(),
        T.DATE: sa.Date(),
        T.TIME: sa.Time(),
        T.DATETIME: ExprDateTime(),
    }.get(t, sa.String())


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


class StrContains(_El):
    """Position of a text inside another (0: absent)."""

    inherit_cache = True
    type = sa.Integer()


class ToText(_El):
    inherit_cache = True
    type = sa.String()


def _args(compiler: Any, el: Any, **kw: Any) -> list[str]:
    return [compiler.process(c, **kw) for c in el.clauses]


def _template(cls: type, default: str, **dialects: str) -> None:
    """Register how ``cls`` renders: ``default`` and per-dialect ``str.format`` templates over its arguments."""
    for name, text in (("", default), *dialects.items()):

        def render(el: Any, compiler: Any, _text: str = text, **kw: Any) -> str:
            return _text.format(*_args(compiler, el, **kw))

        compiles(cls, *([name] if name else []))(render)


_template(DtValue, "{0}", sqlite=f"strftime('{SQLITE_DT}', {{0}})")
_template(DecCmp, "{0}", sqlite=f"round({{0}}, {DECIMAL_PLACES_SQLITE})")
_template(StrOrder, "{0}", postgresql='({0} COLLATE "C")')
_template(Div, "(CAST({0} AS NUMERIC) / NULLIF({1}, 0))", sqlite="(CAST({0} AS REAL) / NULLIF({1}, 0))")
_template(
    Mod, "mod({0}, NULLIF({1}, 0))", sqlite="(({0}) - ({1}) * CAST(CAST({0} AS REAL) / NULLIF({1}, 0) AS INTEGER))"
)
_template(
    DateAdd,
    "(CAST({0} AS DATE) + CAST(trunc(({1}) / 86400) AS INTEGER))",
    sqlite="date({0}, printf('%+d days', CAST(({1}) / 86400 AS INTEGER)))",
)
_template(
    DateTimeAdd,
    "({0} + make_interval(secs => CAST({1} AS DOUBLE PRECISION)))",
    sqlite=f"strftime('{SQLITE_DT}', {{0}}, printf('%+.3f seconds', {{1}}))",
)
_template(
    DateDiff,
    "(CAST({0} AS DATE) - CAST({1} AS DATE))",
    sqlite="CAST(round(julianday({0}) - julianday({1})) AS INTEGER)",
)
_template(
    DateTimeDiff, "EXTRACT(EPOCH FROM ({0}) - ({1}))", sqlite="round((julianday({0}) - julianday({1})) * 86400.0, 3)"
)
_template(
    DaysBetween,
    "(CAST({1} AS DATE) - CAST({0} AS DATE))",
    sqlite="CAST(round(julianday(date({1})) - julianday(date({0}))) AS INTEGER)",
)
_template(
    DaysBetweenTs,
    "(CAST(timezone('UTC', {1}) AS DATE) - CAST(timezone('UTC', {0}) AS DATE))",
    sqlite="CAST(round(julianday(date({1})) - julianday(date({0}))) AS INTEGER)",
)
_template(Round, "round(CAST({0} AS NUMERIC), CAST({1} AS INTEGER))", sqlite="round({0}, {1})")
_template(RoundInt, "CAST(round(CAST({0} AS NUMERIC)) AS BIGINT)", sqlite="CAST(round({0}) AS INTEGER)")
_template(
    ListContains,
    "(CAST({0} AS JSONB) @> jsonb_build_array({1}))",
    sqlite="EXISTS (SELECT 1 FROM json_each({0}) WHERE json_each.value = {1})",
)
_template(ListLen, "coalesce(jsonb_array_length(CAST({0} AS JSONB)), 0)", sqlite="coalesce(json_array_length({0}), 0)")
_template(ToText, "CAST({0} AS TEXT)")
_template(StrContains, "instr({0}, {1})", postgresql="strpos({0}, {1})")


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
        parts = [
            sa.func.coalesce(a if t == T.STRING else ToText(a), sa.literal("", sa.String()))
            for a, t in zip(args, types)
        ]
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
