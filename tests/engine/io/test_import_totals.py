"""Totals rows (合计, 小计, Total) in run.py data import: left out and named in the report,
whether the sheet keeps their formulas or only their numbers; a record that only looks like
one is imported."""

from __future__ import annotations

import csv
import json

import pytest

from tests.docs_example import check_example
from tests.engine.io.conftest import make_xlsx
from tests.engine.io.shop_template import order_template
from tests.engine.io.workbooks import PRODUCERS, Book, F, Sheet

ROLES_YAML = "roles:\n  admin:\n    label: {zh-CN: 管理员, en: Administrator}\n    superuser: true\n"
STOCK_YAML = """name: stock
label: {zh-CN: 入库, en: Stock}
title: item
fields:
  - {name: item, type: text, label: {zh-CN: 品名, en: Item}, required: true}
  - {name: qty, type: integer, label: {zh-CN: 数量, en: Quantity}}
  - {name: amount, type: money, label: {zh-CN: 金额, en: Amount}, currency: CNY}
"""


def _pack(cli, tmp_path, forms):
    pack = tmp_path / "pack"
    (pack / "forms").mkdir(parents=True)
    (pack / "pack.yaml").write_text('name: shop\nversion: "0.1.0"\n', encoding="utf-8")
    (pack / "roles.yaml").write_text(ROLES_YAML, encoding="utf-8")
    for name, text in forms.items():
        (pack / "forms" / f"{name}.yaml").write_text(text, encoding="utf-8")
    assert cli("migrate", str(pack))[0] == 0
    assert cli("user", "add", "boss", "--role", "admin", "--password", "x12345678")[0] == 0
    return pack


def _import(cli, *args):
    code, out, err = cli("data", "import", *map(str, args))
    report = json.loads(out)
    assert code == 0, report["errors"]
    return report, err


def _items(cli, tmp_path, form="stock", column="品名"):
    target = tmp_path / f"{form}.csv"
    assert cli("data", "export", form, str(target), "--sort", "id")[0] == 0
    with open(target, encoding="utf-8-sig") as fh:
        return [r[column] for r in csv.DictReader(fh)]


@pytest.mark.parametrize("producer", PRODUCERS)
def test_the_shop_templates_totals_row_is_skipped_and_said(cli, tmp_path, producer):
    """The template forms from-excel drafted the form from, filled in, with its 合计 row
    (=SUM(H3:H9), =SUM(K3:K9)) under the lines: five orders, and the report says why row 10 is not one."""
    template = order_template(producer, tmp_path / "订单.xlsx", totals=True)
    pack = _pack(cli, tmp_path, {})
    assert (
        cli(
            "forms", "from-excel", template, "--name", "sales_order", "--out", str(pack / "forms" / "sales_order.yaml")
        )[0]
        == 0
    )
    assert cli("migrate", str(pack))[0] == 0
    report, err = _import(cli, "sales_order", template, "--dry-run")
    assert (report["rows"], report["records"], report["created"], report["failed"]) == (7, 5, 5, 0)
    assert report["skipped"] == [{"row": 10, "message": "第 10 行是合计行, 已跳过"}]
    assert "第 10 行是合计行, 已跳过\n" in err
    report, err = _import(cli, "sales_order", template, "--lang", "en")
    assert report["skipped"] == [{"row": 10, "message": "row 10 is a totals row, skipped"}] and report["written"]
    assert "row 10 is a totals row, skipped\n" in err
    orders = _items(cli, tmp_path, "sales_order", "订单号")
    assert sorted(set(orders)) == ["SO-001", "SO-002", "SO-003", "SO-004", "SO-005"] and len(orders) == 7


def test_a_csv_totals_row_is_told_by_its_word_and_its_sums(cli, tmp_path):
    """A CSV keeps no formulas: 合计 (or 小计, 总计, Total:) first, then the sums of the columns
    above (formatted as Excel or a shop's system writes them: ¥, 元, thousands separators); a 小计 per group, then the 总计."""
    _pack(cli, tmp_path, {"stock": STOCK_YAML})
    path = tmp_path / "入库.csv"
    path.write_text(
        '品名,数量,金额\n螺丝,10,5.00\n螺母,1200,1206.50\n合 计：,"1,210","¥1,211.50"\n'
        "垫片,5,1.00\n小计,5,1\n总计,1215,1212.50元\nTotal:,1215,1212.5\n",
        encoding="utf-8",
    )
    report, err = _import(cli, "stock", path)
    assert (report["rows"], report["created"]) == (3, 3)
    assert [s["row"] for s in report["skipped"]] == [4, 6, 7, 8]
    assert err.splitlines()[:4] == [
        "第 4 行是合计行, 已跳过",
        "第 6 行是合计行, 已跳过",
        "第 7 行是合计行, 已跳过",
        "第 8 行是合计行, 已跳过",
    ]
    assert _items(cli, tmp_path) == ["螺丝", "螺母", "垫片"]


def test_a_record_named_like_a_total_is_a_record(cli, tmp_path):
    """合计 first, but numbers that are not the sums above, and no formula totalling a column:
    a record (in a CSV, and in an .xlsx with a formula of its own); the word alone is not enough."""
    _pack(cli, tmp_path, {"stock": STOCK_YAML})
    path = tmp_path / "入库.csv"
    path.write_text("品名,数量,金额\n螺丝,10,5.00\n螺母,20,6.50\n合计,3,1.50\n小计\nTotal,30,abc\n", encoding="utf-8")
    code, out, _ = cli("data", "import", "stock", str(path), "--mode", "skip-invalid")
    report = json.loads(out)
    assert (report["created"], report["failed"], report["skipped"]) == (4, 1, [])
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(6, "金额")]  # Total,30,abc: a bad record
    rows = [["品名", "数量", "金额"], ["垫圈", 4, 2], ["垫片", 6, 3], ["合计", 2, F("B4*2", 4)]]
    book = Book("excel", [Sheet("S", rows)]).save(tmp_path / "入库.xlsx")
    report, _ = _import(cli, "stock", book)
    assert (report["created"], report["skipped"]) == (3, [])
    assert _items(cli, tmp_path) == ["螺丝", "螺母", "合计", "小计", "垫圈", "垫片", "合计"]


def test_an_xlsx_totals_row_by_its_formulas_with_or_without_cached_values(cli, tmp_path):
    """openpyxl writes =SUM(...) without a cached value (the row reads as empty but for its word);
    Excel's SUBTOTAL and AVERAGE count too; a row of pasted sums without formulas by the word rule."""
    _pack(cli, tmp_path, {"stock": STOCK_YAML})
    rows = [
        ["品名", "数量", "金额"],
        ["螺丝", 10, 5],
        ["螺母", 20, 6.5],
        ["合计", "=SUM(B3:B4)", "=SUM(C3:C4)"],
        [None, "=SUBTOTAL(9,B3:B4)", None],
        ["平均", None, "=AVERAGE(C3:C4)"],
        ["总计", 30, 11.5],
    ]
    report, _ = _import(cli, "stock", make_xlsx(tmp_path / "入库.xlsx", rows, title="入库单"))
    assert report["created"] == 2 and [s["row"] for s in report["skipped"]] == [5, 6, 7, 8]
    assert _items(cli, tmp_path) == ["螺丝", "螺母"]


def test_the_docs_example():
    check_example("import-export.md", "Totals rows")
