"""Decision tables: the approval route in YAML, hit policies, every cell kind, outputs, defaults."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import pytest

from engine.context import FixedClock, RunContext
from engine.expr import FieldInfo, Scope
from engine.expr.types import ExprType as T
from engine.rules.decision import compile_decision_table
from engine.rules.decision_files import load_decision_yaml, read_decision_yaml

DATA = Path(__file__).with_name("decision_data")
CUSTOMER = Scope(
    "customer",
    {
        f.name: f
        for f in [
            FieldInfo("name", T.STRING),
            FieldInfo("tier", T.STRING, ("客户等级",)),
            FieldInfo("credit_limit", T.DECIMAL),
        ]
    },
    "1",
)
FORMS: dict[str, Scope] = {}
SCOPE = Scope(
    "sales_order",
    {
        f.name: f
        for f in [
            FieldInfo("amount", T.DECIMAL, ("金额",)),
            FieldInfo("tier", T.STRING, ("等级",)),
            FieldInfo("channel", T.STRING, ("渠道",)),
            FieldInfo("qty", T.INTEGER),
            FieldInfo("due", T.DATE),
            FieldInfo("urgent", T.BOOLEAN),
            FieldInfo("note", T.STRING),
            FieldInfo("customer", T.RECORD, link_form="customer"),
        ]
    },
    "1",
    FORMS,
)
FORMS.update(sales_order=SCOPE, customer=CUSTOMER)


def load(name: str) -> Any:
    path = DATA / name
    return load_decision_yaml(path.read_text(encoding="utf-8"), f"rules/{name}", FORMS)


def order(
    amount: Optional[int], tier: Optional[str] = None, channel: Optional[str] = None, **kw: Any
) -> dict[str, Any]:
    return {"amount": None if amount is None else Decimal(amount), "tier": tier, "channel": channel, **kw}


@pytest.mark.parametrize(
    "record, route",
    [
        (order(100, "A", "shop"), "auto"),
        (order(49_999, "A", "web"), "auto"),
        (order(50_000, "A", "shop"), "manager"),
        (order(200_000, "A", "web"), "gm"),
        (order(250_000, "B", "api"), "gm"),
        (order(9_999, "B", "api"), "auto"),
        (order(10_000, "B", "api"), "manager"),
        (order(5_000, "C", "shop"), "manager"),
        (order(None, "A", "web"), "manager"),  # a null amount passes only '-'
        (order(100, None, None), "manager"),
    ],
)
def test_approval_route_first(record: dict[str, Any], route: str) -> None:
    table = load("approval.decision.yaml")
    assert table.evaluate(record) == {"route": route}
    assert table.name == "approval_route" and table.label == "审批路线" and table.hit == "first"
    assert [i.name for i in table.inputs] == ["tier", "amount", "channel"]
    assert [(o.name, o.type) for o in table.outputs] == [("route", T.STRING)]
    assert table.inputs[0].label == "客户等级" and table.inputs[0].options == ("A", "B", "C")
    assert table.warnings == ()
    assert table.names == {"tier", "amount", "channel"}


def test_generated_code_is_straight_line_and_reads_each_input_once() -> None:
    table = load("approval.decision.yaml")
    src = table.python_source
    assert src.count("r.get('amount')") == 1 and src.count("r.get('tier')") == 1
    assert "for " not in src and "eval(" not in src

    class Counting(dict):  # type: ignore[type-arg]
        reads: list[str] = []

        def get(self, key: str, default: Any = None) -> Any:
            self.reads.append(key)
            return super().get(key, default)

    rec = Counting(order(60_000, "B", "shop"))
    assert table.evaluate(rec) == {"route": "manager"}
    assert sorted(rec.reads) == ["amount", "channel", "tier"]


@pytest.mark.parametrize(
    "record, flags",
    [
        (order(100, "A", "web"), [("trusted", 1), ("online", 1)]),
        (order(300_000, "A", "web"), [("large", 3)]),
        (order(200_000, "B", "shop"), [("large", 3), ("review", 2)]),  # overlapping rows both fire
        (order(60_000, "C", "shop"), [("review", 2)]),
        (order(20_000, "C", "shop"), []),
    ],
)
def test_collect_returns_every_matching_row(record: dict[str, Any], flags: list[tuple[str, int]]) -> None:
    table = load("approval_collect.decision.yaml")
    assert table.hit == "collect"
    assert [(o["flag"], o["weight"]) for o in table.evaluate(record)] == flags


def test_same_rows_first_vs_collect() -> None:
    data = read_decision_yaml((DATA / "approval.decision.yaml").read_text(encoding="utf-8"), "a.yaml")
    first = compile_decision_table(data, SCOPE, file="a.yaml")
    data["hit"] = "collect"
    collect = compile_decision_table(data, SCOPE, file="a.yaml")
    rec = order(100, "A", "web")
    assert first.evaluate(rec) == {"route": "auto"}
    assert collect.evaluate(rec) == [{"route": "auto"}, {"route": "auto"}, {"route": "manager"}]


def table(cell: Any, input: Any = "amount", hit: str = "collect", **extra: Any) -> Any:
    node = {
        "form": "sales_order",
        "hit": hit,
        "inputs": [input],
        "outputs": [{"name": "hit", "type": "boolean"}],
        "rows": [[cell, True]],
        **extra,
    }
    return compile_decision_table(node, SCOPE, file="t.yaml")


def fires(cell: Any, value: Any, input: Any = "amount", field: str = "amount") -> bool:
    return bool(table(cell, input).evaluate({field: value}))


@pytest.mark.parametrize(
    "cell, value, expected",
    [
        ("-", None, True),
        ("", None, True),
        (None, 5, True),
        ("any", 5, True),
        (10000, Decimal(10000), True),
        ("10000", Decimal(10001), False),
        (">= 10000", Decimal(10000), True),
        ("> 10000", Decimal(10000), False),
        ("< 5", Decimal("4.99"), True),
        ("<= 5", Decimal(5), True),
        ("!= 5", Decimal(5), False),
        ("== 5", Decimal(5), True),
        ("= 5", Decimal(5), True),
        ("IN [5]", Decimal(5), True),
        (">= 10000", None, False),
        ("[1000..5000)", Decimal(1000), True),
        ("[1000..5000)", Decimal(5000), False),
        ("(1000..5000]", Decimal(1000), False),
        ("(1000..5000]", Decimal(5000), True),
        ("[ 1000 .. 5000 ]", Decimal(5000), True),
        ("[1000..5000)", None, False),
        ("between 1000 and 5000", Decimal(5000), True),
        ("between 1000 and 5000", Decimal(999), False),
        ("1, 2, 3", Decimal(2), True),
        ("1, 2, 3", Decimal(4), False),
        ("in [1, 2]", Decimal(1), True),
        ("not in [1, 2]", Decimal(3), True),
        ("not in [1, 2]", Decimal(1), False),
        ("? > 10 and ? < 20", Decimal(15), True),
        ("? > 10 and ? < 20", Decimal(25), False),
        ("? is empty or ? > 100", None, True),
        ("is empty", None, True),
        ("is not empty", Decimal(0), True),
        ("round(?) == 3", Decimal("2.6"), True),
    ],
)
def test_numeric_cells(cell: Any, value: Any, expected: bool) -> None:
    assert fires(cell, value) is expected


@pytest.mark.parametrize(
    "cell, value, expected",
    [
        ("A", "A", True),
        ("A", "B", False),
        ('"A"', "A", True),
        ("'A B'", "A B", True),
        ("A, B", "B", True),
        ('"A", "B"', "C", False),
        ("华东, 华南", "华南", True),
        ('in ["web", "api"]', "api", True),
        ('not in ["web", "api"]', "shop", True),
        ('!= "A"', "B", True),
        ('contains "VIP"', "a VIP", True),
        ('startswith "W"', "Web", True),
        ("? == note", "x", False),
        ('? + "!" == "A!"', "A", True),
        ("A", None, False),
    ],
)
def test_text_cells(cell: Any, value: Any, expected: bool) -> None:
    assert fires(cell, value, "tier", "tier") is expected


def test_date_boolean_and_integer_cells() -> None:
    assert table("[2026-01-01..2026-02-01)", "due").evaluate({"due": dt.date(2026, 1, 31)})
    assert not table(">= 2026-02-01", "due").evaluate({"due": dt.date(2026, 1, 31)})
    assert table("true", "urgent").evaluate({"urgent": True})
    assert not table(True, "urgent").evaluate({"urgent": False})
    assert table("[1..10]", "qty").evaluate({"qty": 10})


def test_input_expressions_links_and_labels() -> None:
    class Data:
        tables = None

        def fetch(self, form: str, ident: int) -> Any:
            return {"tier": "A", "credit_limit": Decimal(500)} if (form, ident) == ("customer", 7) else None

        def scalar(self, statement: Any) -> Any:  # pragma: no cover - not used
            raise AssertionError

    node = {
        "form": "sales_order",
        "inputs": [{"name": "ctier", "expr": "customer.tier"}, {"name": "big", "expr": "amount * 2", "label": "两倍"}],
        "outputs": ["route"],
        "rows": [{"ctier": "A", "两倍": "> customer.credit_limit", "route": "check"}, {"ctier": "A", "route": "auto"}],
        "default": {"route": "manager"},
    }
    t = compile_decision_table(node, SCOPE, file="t.yaml")
    assert t.inputs[0].type == T.STRING and t.inputs[1].type == T.DECIMAL
    assert t.evaluate({"customer": 7, "amount": Decimal(300)}, None, Data()) == {"route": "check"}
    assert t.evaluate({"customer": 7, "amount": Decimal(200)}, None, Data()) == {"route": "auto"}
    assert t.evaluate({"customer": 8, "amount": Decimal(1)}, None, Data()) == {"route": "manager"}
    assert {"customer.tier", "amount", "customer.credit_limit"} <= t.names


def test_field_labels_resolve_as_inputs() -> None:
    t = table("< 10", "金额")
    assert t.inputs[0].type == T.DECIMAL and t.evaluate({"amount": Decimal(1)})


def test_outputs_are_expressions_of_their_type() -> None:
    ctx = RunContext(user_id=1, clock=FixedClock(dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)))
    node = {
        "form": "sales_order",
        "hit": "first",
        "inputs": ["amount"],
        "outputs": [
            {"name": "discount", "type": "decimal"},
            {"name": "route", "type": "string"},
            {"name": "note", "type": "string"},
        ],
        "rows": [[">= 1000", "amount * 0.05", "gm", '"big: " + channel'], ["-", 0, "auto", None]],
    }
    t = compile_decision_table(node, SCOPE, file="t.yaml")
    assert t.evaluate({"amount": Decimal(2000), "channel": "web"}, ctx) == {
        "discount": Decimal("100.00"),
        "route": "gm",
        "note": "big: web",
    }
    out = t.evaluate({"amount": Decimal(1)}, ctx)
    assert out == {"discount": 0, "route": "auto", "note": None} and type(out["discount"]) is Decimal


def test_first_without_match_gives_default_or_none_and_collect_default() -> None:
    rows = {"form": "sales_order", "inputs": ["amount"], "outputs": ["route"], "rows": [["> 10", "x"]]}
    assert compile_decision_table(rows, SCOPE).evaluate({"amount": 1}) is None
    assert compile_decision_table({**rows, "default": {"route": "y"}}, SCOPE).evaluate({"amount": 1}) == {"route": "y"}
    collect = compile_decision_table({**rows, "hit": "collect", "default": {"route": "y"}}, SCOPE)
    assert collect.evaluate({"amount": 1}) == [{"route": "y"}]
    assert collect.evaluate({"amount": 11}) == [{"route": "x"}]


def test_results_are_read_only() -> None:
    out = load("approval.decision.yaml").evaluate(order(1, "A"))
    with pytest.raises(TypeError):
        out["route"] = "hacked"  # type: ignore[index]


def test_yaml_list_in_a_row_is_one_of() -> None:
    text = "form: sales_order\ninputs: [channel]\noutputs: [route]\nrows:\n  - [[web, api], online]\n"
    t = load_decision_yaml(text, "t.decision.yaml", FORMS)
    assert t.evaluate({"channel": "api"}) == {"route": "online"} and t.evaluate({"channel": "x"}) is None


def test_compile_pack_decisions_collects_every_table_and_every_error() -> None:
    from engine.errors import DefinitionErrors
    from engine.rules.decision_files import compile_pack_decisions

    good = (DATA / "approval.decision.yaml").read_text(encoding="utf-8")
    files = {
        "rules/approval.decision.yaml": good,
        "rules/order.rules": "not a table",
        "rules/flags.decision.yaml": (DATA / "approval_collect.decision.yaml").read_text(encoding="utf-8"),
        "forms/x.yaml": "name: x",
    }
    tables = compile_pack_decisions(files, FORMS, display=lambda rel: "packs/sales/" + rel)
    assert sorted(tables) == ["approval_flags", "approval_route"]
    files["rules/copy.decision.yaml"] = good
    files["rules/bad.decision.yaml"] = good.replace("'< 50000'", "'< x'")
    with pytest.raises(DefinitionErrors) as info:
        compile_pack_decisions(files, FORMS, display=lambda rel: "packs/sales/" + rel)
    assert [str(e).splitlines()[0] for e in info.value.errors] == [
        "packs/sales/rules/bad.decision.yaml:13:12: unknown field 'x' in sales_order",
        "packs/sales/rules/copy.decision.yaml: decision table 'approval_route' is defined twice "
        "(first in packs/sales/rules/approval.decision.yaml)",
    ]


def test_select_options_from_the_pack_feed_gap_warnings() -> None:
    from types import SimpleNamespace as NS

    from engine.rules.decision_files import select_options

    forms = [
        NS(
            name="sales_order",
            fields=[NS(name="channel", options=[NS(value="web"), NS(value="shop")]), NS(name="amount", options=())],
        ),
        NS(name="customer", fields=[NS(name="tier", options=[NS(value="A"), NS(value="B")])]),
    ]
    options = select_options(forms)
    assert options == {"sales_order.channel": ("web", "shop"), "customer.tier": ("A", "B")}
    node = {
        "form": "sales_order",
        "inputs": ["channel", {"name": "t", "expr": "customer.tier"}],
        "outputs": ["route"],
        "rows": [["web", "A", "x"], ["shop", "-", "y"]],
    }
    t = compile_decision_table(node, SCOPE, options=options)
    assert [w.message for w in t.warnings] == ['no row covers: channel = "web", t = "B"']
    assert t.inputs[0].options == ("web", "shop")
    without = compile_decision_table(node, SCOPE)
    assert [w.message for w in without.warnings] == [
        'no row covers: channel != "shop", t != "A"',
        'no row covers: channel not in ["shop", "web"], t = "A"',
    ]
