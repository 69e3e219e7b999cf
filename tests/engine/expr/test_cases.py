"""The table-driven cases of cases.yaml through both back ends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from engine.expr import compile_expression
from engine.expr.types import ExprType as T

from .conftest import SCOPES, UTC

CASES = yaml.safe_load(Path(__file__).with_name("cases.yaml").read_text(encoding="utf-8"))


def convert(scope_name: str, record: dict[str, Any]) -> dict[str, Any]:
    """YAML values -> the Python values records hold (Decimal, aware datetimes, timedelta)."""
    scope = SCOPES[scope_name]
    out: dict[str, Any] = {}
    for name, value in record.items():
        if name == "id":
            out["id"] = value
            continue
        f = scope.resolve(name)
        assert f is not None, name
        out[f.name] = _value(f.type, value, f.children.form if f.children else None)
    return out


def _value(t: T, value: Any, child_form: str | None) -> Any:
    if value is None:
        return None
    if t == T.DECIMAL:
        return Decimal(str(value))
    if t == T.DATETIME:
        value = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        return value.replace(tzinfo=UTC)
    if t == T.DURATION:
        return dt.timedelta(seconds=value)
    if t == T.TIME:
        return dt.time.fromisoformat(value)
    if t == T.TABLE:
        return [convert(child_form or "", row) for row in value]
    return value


def same(got: Any, expected: Any) -> bool:
    if (
        isinstance(got, (Decimal, float))
        and not isinstance(got, bool)
        or isinstance(expected, str)
        and isinstance(got, (int, float))
    ):
        try:
            return round(Decimal(str(got)), 6) == round(Decimal(str(expected)), 6)
        except Exception:  # noqa: BLE001
            return False
    if isinstance(got, str) and isinstance(expected, dt.date):
        return got[:10] == expected.isoformat()
    return bool(got == expected and type(got) is type(expected) or got == expected and not isinstance(got, bool))


IDS = [f"{i}:{c['expr']}" for i, c in enumerate(CASES)]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_python(case: dict[str, Any], db: Any, ctx: Any) -> None:
    scope = SCOPES["sales_order"]
    ce = compile_expression(case["expr"], scope)
    record = convert("sales_order", case["record"])
    old = convert("sales_order", case["old"]) if "old" in case else None
    record.setdefault("id", 10_000)
    with db.record(record):
        got = ce.evaluate(record, ctx, old=old, data=db)
    assert same(got, case["expect"]), f"{case['expr']}: got {got!r}, expected {case['expect']!r}\n{ce.python_source}"


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.get("sql", True)], ids=[i for i, c in zip(IDS, CASES) if c.get("sql", True)]
)
def test_sql(case: dict[str, Any], db: Any, ctx: Any) -> None:
    scope = SCOPES["sales_order"]
    ce = compile_expression(case["expr"], scope)
    record = convert("sales_order", case["record"])
    t = db.table("sales_order")
    clause = ce.to_sql(db, ctx)
    with db.record(record) as rid:
        if ce.type == T.BOOLEAN:
            got: Any = db.conn.execute(sa.select(t.c.id).where(clause, t.c.id == rid)).first() is not None
        else:
            got = db.conn.execute(sa.select(clause).where(t.c.id == rid)).scalar()
    assert same(got, case["expect"]), f"{case['expr']}: got {got!r}, expected {case['expect']!r}"
