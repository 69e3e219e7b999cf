"""Property: for random well-typed expressions and random records, Python == SQL."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.context import FixedClock, RunContext
from engine.expr import compile_expression

from .conftest import NOW, SCOPES

SO = SCOPES["sales_order"]
CTX = RunContext(user_id=7, roles=frozenset({"sales"}), customer_id=1, clock=FixedClock(NOW))

ints = st.integers(-50, 50)
decs = st.decimals(min_value=-500, max_value=500, places=2, allow_nan=False, allow_infinity=False)
texts = st.text(alphabet="abcAB z1-", max_size=5)
dates = st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31))
datetimes = st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2027, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=dt.timezone.utc)
)
LINES = st.lists(
    st.fixed_dictionaries({}, optional={"qty": st.none() | ints, "unit_price": st.none() | decs}), max_size=3
)


def lit_text(s: str) -> str:
    return '"' + s + '"'


CMP = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])


def compare(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(values, CMP, values).map(lambda t: f"{t[0]} {t[1]} {t[2]}")


def grammar(depth: int) -> dict[str, st.SearchStrategy[str]]:
    """Strategies of well-typed expressions, nested at most ``depth`` levels."""
    leaf = {
        "int": st.one_of(st.sampled_from(["qty", "stock"]), ints.map(str)),
        "dec": st.one_of(st.sampled_from(["total", "discount"]), decs.map(str)),
        "text": st.one_of(st.sampled_from(["status", "note"]), texts.map(lit_text)),
        "date": st.one_of(st.sampled_from(["due", "shipped"]), dates.map(lambda d: d.isoformat())),
        "dt": st.one_of(st.just("created"), datetimes.map(lambda d: d.strftime("%Y-%m-%dT%H:%M"))),
    }
    if depth == 0:
        leaf["bool"] = st.one_of(
            st.sampled_from(["approved", "true", "false"]),
            compare(leaf["int"]),
            compare(leaf["dec"]),
            compare(leaf["text"]),
            compare(leaf["date"]),
            compare(leaf["dt"]),
        )
        return leaf
    sub = grammar(depth - 1)
    INT, DEC, TEXT, DATE, BOOL = sub["int"], sub["dec"], sub["text"], sub["date"], sub["bool"]
    out = {
        "int": st.one_of(
            leaf["int"],
            st.tuples(INT, st.sampled_from(["+", "-", "*"]), INT).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            INT.map(lambda x: f"-({x})"),
            INT.map(lambda x: f"abs({x})"),
            st.tuples(INT, ints).map(lambda t: f"coalesce({t[0]}, {t[1]})"),
            st.tuples(BOOL, INT, INT).map(lambda t: f"if({t[0]}, {t[1]}, {t[2]})"),
            TEXT.map(lambda s: f"len({s})"),
            st.tuples(INT, INT).map(lambda t: f"max({t[0]}, {t[1]})"),
            st.tuples(INT, INT, INT).map(lambda t: f"min({t[0]}, {t[1]}, {t[2]})"),
            st.just("sum(lines.qty)"),
            st.just("count(lines)"),
            st.just("count(lines.unit_price)"),
            ints.map(lambda k: f"count(lines where qty > {k})"),
            st.just("count(lines where qty > this.stock)"),
        ),
        "dec": st.one_of(
            leaf["dec"],
            st.tuples(DEC, st.sampled_from(["+", "-"]), DEC).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(DEC, INT).map(lambda t: f"({t[0]} * {t[1]})"),
            DEC.map(lambda d: f"round({d}, 1)"),
            st.just("sum(lines.qty * lines.unit_price)"),
            st.just("max(lines.unit_price)"),
        ),
        "text": st.one_of(
            leaf["text"],
            st.tuples(st.sampled_from(["lower", "upper", "trim"]), TEXT).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(TEXT, TEXT).map(lambda t: f"concat({t[0]}, {t[1]})"),
        ),
        "date": st.one_of(
            leaf["date"],
            st.tuples(DATE, st.integers(-40, 40)).map(
                lambda t: f"({t[0]} + {t[1]}d)" if t[1] >= 0 else f"({t[0]} - {-t[1]}d)"
            ),
        ),
        "dt": st.one_of(
            leaf["dt"],
            st.tuples(sub["dt"], st.integers(-600, 600), st.sampled_from(["m", "h"])).map(
                lambda t: f"({t[0]} + {t[1]}{t[2]})" if t[1] >= 0 else f"({t[0]} - {-t[1]}{t[2]})"
            ),
        ),
    }
    out["bool"] = st.one_of(
        sub["bool"],
        compare(out["int"]),
        compare(out["dec"]),
        compare(out["text"]),
        compare(out["date"]),
        compare(out["dt"]),
        st.tuples(out["dt"], out["dt"], st.integers(-90, 90)).map(lambda t: f"{t[0]} - {t[1]} > {abs(t[2])}m"),
        st.tuples(DATE, DATE).map(lambda t: f"days_between({t[0]}, {t[1]}) > 3"),
        st.sampled_from(["exists(lines)", "exists(lines where unit_price > 10)"]),
        st.tuples(INT, DEC).map(lambda t: f"{t[0]} < {t[1]}"),
        st.tuples(INT, st.lists(ints, max_size=3)).map(lambda t: f"{t[0]} in [{', '.join(map(str, t[1]))}]"),
        st.tuples(TEXT, st.sampled_from(["contains", "startswith", "endswith", "not in"]), texts).map(
            lambda t: f"{t[0]} {t[1]} {lit_text(t[2])}" if t[1] != "not in" else f"{t[0]} not in [{lit_text(t[2])}]"
        ),
        st.tuples(INT, INT, INT).map(lambda t: f"{t[0]} between {t[1]} and {t[2]}"),
        st.tuples(DATE, DATE, DATE).map(lambda t: f"{t[0]} between {t[1]} and {t[2]}"),
        st.sampled_from(["qty", "note", "status", "due", "total", "approved"]).map(lambda f: f"{f} is empty"),
        st.sampled_from(["qty", "note", "total"]).map(lambda f: f"{f} == null"),
        st.tuples(DATE, DATE, ints).map(lambda t: f"{t[0]} - {t[1]} > {t[2]}"),
        BOOL.map(lambda b: f"not ({b})"),
        st.tuples(BOOL, st.sampled_from(["and", "or"]), BOOL).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    )
    return out


G = grammar(2)
BOOL, INT, DEC = G["bool"], G["int"], G["dec"]

RECORDS = st.fixed_dictionaries(
    {},
    optional={
        "qty": st.none() | ints,
        "stock": st.none() | ints,
        "total": st.none() | decs,
        "discount": st.none() | decs,
        "status": st.none() | texts,
        "note": st.none() | texts,
        "due": st.none() | dates,
        "shipped": st.none() | dates,
        "approved": st.none() | st.booleans(),
        "created": st.none() | datetimes,
        "lines": LINES,
    },
)


@settings(
    max_examples=int(os.environ.get("EXPR_PROPERTY_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
@given(source=BOOL, record=RECORDS)
def test_python_equals_sql(db: Any, source: str, record: dict[str, Any]) -> None:
    ce = compile_expression(source, SO)
    py = ce.evaluate(record, CTX, data=db)
    assert isinstance(py, bool), (source, py)
    t = db.table("sales_order")
    with db.record(record) as rid:
        row = db.conn.execute(sa.select(t.c.id).where(ce.to_sql(db, CTX), t.c.id == rid)).first()
    assert py == (row is not None), f"{source}\nrecord={record}\n{ce.python_source}"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(source=st.one_of(INT, DEC), record=RECORDS)
def test_python_equals_sql_values(db: Any, source: str, record: dict[str, Any]) -> None:
    ce = compile_expression(source, SO)
    py = ce.evaluate(record, CTX, data=db)
    t = db.table("sales_order")
    with db.record(record) as rid:
        got = db.conn.execute(sa.select(ce.to_sql(db, CTX)).where(t.c.id == rid)).scalar()
    if py is None or got is None:
        assert py is None and got is None, (source, record, py, got)
    else:
        assert round(Decimal(str(py)), 6) == round(Decimal(str(got)), 6), (source, record, py, got)
