"""The function registry: the only functions an expression can call (an allow-list).

Each entry has a name, an arity, a type rule, a Python implementation (called from the
generated code; it must accept ``None`` arguments) and an SQL implementation
``sql(dialect, args, arg_types) -> ColumnElement``. Add a back end by adding one more
implementation per entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Optional, Sequence

import sqlalchemy as sa

from engine import registry
from engine.expr.types import ExprType as T
from engine.registry import Registry

TypeRule = Callable[[Sequence[T]], T]  # raises TypeError(message) when the arguments do not fit


@dataclass(frozen=True)
class Function:
    name: str
    min_args: int
    max_args: Optional[int]  # None = any number
    returns: TypeRule
    python: Optional[Callable[..., Any]]  # None: compiled specially (if, now, today)
    sql: Optional[Callable[..., Any]]
    doc: str = ""
    needs_ctx: bool = False
    inline: Optional[str] = None  # Python template for one non-null argument "{0}", e.g. "{0}.lower()"


#: :data:`engine.registry.FUNCTIONS`: the functions below, and ``lowcode.functions`` plugins
REGISTRY: Registry[Function] = registry.FUNCTIONS
AGGREGATES = frozenset({"sum", "count", "avg", "min", "max", "exists"})
SPECIAL = frozenset({"if", "changed"})  # compiled by the back ends themselves


def register(fn: Function) -> Function:
    """Add a function to the allow-list (a plugin may instead declare a ``lowcode.functions``
    entry point naming a :class:`Function`)."""
    return REGISTRY.register(fn.name, fn)


def lookup(name: str) -> Optional[Function]:
    return REGISTRY.get(name)


def known_names() -> list[str]:
    return sorted(set(REGISTRY.names()) | AGGREGATES | SPECIAL)


# ------------------------------------------------------------------ type rules
def _numeric(types: Sequence[T]) -> T:
    for t in types:
        if t not in (T.NULL, T.ANY) and not t.numeric:
            raise TypeError(f"expected a number, got {t.value}")
    real = [t for t in types if t.numeric]
    if T.FLOAT in real:
        return T.FLOAT
    if T.DECIMAL in real:
        return T.DECIMAL
    return T.INTEGER if real else T.ANY


def _of(*allowed: T, result: T) -> TypeRule:
    def rule(types: Sequence[T]) -> T:
        for t in types:
            if t not in allowed and t not in (T.NULL, T.ANY):
                names = " or ".join(a.value for a in allowed)
                raise TypeError(f"expected {names}, got {t.value}")
        return result

    return rule


def _same(types: Sequence[T]) -> T:
    real = {t for t in types if t not in (T.NULL, T.ANY)}
    if real and all(t.numeric for t in real):
        return _numeric(list(real))
    if len(real) > 1:
        raise TypeError("arguments have different types: " + ", ".join(sorted(t.value for t in real)))
    return real.pop() if real else T.ANY


def _round_rule(types: Sequence[T]) -> T:
    _numeric(types)
    if len(types) > 1 and types[1] not in (T.INTEGER, T.NULL, T.ANY):
        raise TypeError("the number of places must be an integer")
    return T.INTEGER if types[0] == T.INTEGER and len(types) == 1 else (T.FLOAT if types[0] == T.FLOAT else T.DECIMAL)


# ------------------------------------------------------------------ python implementations
def py_round(x: Any, places: Any = 0) -> Any:
    if x is None or places is None:
        return None
    if isinstance(x, float):
        x = Decimal(repr(x))
    q = Decimal(1).scaleb(-places)
    result = Decimal(x).quantize(q, rounding=ROUND_HALF_UP)
    return result


def py_round_int(x: Any) -> Any:
    return None if x is None else int(Decimal(x).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def py_days_between(a: Any, b: Any) -> Optional[int]:
    if a is None or b is None:
        return None
    a = a.astimezone(dt.timezone.utc).date() if isinstance(a, dt.datetime) else a
    b = b.astimezone(dt.timezone.utc).date() if isinstance(b, dt.datetime) else b
    return (b - a).days


def py_len(x: Any) -> int:
    return 0 if x is None else len(x)


def py_lower(x: Any) -> Any:
    return None if x is None else x.lower()


def py_upper(x: Any) -> Any:
    return None if x is None else x.upper()


def py_trim(x: Any) -> Any:
    return None if x is None else x.strip(" ")


def py_abs(x: Any) -> Any:
    return None if x is None else abs(x)


def py_coalesce(*xs: Any) -> Any:
    for x in xs:
        if x is not None:
            return x
    return None


def py_concat(*xs: Any) -> str:
    return "".join("" if x is None else str(x) for x in xs)


def py_least(*xs: Any) -> Any:
    vals = [x for x in xs if x is not None]
    return min(vals) if vals else None


def py_greatest(*xs: Any) -> Any:
    vals = [x for x in xs if x is not None]
    return max(vals) if vals else None


# ------------------------------------------------------------------ registry
def _sql_round(d: Any, args: list[Any], types: Sequence[T]) -> Any:
    return d.round(args[0], args[1] if len(args) > 1 else None, integer=types[0] == T.INTEGER and len(args) == 1)


register(
    Function(
        "round",
        1,
        2,
        _round_rule,
        py_round,
        _sql_round,
        "round(x, n): round half away from zero to n places (default 0)",
    )
)
register(Function("abs", 1, 1, _numeric, py_abs, lambda d, a, t: sa.func.abs(a[0]), "absolute value"))
register(
    Function(
        "len",
        1,
        1,
        _of(T.STRING, T.LIST, result=T.INTEGER),
        py_len,
        lambda d, a, t: d.length(a[0], t[0]),
        "length of a text or a list (empty: 0)",
    )
)
register(
    Function(
        "lower",
        1,
        1,
        _of(T.STRING, result=T.STRING),
        py_lower,
        lambda d, a, t: sa.func.lower(a[0]),
        "lower case",
        inline="{0}.lower()",
    )
)
register(
    Function(
        "upper",
        1,
        1,
        _of(T.STRING, result=T.STRING),
        py_upper,
        lambda d, a, t: sa.func.upper(a[0]),
        "upper case",
        inline="{0}.upper()",
    )
)
register(
    Function(
        "trim",
        1,
        1,
        _of(T.STRING, result=T.STRING),
        py_trim,
        lambda d, a, t: sa.func.trim(a[0]),
        "remove leading and trailing spaces",
        inline="{0}.strip(' ')",
    )
)
register(
    Function(
        "coalesce",
        1,
        None,
        _same,
        py_coalesce,
        lambda d, a, t: sa.func.coalesce(*a),
        "the first argument that is not null",
    )
)
register(
    Function(
        "concat",
        1,
        None,
        lambda ts: T.STRING,
        py_concat,
        lambda d, a, t: d.concat(a, t),
        "join texts; null counts as empty text",
    )
)
register(
    Function(
        "days_between",
        2,
        2,
        _of(T.DATE, T.DATETIME, result=T.INTEGER),
        py_days_between,
        lambda d, a, t: d.days_between(a[0], a[1], t[0], t[1]),
        "whole days from the first date to the second",
    )
)
register(Function("now", 0, 0, lambda ts: T.DATETIME, None, None, "the current date-time (UTC)", True))
register(Function("today", 0, 0, lambda ts: T.DATE, None, None, "today's date in the user's time zone", True))
# min/max with two or more arguments are scalar; with one they are aggregates (check.py)
register(
    Function(
        "min",
        2,
        None,
        _same,
        py_least,
        lambda d, a, t: d.least(a),
        "smallest argument, ignoring nulls; min(lines.x) aggregates",
    )
)
register(
    Function(
        "max",
        2,
        None,
        _same,
        py_greatest,
        lambda d, a, t: d.greatest(a),
        "largest argument, ignoring nulls; max(lines.x) aggregates",
    )
)
