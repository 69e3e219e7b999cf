"""The public API: AST shape, cache, names, label aliases, generated source, DataAccess use."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from lark import Token, Tree

import engine.expr as expr
from engine.expr import CompiledExpr, ExprError, ExprType, compile_expression, parse
from engine.expr import nodes as n

from .conftest import SCOPES

SO = SCOPES["sales_order"]

SAMPLES = [
    'stock < 20 and status == "approved"',
    'count(sales_order where customer == this.customer and status == "approved") > 2',
    "sum(lines.qty * lines.unit_price) + 1.5 >= total",
    "created + 72h between 2026-11-21 00:00 and 2026-11-21 08:00 and due + 2d > 2026-01-01",
    "if(not approved, [1, 2], []) is empty or note contains 'x' or -qty in [1, 2]",
    '库存 < 安全库存 and customer.region.name startswith "华"',
]


def _walk(value: object) -> list[object]:
    out = [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            out += _walk(getattr(value, f.name))
    elif isinstance(value, (tuple, list)):
        for item in value:
            out += _walk(item)
    return out


@pytest.mark.parametrize("source", SAMPLES)
def test_no_lark_object_survives_parse_or_check(source: str) -> None:
    for tree in (parse(source), compile_expression(source, SO).tree):
        for item in _walk(tree):
            assert not isinstance(item, (Tree, Token)), item
            assert (
                type(item) in (str, int, bool, Decimal, type(None), tuple)
                or isinstance(item, (n.Node, n.Span, ExprType))
                or type(item).__module__ == "datetime"
            ), type(item)


def test_nodes_are_frozen_and_carry_spans() -> None:
    tree = parse("a +\n  b")
    assert isinstance(tree, n.Arith)
    assert (tree.right.span.line, tree.right.span.column) == (2, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.op = "-"  # type: ignore[misc]


def test_compile_is_cached() -> None:
    a = compile_expression("stock < 20", SO)
    assert compile_expression("stock < 20", SO) is a
    assert compile_expression("stock < 20", SO, expect=ExprType.BOOLEAN) is not a
    other_version = dataclasses.replace(SO, version="2")
    assert compile_expression("stock < 20", other_version) is not a


def test_public_api_names() -> None:
    for name in ("compile_expression", "CompiledExpr", "ExprError", "parse", "DataAccess"):
        assert hasattr(expr, name)
    ce = compile_expression("stock < 20", SO)
    assert isinstance(ce, CompiledExpr)
    assert ce.source == "stock < 20" and ce.type == ExprType.BOOLEAN


@pytest.mark.parametrize(
    "source, names",
    [
        ("stock < 20", {"stock"}),
        ('customer.tier == "gold" and owner == me', {"customer.tier", "owner", "me"}),
        ("sum(lines.qty * lines.unit_price) > total", {"lines", "lines.qty", "lines.unit_price", "total"}),
        ("count(lines where qty > this.stock)", {"lines", "lines.qty", "stock"}),
        ("count(lines) > 0", {"lines"}),
        (
            'count(sales_order where customer == this.customer and status == "approved")',
            {"sales_order.customer", "customer", "sales_order.status"},
        ),
        ('"admin" in my.roles or my.customer == customer', {"my.roles", "my.customer", "customer"}),
        ("changed(status) and old.stock > stock", {"status", "old.stock", "stock"}),
        ("库存 < 安全库存", {"stock", "safety_stock"}),
    ],
)
def test_names(source: str, names: set[str]) -> None:
    assert compile_expression(source, SO).names == frozenset(names)


def test_labels_are_aliases() -> None:
    zh = compile_expression("库存 < 安全库存", SO)
    en = compile_expression("stock < safety_stock", SO)
    assert zh.python_source == en.python_source
    rec = {"stock": 3, "safety_stock": 5}
    assert zh.evaluate(rec) is en.evaluate(rec) is True


def test_generated_source_is_a_plain_null_checked_comparison() -> None:
    src = compile_expression("stock < 20", SO).python_source
    assert "return ((_t1 := r.get('stock')) is not None and _t1 < 20)" in src


def test_decimal_constants_are_bound_not_rebuilt() -> None:
    ce = compile_expression("total > 100.50", SO)
    assert "Decimal(" not in ce.python_source
    assert ce.evaluate({"total": Decimal("100.51")}) is True


def test_types() -> None:
    assert compile_expression("total * 2", SO).type == ExprType.DECIMAL
    assert compile_expression("qty * 2", SO).type == ExprType.INTEGER
    assert compile_expression("qty / 2", SO).type == ExprType.DECIMAL
    assert compile_expression("due - shipped", SO).type == ExprType.INTEGER
    assert compile_expression("due + 2d", SO).type == ExprType.DATE
    assert compile_expression("count(lines)", SO).type == ExprType.INTEGER
    assert compile_expression("sum(lines.unit_price)", SO).type == ExprType.DECIMAL


def test_link_without_data_access_is_a_clear_error() -> None:
    ce = compile_expression('customer.tier == "gold"', SO)
    assert ce.evaluate({}) is False  # no id: nothing to fetch
    with pytest.raises(ExprError, match="needs data access"):
        ce.evaluate({"customer": 1})


def test_links_fetch_through_data_access(db: object, ctx: object) -> None:
    ce = compile_expression('customer.region.name == "华东"', SO)
    assert ce.evaluate({"customer": 1}, ctx, data=db) is True


def test_old_and_changed_are_not_sql(db: object, ctx: object) -> None:
    with pytest.raises(ExprError, match="database filter"):
        compile_expression("changed(status)", SO).to_sql(db, ctx)


def test_evaluate_takes_keywords() -> None:
    ce = compile_expression("changed(status)", SO)
    assert ce.evaluate({"status": "b"}, None, old={"status": "a"}) is True
    assert ce.evaluate({"status": "b"}) is False


def test_context_is_required_only_when_used() -> None:
    assert compile_expression("stock < 1", SO).evaluate({"stock": 0}) is True
    with pytest.raises(ExprError, match="pass a RunContext"):
        compile_expression("owner == me", SO).evaluate({"owner": 1})


@pytest.mark.parametrize(
    "source, record, expected",
    [
        ("total * 2", {"total": Decimal("10.25")}, Decimal("20.5")),
        ("due + 2d", {"due": dt.date(2026, 11, 21)}, dt.date(2026, 11, 23)),
        (
            "created + 90m",
            {"created": dt.datetime(2026, 11, 21, 8, 0, tzinfo=dt.timezone.utc)},
            dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc),
        ),
        ("wait + 1h", {"wait": dt.timedelta(minutes=30)}, dt.timedelta(minutes=90)),
        ("qty * 3", {"qty": 2}, 6),
    ],
)
def test_sql_values_come_back_as_python_values(
    db: object, ctx: object, source: str, record: dict, expected: object
) -> None:
    import sqlalchemy as sa

    ce = compile_expression(source, SO)
    assert ce.evaluate(record, ctx) == expected
    t = db.table("sales_order")  # type: ignore[attr-defined]
    with db.record(record) as rid:  # type: ignore[attr-defined]
        got = db.conn.execute(sa.select(ce.to_sql(db, ctx)).where(t.c.id == rid)).scalar()  # type: ignore[attr-defined]
    assert got == expected and type(got) is type(expected), (got, expected)
