"""Excel template -> form definition: types, options, sub-table, and it loads as a pack."""

from __future__ import annotations

import datetime as dt

import openpyxl
import yaml
from openpyxl.worksheet.datavalidation import DataValidation

from engine.definitions import load_pack_files
from engine.io.form_from_excel import form_from_excel, snake

PACK = 'name: imported\nversion: "0.1.0"\nlabel: {zh-CN: 导入, en: Imported}\n'


def _template(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["宁波海曙五金有限公司销售订单导入模板"])
    ws.merge_cells("A1:H1")
    ws.append(["订单号", "客户名称", "下单日期", "付款方式", "产品名称", "数量", "单价", "备注"])
    rows = [
        ("SO-001", "杭州恒达", dt.datetime(2026, 11, 2), "月结", "不锈钢合页", 10, 12.5, None),
        ("SO-001", "杭州恒达", dt.datetime(2026, 11, 2), "月结", "铜把手", 2, 30, None),
        ("SO-002", "宁波精工", dt.datetime(2026, 11, 3), "现结", "不锈钢合页", 5, 12.5, "加急"),
        ("SO-003", "深圳明亮", dt.datetime(2026, 11, 4), "月结", "门吸", 100, 3.2, None),
        ("SO-003", "深圳明亮", dt.datetime(2026, 11, 4), "月结", "铜把手", 1, 30, None),
        ("SO-003", "深圳明亮", dt.datetime(2026, 11, 4), "月结", "不锈钢合页", 7, 12.5, None),
    ]
    for r in rows:
        ws.append(list(r))
    for r in range(3, 9):
        ws.cell(row=r, column=3).number_format = "yyyy-mm-dd"
        ws.cell(row=r, column=7).number_format = "¥#,##0.00"
    dv = DataValidation(type="list", formula1='"月结,现结,预付"', allow_blank=True)
    ws.add_data_validation(dv)
    dv.add("D3:D200")
    wb.save(path)
    return str(path)


def test_realistic_template_gives_a_loadable_form(tmp_path):
    text = form_from_excel(_template(tmp_path / "销售订单.xlsx"), name="sales_import")
    doc = yaml.safe_load(text)
    assert doc["name"] == "sales_import" and doc["label"] == {"zh-CN": "宁波海曙五金有限公司销售订单导入模板"}
    fields = {f["label"]["zh-CN"]: f for f in doc["fields"]}
    assert fields["订单号"]["type"] == "text" and "unique" not in fields["订单号"]  # a hint, not a fact
    assert "\n    # unique: true    # 提示: 样例中没有重复值" in text
    assert fields["下单日期"]["type"] == "date"
    assert fields["付款方式"]["type"] == "select" and fields["付款方式"]["options"] == ["月结", "现结", "预付"]
    assert fields["客户名称"]["type"] == "text"
    lines = {f["label"]["zh-CN"]: f for f in fields["明细"]["fields"]}
    assert set(lines) == {"产品名称", "数量", "单价"} and fields["备注"]["type"] == "text"
    assert lines["数量"]["type"] == "integer"
    assert lines["单价"]["type"] == "money" and lines["单价"]["currency"] == "CNY"
    assert [f["name"] for f in doc["fields"]] == [
        "order_no",
        "customer_name",
        "order_date",
        "payment_method",
        "remark",
        "lines",
    ]
    assert [f["name"] for f in fields["明细"]["fields"]] == ["product_name", "qty", "unit_price"]
    pack = load_pack_files({"pack.yaml": PACK, "forms/sales_import.yaml": text}, root="imported")
    form = pack.forms["sales_import"]
    assert form.field("lines").child(lines["单价"]["name"]).type == "money"


def test_english_headers_and_few_distinct_values(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["SKU", "Product Name", "Unit Price", "Status", "Weight kg", "Created At"])
    for i in range(8):
        ws.append(
            [f"P-{i}", f"Thing {i}", 1.5 + i, ["Active", "Retired"][i % 2], 0.25 * i, dt.datetime(2026, 1, 1, 9, 30)]
        )
        ws.cell(row=i + 2, column=3).number_format = '"$"#,##0.00'
    path = tmp_path / "Product List.xlsx"
    wb.save(path)
    doc = yaml.safe_load(form_from_excel(str(path)))
    assert doc["name"] == "product_list"
    got = {f["name"]: (f["type"], f.get("options")) for f in doc["fields"]}
    assert got == {
        "sku": ("text", None),
        "product_name": ("text", None),
        "unit_price": ("money", None),
        "status": ("select", ["Active", "Retired"]),
        "weight_kg": ("number", None),
        "created_at_6": ("datetime", None),
    }
    load_pack_files({"pack.yaml": PACK, "forms/product_list.yaml": yaml.safe_dump(doc)}, root="imported")


def test_snake_names():
    assert snake("Unit Price (USD)") == "unit_price_usd"
    assert snake("PONumber") == "po_number"
    assert snake("数量") == ""
    assert snake("2nd address") == "f_2nd_address"


def test_a_value_that_comes_back_is_not_a_record_key(tmp_path):
    """Unique order numbers, statuses in runs that recur: one form, no sub-table keyed by status."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["订单号", "状态", "数量"])
    for i, status in enumerate(["草稿", "草稿", "已审核", "草稿", "草稿", "已审核", "已审核", "草稿"]):
        ws.append([f"SO-{i:03}", status, i + 1])
    path = tmp_path / "订单.xlsx"
    wb.save(path)
    doc = yaml.safe_load(form_from_excel(str(path), name="orders"))
    assert [(f["label"]["zh-CN"], f["type"]) for f in doc["fields"]] == [
        ("订单号", "text"),
        ("状态", "select"),
        ("数量", "integer"),
    ]


def test_a_large_data_file_is_read_by_its_head(tmp_path, monkeypatch):
    """Given a data file rather than a template, only the first HEAD_ROWS rows of a sheet are
    loaded; merged cells and data validations after the rows are kept, so the form is the same."""
    import engine.io.form_from_excel as ffe
    from engine.io.xlsx import package_head

    path = _template(tmp_path / "big.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    for i in range(4, 2004):
        ws.append([f"SO-{i:04}", "杭州恒达", dt.datetime(2026, 11, 2), "月结", "门吸", 1, 3.2, None])
    wb.save(path)
    whole = form_from_excel(path, name="big")
    monkeypatch.setattr(ffe, "HEAD_ROWS", 40)
    assert form_from_excel(path, name="big") == whole
    head = openpyxl.load_workbook(package_head(path, 40)).active
    assert head.max_row == 40 and [str(r) for r in head.merged_cells.ranges] == ["A1:H1"]
    assert [str(dv.sqref) for dv in head.data_validations.dataValidation] == ["D3:D200"]


def test_package_head_cuts_rows_across_chunks_and_namespace_prefixes(monkeypatch):
    import io

    import engine.io.xlsx as xlsx

    body = (
        b'<x:worksheet xmlns:x="urn:main"><x:sheetData>'
        + b"".join(b'<x:row r="%d"><x:c r="A%d"><x:v>%d</x:v></x:c></x:row>' % (i, i, i) for i in range(1, 60))
        + b'</x:sheetData><x:mergeCells count="1"><x:mergeCell ref="A1:B1"/></x:mergeCells></x:worksheet>'
    )
    for chunk in (5, 7, 64, 1 << 16):  # a closing tag split between two reads
        monkeypatch.setattr(xlsx, "_CHUNK", chunk)
        out = io.BytesIO()
        xlsx._copy_head(io.BytesIO(body), out, 3)
        kept = out.getvalue()
        assert kept.count(b"</x:row>") == 3 and b'r="4"' not in kept, chunk
        assert kept.endswith(
            b'</x:sheetData><x:mergeCells count="1"><x:mergeCell ref="A1:B1"/></x:mergeCells></x:worksheet>'
        ), chunk
        out = io.BytesIO()
        xlsx._copy_head(io.BytesIO(body), out, 100)
        assert out.getvalue() == body, chunk
