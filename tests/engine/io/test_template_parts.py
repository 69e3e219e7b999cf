"""forms from-excel, part by part: header names, drop-down sources, text dates, formula fields
and their fall-backs, totals rows."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
import yaml
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from engine.definitions import load_pack_files
from engine.io.cells import cell_reader
from engine.io.field_names import Namer, header_name
from engine.io.form_from_excel import form_from_excel
from engine.io.textdates import text_date
from tests.engine.io.workbooks import Book, F, N, Sheet

PACK = 'name: imported\nversion: "0.1.0"\n'


def _draft(path, **kw):
    text = form_from_excel(path, name="t", **kw)
    load_pack_files({"pack.yaml": PACK, "forms/t.yaml": text}, root="imported")  # every draft loads
    return text, {f["name"]: f for f in yaml.safe_load(text)["fields"]}


@pytest.mark.parametrize(
    "header, name",
    [
        ("订单号", "order_no"),
        ("客户名称", "customer_name"),
        ("数量", "qty"),
        ("单价", "unit_price"),
        ("含税单价", "incl_tax_unit_price"),
        ("金额（元）", "amount_yuan"),
        ("颜色", "color"),
        ("是否加急", "is_urgent"),
        ("产品编号", "product_no"),
        ("物料编码", "material_code"),
        ("交货日期", "delivery_date"),
        ("备注", "remark"),
        ("重量(kg)", "weight_kg"),
        ("SKU编码", "sku_code"),
        ("包装方式", "bao_zhuang_fang_shi"),
        ("供应商联系人", "supplier_contact"),
        ("Unit Price", "unit_price"),
        ("PONumber", "po_number"),
        ("2号仓库", "f_2_hao_warehouse"),
        ("★", ""),
    ],
)
def test_header_names(header, name):
    assert header_name(header) == name


def test_names_are_unique_and_never_a_system_name_or_a_keyword():
    namer = Namer()
    assert [namer.name(h, i) for i, h in enumerate(["备注", "备注", "ID", "lines", "Not", "★", "创建人"], 1)] == [
        "remark",
        "remark_2",
        "id_3",
        "lines_4",
        "not_5",
        "field_6",
        "chuang_jian_ren",
    ]


@pytest.mark.parametrize(
    "text, value",
    [
        ("2026-11-08", dt.date(2026, 11, 8)),
        ("2026/11/08", dt.date(2026, 11, 8)),
        ("2026/11/8", dt.date(2026, 11, 8)),
        ("2026年11月8日", dt.date(2026, 11, 8)),
        ("2026.11.08", dt.date(2026, 11, 8)),
        (" 2026 年 1 月 2 日 ", dt.date(2026, 1, 2)),
        ("2026-11-08 14:30", dt.datetime(2026, 11, 8, 14, 30)),
        ("2026年11月8日 14时30分", dt.datetime(2026, 11, 8, 14, 30)),
        ("2026-02-30", None),
        ("20261108", None),
        ("SO-2026-11-08", None),
        ("2026-11", None),
        (45000, None),
    ],
)
def test_text_dates(text, value):
    assert text_date(text) == value


def test_dates_as_text_become_a_date_field_only_when_every_value_reads(tmp_path):
    rows = [
        ["编号", "交期", "备注"],
        ["A1", "2026-11-08", "2026/11/08"],
        ["A2", "2026年11月9日", "下周"],
        ["A3", "2026.11.10", "2026.11.10"],
    ]
    path = Book("wps", [Sheet("S", rows)]).save(tmp_path / "d.xlsx")
    _, fields = _draft(path)
    assert (fields["due_date"]["type"], fields["remark"]["type"]) == ("date", "text")
    pack = load_pack_files({"pack.yaml": PACK, "forms/t.yaml": form_from_excel(path, name="t")}, root="imported")
    read = cell_reader(pack.forms["t"].field("due_date"), "Asia/Shanghai")
    assert [read(v) for v in ("2026年11月9日", "2026.11.10", dt.date(2026, 1, 1), "下周")] == [
        dt.date(2026, 11, 9),
        dt.date(2026, 11, 10),
        dt.date(2026, 1, 1),
        "下周",
    ]


def test_libreoffice_lists_with_a_comma_inside_an_option_and_old_calc_references(tmp_path):
    rows = [["款式", "尺寸", "颜色"], ["A款", "大,加厚", "红"], ["B款", "小", "红"]]
    dictionary = [["色"], ["红"], ["绿"], ["蓝"], ["红"]]
    path = Book(
        "libreoffice",
        [
            Sheet("S", rows, lists=[("B2:B50", ["大,加厚", "中", "小"]), ("C2:C50", "$字典.$A$2:$A$5")]),
            Sheet("字典", dictionary, state="hidden"),
        ],
    ).save(tmp_path / "lo.xlsx")
    text, fields = _draft(path)
    assert fields["size"]["options"] == ["大,加厚", "中", "小"]
    assert fields["color"]["options"] == ["红", "绿", "蓝"]  # in order, the repeat dropped
    assert '# 下拉列表: "大,加厚",中,小' in text


def test_a_list_from_a_name_local_to_the_sheet_and_a_list_that_depends_on_a_cell(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "订单"
    for row in [
        ["省份", "城市", "等级"],
        ["浙江", "宁波", "A"],
        ["江苏", "南京", "B"],
        ["浙江", "杭州", "A"],
        ["江苏", "苏州", "A"],
        [None, None, None, "A", "B", "C"],
    ]:
        ws.append(row)
    ws.defined_names["Tiers"] = DefinedName("Tiers", attr_text="订单!$D$6:$F$6")
    for sqref, formula in (("B2:B9", "INDIRECT($A2)"), ("C2:C9", "Tiers")):
        dv = DataValidation(type="list", formula1=formula)
        ws.add_data_validation(dv)
        dv.add(sqref)
    wb.save(tmp_path / "cities.xlsx")
    text, fields = _draft(tmp_path / "cities.xlsx", lang="en")
    assert fields["tier"]["options"] == ["A", "B", "C"]
    assert fields["city"]["type"] == "text"
    assert (
        "  # the drop-down list INDIRECT($A2) depends on other cells; options guessed from the samples\n"
        "  - name: city" in text
    )


def _order_sheet(formula, cached, fmt="General", *, extra_rows=()):
    rows = [["订单号", "客户", "数量", "单价", "结果"]]
    data = [("SO-1", "甲", 2, 3.5), ("SO-1", "甲", 4, 1.5), ("SO-2", "乙", 1, 10)]
    for i, (order, customer, qty, price) in enumerate(data):
        r = i + 2
        rows.append([order, customer, qty, price, F(formula.format(r=r), cached[i], fmt)])
    rows.extend(extra_rows)
    return rows


def test_line_formulas_read_the_record_through_parent(tmp_path):
    path = Book("excel", [Sheet("S", _order_sheet('B{r}&"-"&C{r}', ["甲-2", "甲-4", "乙-1"]))]).save(
        tmp_path / "p.xlsx"
    )
    _, fields = _draft(path)
    line = {f["name"]: f for f in fields["lines"]["fields"]}
    assert line["jie_guo"]["formula"] == 'concat(parent.customer, "-", qty)'


def test_a_formula_that_does_not_check_is_an_input_field_with_the_reason(tmp_path):
    path = Book("excel", [Sheet("S", _order_sheet("C{r}*B{r}", [0, 1, 2]))]).save(tmp_path / "c.xlsx")
    text, fields = _draft(path, lang="en")
    line = {f["name"]: f for f in fields["lines"]["fields"]}
    assert "formula" not in line["jie_guo"] and line["jie_guo"]["type"] == "integer"
    assert "# an input field: the formula =C2*B2 was not translated (the translation does not check: " in text


def test_an_integer_formula_that_gives_decimals_is_a_number(tmp_path):
    path = Book("wps", [Sheet("S", _order_sheet("C{r}*D{r}", [7, 6, 10]))]).save(tmp_path / "n.xlsx")
    _, fields = _draft(path)
    line = {f["name"]: f for f in fields["lines"]["fields"]}
    assert (line["jie_guo"]["type"], line["jie_guo"]["formula"]) == ("number", "qty * unit_price")


def test_a_record_field_reading_line_columns_and_rows_with_different_formulas_stay_input(tmp_path):
    rows = [["订单号", "数量", "单价", "加价", "合计"]]
    for i, (order, qty, price) in enumerate([("SO-1", 2, 3), ("SO-1", 4, 1), ("SO-2", 1, 10)]):
        r = i + 2
        rows.append([order, qty, price, F(f"C{r}+1" if i < 2 else f"C{r}+2", price + 1), F("B2*C2", 6)])
    path = Book("excel", [Sheet("S", rows)]).save(tmp_path / "x.xlsx")
    text, fields = _draft(path, lang="en")
    assert (
        "formula" not in fields["total"]
        and "formula" not in {f["name"]: f for f in fields["lines"]["fields"]}["jia_jia"]
    )
    assert "(a record field reads the sub-table column B2)" in text
    assert "(the rows have different formulas (=C4+2))" in text


def test_formulas_filled_down_before_any_sample_row(tmp_path):
    rows = [["数量", "单价", "金额"]] + [[None, None, F(f"A{r}*B{r}", 0, '"¥"#,##0.00')] for r in range(2, 30)]
    path = Book("excel", [Sheet("S", rows)]).save(tmp_path / "empty.xlsx")
    _, fields = _draft(path)
    assert fields["amount"]["formula"] == "qty * unit_price" and fields["amount"]["type"] == "money"


def test_a_totals_row_typed_over_its_sums_is_no_sample(tmp_path):
    """合计 and the sums, without formulas: not a sample row (as import skips it), so 类别 is filled
    in every sample; a 合计 whose number is not the sum above is a sample like the others."""
    rows = [
        ["物料编码", "类别", "数量"],
        ["P-1", "五金", 3],
        ["P-2", "电料", 4],
        ["P-3", "五金", 5],
        ["合计", None, 12],
    ]
    text, fields = _draft(Book("excel", [Sheet("S", rows)]).save(tmp_path / "t.xlsx"), lang="en")
    assert text.split("- name: category")[1].split("- name:")[0].count("# required: true") == 1
    rows[-1][2] = 11
    text, fields = _draft(Book("excel", [Sheet("S", rows)]).save(tmp_path / "t.xlsx"), lang="en")
    assert "# required: true" not in text.split("- name: category")[1].split("- name:")[0]


def test_totals_over_records_are_left_to_a_report(tmp_path):
    rows = [["物料编码", "数量"], ["P-1", 3], ["P-2", 4], ["P-3", 5], ["合计", F("SUM(B2:B4)", 12)]]
    path = Book("excel", [Sheet("S", rows)]).save(tmp_path / "t.xlsx")
    text, fields = _draft(path, lang="en")
    assert list(fields) == ["material_code", "qty"]
    assert text.splitlines()[1] == "# row 5 totals over records (=SUM(B2:B4)): that belongs in a report, no field made"
    assert "    # unique: true    # hint: no value repeats in the samples" in text  # 物料编码 names a key


def test_percent_formats_and_excel_escapes():
    from engine.io.template_columns import Col, infer

    for fmt, kind in (("0%", "percent"), ("0.00%", "percent"), ('0.0"%"', "number"), ('"¥"#,##0.00', "money")):
        col = Col(0, "x", "x", values=[0.1, 0.25], formats=[fmt, fmt])
        infer(col)
        assert col.type == kind, fmt


def test_a_date_format_left_to_the_locale_is_a_date(tmp_path):
    rows = [
        ["单号", "日期", "金额"],
        ["A", N(dt.date(2026, 11, 8), 31), N(5, 31)],
        ["B", N(dt.date(2026, 11, 9), 31), N(6, 31)],
    ]
    path = Book("wps", [Sheet("S", rows)]).save(tmp_path / "w.xlsx")
    _, fields = _draft(path)
    assert fields["date"]["type"] == "date"
