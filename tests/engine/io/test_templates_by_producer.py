"""run.py forms from-excel on one shop's template as Excel, WPS and LibreOffice save it; the
form it drafts passes run.py check, is published, and computes what Excel computed."""

from __future__ import annotations

import csv
import json
import os

import pytest
import yaml

from tests.engine.io.shop_template import AMOUNTS, COLOURS, LINES, SPECS, order_template
from tests.engine.io.workbooks import PRODUCERS

PACK_YAML = 'name: shop\nversion: "0.1.0"\nlabel: {zh-CN: 五金店, en: Hardware shop}\n'
ROLES_YAML = "roles:\n  admin:\n    label: {zh-CN: 管理员, en: Administrator}\n    superuser: true\n"


def _fields(doc):
    out = {}
    for f in doc["fields"]:
        out[f["name"]] = f
        for child in f.get("fields", []):
            out[f"lines.{child['name']}"] = child
    return out


def _shape(doc):
    """(name, type, options, formula, rollup) of every field, for comparing drafts."""
    return [(n, f["type"], f.get("options"), f.get("formula"), f.get("rollup")) for n, f in _fields(doc).items()]


EXPECTED = [
    ("order_no", "text", None, None, None),
    ("customer_name", "text", None, None, None),
    ("order_date", "date", None, None, None),
    ("delivery_date", "date", None, None, None),  # dates kept as text, four ways
    ("payment_method", "select", ["月结", "现结", "预付"], None, None),
    ("lines", "table", None, None, None),
    ("lines.product_name", "select", ["不锈钢合页", "铜把手", "门吸"], None, None),
    ("lines.color", "select", COLOURS, None, None),  # defined name -> hidden sheet, all five
    ("lines.qty", "integer", None, None, None),
    ("lines.unit_price", "money", None, None, None),
    ("lines.discount", "percent", None, None, None),
    ("lines.amount", "money", None, "round(qty * unit_price * (1 - discount), 2)", None),
    ("lines.unit", "text", None, None, None),  # VLOOKUP: an input field, with a note
    ("lines.spec", "select", SPECS, None, None),  # a range on the hidden sheet
    ("qty_total", "rollup", None, None, "sum(lines.qty)"),  # the 合计 row
    ("amount_total", "rollup", None, None, "sum(lines.amount)"),
]


@pytest.mark.parametrize("producer", PRODUCERS)
def test_the_draft_of_each_producers_file(cli, tmp_path, producer):
    path = order_template(producer, tmp_path / "销售订单模板.xlsx", totals=True)
    code, out, err = cli("forms", "from-excel", path, "--name", "sales_order")
    assert (code, err) == (0, "")
    doc = yaml.safe_load(out)
    assert doc["label"] == {"zh-CN": "宁波海曙五金有限公司销售订单"} and doc["title"] == "order_no"
    assert _shape(doc) == EXPECTED
    fields = _fields(doc)
    assert fields["lines.unit_price"]["currency"] == "CNY" and fields["amount_total"]["currency"] == "CNY"
    assert not any("required" in f or "unique" in f for f in fields.values())  # hints only
    lines = out.splitlines()
    amount = lines.index("        formula: round(qty * unit_price * (1 - discount), 2)")
    assert lines[amount - 1] == "        # Excel: =ROUND(H3*I3*(1-J3),2)"
    assert "      # 按输入字段生成: 公式 =VLOOKUP(F3,字典!$C$2:$D$4,2,FALSE) 无法转换 (没有对应的函数 VLOOKUP)" in lines
    assert "    # 下拉列表: ColorList".strip() in out and "# 下拉列表: 字典!$B$2:$B$4" in out
    key = lines.index("  - name: order_no")
    assert lines[key + 4 : key + 6] == [
        "    # unique: true    # 提示: 样例中没有重复值; 若是唯一编号, 去掉本行开头的 #",
        "    # required: true    # 提示: 样例每一行都填了; 若必须填写, 去掉本行开头的 #",
    ]
    assert "# 提示" not in out.split("- name: amount")[1].split("- name: unit")[0]  # no hints on a formula
    code, out_en, _ = cli("forms", "from-excel", path, "--name", "sales_order", "--lang", "en")
    assert code == 0 and yaml.safe_load(out_en) == doc
    assert (
        "# an input field: the formula =VLOOKUP(F3,字典!$C$2:$D$4,2,FALSE) was not translated "
        "(no counterpart of the function VLOOKUP)" in out_en
    )


@pytest.mark.parametrize("producer", PRODUCERS)
def test_the_draft_checks_publishes_and_computes_as_excel_did(cli, tmp_path, producer):
    pack = tmp_path / "shop"
    (pack / "forms").mkdir(parents=True)
    (pack / "pack.yaml").write_text(PACK_YAML, encoding="utf-8")
    (pack / "roles.yaml").write_text(ROLES_YAML, encoding="utf-8")
    template = order_template(producer, tmp_path / "模板.xlsx", totals=True)
    target = pack / "forms" / "sales_order.yaml"
    code, out, _ = cli("forms", "from-excel", template, "--name", "sales_order", "--out", str(target))
    assert code == 0 and out.startswith(f"wrote {target}")
    assert cli("check", str(pack)) == (0, f"{pack}: ok\n", "")
    draft = target.read_text(encoding="utf-8")
    target.write_text(draft.replace("* (1 - discount)", "* (1 - discont)"), encoding="utf-8")  # the check is real
    code, _, err = cli("check", str(pack))
    assert code == 1 and "unknown field 'discont'" in err
    target.write_text(draft, encoding="utf-8")
    assert cli("migrate", str(pack))[0] == 0
    assert cli("user", "add", "boss", "--role", "admin", "--password", "x12345678")[0] == 0
    data = order_template(producer, tmp_path / "订单.xlsx")  # the same sheet, filled in
    code, out, err = cli("data", "import", "sales_order", data)
    report = json.loads(out)
    assert code == 0, report["errors"]
    assert (report["created"], report["failed"]) == (5, 0) and report["columns"]["金额"] == "lines.amount"
    export = tmp_path / "out.csv"
    assert cli("data", "export", "sales_order", str(export), "--sort", "order_no")[0] == 0
    with open(export, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r["明细.金额"]) for r in rows] == AMOUNTS  # computed here as Excel had it
    assert [r["交货日期"] for r in rows] == [
        "2026-11-08",
        "2026-11-08",
        "2026-11-09",
        "2026-11-10",
        "2026-11-10",
        "2026-11-12",
        "2026-11-13",
    ]
    assert [r["明细.折扣"] for r in rows][:3] == ["0.1000", "0.0000", "0.0500"]
    totals = {r["订单号"]: float(r["金额合计"]) for r in rows}
    assert totals == {"SO-001": 172.5, "SO-002": 59.38, "SO-003": 344.0, "SO-004": 64.0, "SO-005": 100.0}
    assert {r["明细.颜色"] for r in rows} == {x[6] for x in LINES}
    assert os.path.exists(target)
