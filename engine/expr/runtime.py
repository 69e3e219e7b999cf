"""Helpers the generated Python code calls (bound as locals of the compiled function)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Iterable, Mapping, Optional
from zoneinfo import ZoneInfo

from engine.expr.errors import ExprError

EMPTY: Mapping[str, Any] = {}


def need_data(data: Any, what: str) -> Any:
    if data is None:
        raise ExprError(f"{what} needs data access: pass data=... to evaluate()")
    return data


def no_ctx() -> None:
    raise ExprError("this expression uses me, my.*, now() or today(): pass a RunContext to evaluate()")


def link_get(data: Any, form: str, ident: Any, hops: tuple[tuple[str, str, str], ...], name: str) -> Any:
    """Follow ``customer.region.name``: fetch each linked record by id, then read the field."""
    if ident is None:
        return None
    rec = need_data(data, "following a link").fetch(form, ident)
    for field, _column, target in hops:
        if rec is None:
            return None
        ident = rec.get(field)
        if ident is None:
            return None
        rec = data.fetch(target, ident)
    return None if rec is None else rec.get(name)


def div(a: Any, b: Any) -> Any:
    if a is None or b is None or b == 0:
        return None
    if isinstance(a, float) or isinstance(b, float):
        return float(a) / float(b)
    return Decimal(a) / Decimal(b)


def mod(a: Any, b: Any) -> Any:
    """Remainder with the sign of the dividend (as SQL does); by zero -> null."""
    if a is None or b is None or b == 0:
        return None
    if isinstance(a, int) and isinstance(b, int):
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    return Decimal(a) % Decimal(b)


def date_add(d: Any, delta: Any, sign: int = 1) -> Any:
    """date +/- duration: whole days (truncated toward zero); datetime +/- duration: exact."""
    if d is None or delta is None:
        return None
    if isinstance(d, dt.datetime):
        return d + delta if sign > 0 else d - delta
    days = int(delta.total_seconds() / 86400)
    return d + dt.timedelta(days=days * sign)


def is_empty(v: Any) -> bool:
    return v is None or v == "" or (isinstance(v, (list, tuple, set, frozenset)) and not v)


def today(ctx: Any) -> dt.date:
    try:
        zone = ZoneInfo(ctx.timezone)
    except Exception:  # noqa: BLE001 - an unknown zone falls back to UTC
        zone = dt.timezone.utc  # type: ignore[assignment]
    return ctx.now().astimezone(zone).date()


def agg_sum(values: Iterable[Any], zero: Any) -> Any:
    total = zero
    for v in values:
        total += v
    return total


def agg_avg(values: list[Any]) -> Optional[Any]:
    if not values:
        return None
    if any(isinstance(v, float) for v in values):
        return sum(values) / len(values)
    return Decimal(sum(values)) / len(values)


def agg_min(values: list[Any]) -> Any:
    return min(values) if values else None


def agg_max(values: list[Any]) -> Any:
    return max(values) if values else None
