"""Decision tables kept in Excel give the same table as the YAML file (a real .xlsx made here)."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from engine.errors import DefinitionErrors
from engine.expr import FieldInfo, Scope
from engine.expr.types import ExprType as T
from engine.rules.decision_files import load_decision_xlsx, load_decision_yaml
from engine.rules.decision_xlsx import read_decision_xlsx

SCOPE = Scope(
    "sales_order",
    {
        f.name: f
        for f in [
            FieldInfo("amount", T.DECIMAL, ("金额",)),
            FieldInfo("tier", T.STRING),
            FieldInfo("channel", T.STRING),
        ]
    },
    "1",
)
FORMS = {"sales_order": SCOPE}
YAML = Path(__file__).with_name("decision_data") / "approval.decision.yaml"
SHEET: list[list[Any]] = [
    ["名称", "approval_route"],
    ["form", "sales_order"],
    ["命中策略", "first"],
    [],
    ["输入", "in", "in", "out"],
    ["客户等级 = tier", "金额 = amount", "渠道 = channel", "审批路线 = route"],
    ["A", "< 50000", "-", "auto"],
    [None, ">= 200000", None, "gm"],
    ["-", "< 10000", "web, api", "auto"],
    [],
    ["-", "-", "-", "manager"],
]


def write(path: Path, rows: list[list[Any]], title: str = "Rules") -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_and_yaml_give_identical_results(tmp_path: Path) -> None:
    xlsx = load_decision_xlsx(str(write(tmp_path / "approval.xlsx", SHEET)), FORMS)
    yaml = load_decision_yaml(YAML.read_text(encoding="utf-8"), "approval.decision.yaml", FORMS)
    assert xlsx.name == yaml.name == "approval_route" and xlsx.hit == "first"
    assert [(i.name, i.type, i.label) for i in xlsx.inputs] == [
        ("tier", T.STRING, "客户等级"),
        ("amount", T.DECIMAL, "金额"),
        ("channel", T.STRING, "渠道"),
    ]
    assert [(o.name, o.type, o.label) for o in xlsx.outputs] == [("route", T.STRING, "审批路线")]
    amounts = [None, 0, 9_999, 10_000, 49_999, 50_000, 199_999, 200_000, 10**7]
    for amount, tier, channel in itertools.product(amounts, ["A", "B", None], ["web", "api", "shop", None]):
        rec = {"amount": None if amount is None else Decimal(amount), "tier": tier, "channel": channel}
        assert xlsx.evaluate(rec) == yaml.evaluate(rec), rec


def test_read_gives_the_yaml_structure(tmp_path: Path) -> None:
    data = read_decision_xlsx(write(tmp_path / "a.xlsx", SHEET))
    assert data["name"] == "approval_route" and data["form"] == "sales_order" and data["hit"] == "first"
    assert data["inputs"] == [
        {"name": "tier", "label": "客户等级"},
        {"name": "amount", "label": "金额"},
        {"name": "channel", "label": "渠道"},
    ]
    assert data["outputs"] == [{"name": "route", "type": "string", "label": "审批路线"}]
    assert data["rows"][1] == [None, ">= 200000", None, "gm"] and len(data["rows"]) == 4


def test_numbers_types_and_plain_headers(tmp_path: Path) -> None:
    rows = [["in", "out:decimal", "OUT"], ["amount", "rate", "route"], [10000, 0.5, "big"], ["< 10000", "0.1", "small"]]
    t = load_decision_xlsx(str(write(tmp_path / "r.xlsx", [["form", "sales_order"], *rows])), FORMS)
    assert t.outputs[0].type == T.DECIMAL
    assert t.evaluate({"amount": Decimal(10000)}) == {"rate": Decimal("0.5"), "route": "big"}
    assert t.evaluate({"amount": Decimal(1)}) == {"rate": Decimal("0.1"), "route": "small"}


def test_errors_name_the_sheet_and_cell(tmp_path: Path) -> None:
    bad = [row[:] for row in SHEET]
    bad[8][1] = "< 1000o"
    path = write(tmp_path / "bad.xlsx", bad)
    with pytest.raises(DefinitionErrors) as info:
        load_decision_xlsx(str(path), FORMS)
    assert str(info.value) == (
        f"{path}[Rules!B9]:1:7: unexpected 'o'; expected one of: * / or %, + or -, and, or, the end of the "
        "expression\n    < 1000o\n          ^"
    )
    shadow = [row[:] for row in SHEET] + [["B", "< 5", "-", "auto"]]
    with pytest.raises(DefinitionErrors) as info:
        load_decision_xlsx(str(write(tmp_path / "s.xlsx", shadow)), FORMS)
    assert str(info.value).startswith(f"{tmp_path / 's.xlsx'}[Rules!A12]: row 5 can never fire: row 4 above")
    unknown = [row[:] for row in SHEET]
    unknown[5][1] = "金额 = amout"
    with pytest.raises(DefinitionErrors) as info:
        load_decision_xlsx(str(write(tmp_path / "u.xlsx", unknown)), FORMS)
    assert str(info.value).startswith(
        f"{tmp_path / 'u.xlsx'}[Rules!B6]:1:6: unknown field 'amout' in sales_order (did you mean 'amount'?)"
    )


def test_a_sheet_without_markers(tmp_path: Path) -> None:
    with pytest.raises(DefinitionErrors) as info:
        read_decision_xlsx(write(tmp_path / "e.xlsx", [["amount", "route"], ["< 5", "x"]], "表1"))
    assert "no decision table found" in str(info.value) and "[表1]" in str(info.value)


def test_workbook_bytes(tmp_path: Path) -> None:
    content = write(tmp_path / "a.xlsx", SHEET).read_bytes()
    t = load_decision_xlsx("packs/sales/rules/approval.decision.xlsx", FORMS, content=content)
    assert t.evaluate({"amount": Decimal(5), "tier": "A", "channel": None}) == {"route": "auto"}
