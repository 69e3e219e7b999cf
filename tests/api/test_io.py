"""Import and export over HTTP: uploads, reports, filters, hidden fields, round trips."""

from __future__ import annotations

import csv
import io

import openpyxl

from tests.api.conftest import order_body
from tests.engine.io.conftest import make_xlsx


def _upload(client, headers, form, path, **params):
    with open(path, "rb") as fh:
        data = {"file": (io.BytesIO(fh.read()), str(path).rsplit("/", 1)[-1]), **params}
    return client.post(f"/api/v1/records/{form}/import", headers=headers, data=data, content_type="multipart/form-data")


def _orders(client, auth, seed):
    """Three orders: A and B by sales1 (B with two lines), C by sales2; admin sets the cost."""
    s1, s2, admin = auth("sales1"), auth("sales2"), auth("admin")
    a = client.post(
        "/api/v1/records/sales_order", headers=s1, json=order_body(seed["c1"]["id"], seed["p1"]["id"], po_number="A")
    ).get_json()
    body = order_body(seed["c2"]["id"], seed["p1"]["id"], po_number="B")
    body["lines"].append({"product": seed["p2"]["id"], "qty": 3, "unit_price": "30.00", "spec": "铜色"})
    b = client.post("/api/v1/records/sales_order", headers=s1, json=body).get_json()
    c = client.post(
        "/api/v1/records/sales_order", headers=s2, json=order_body(seed["c1"]["id"], seed["p2"]["id"], po_number="C")
    ).get_json()
    for rec in (a, b, c):
        client.patch(
            f"/api/v1/records/sales_order/{rec['id']}", headers=admin, json={"version": rec["version"], "cost": "7.00"}
        )
    return a, b, c


def test_import_upload_report_and_status(client, auth, seed, tmp_path):
    path = make_xlsx(
        tmp_path / "p.xlsx", [["物料编码", "品名", "单价"], ["P-1", "螺丝", 0.5], ["P-2", None, -1]], title="产品导入"
    )
    resp = _upload(client, auth("admin"), "product", path, mode="skip-invalid")
    assert resp.status_code == 422
    rep = resp.get_json()
    assert (rep["created"], rep["failed"], rep["header_row"]) == (1, 1, 2)
    assert {(e["row"], e["column"]) for e in rep["errors"]} == {(4, "品名"), (4, "单价")}
    csv_path = tmp_path / "p.csv"
    csv_path.write_bytes("\ufeffsku,name\r\nP-1,螺丝 M3\r\n".encode())
    resp = _upload(client, {**auth("admin"), "Accept-Language": "en"}, "product", csv_path, key="sku", dry_run="1")
    assert resp.status_code == 200 and resp.get_json()["updated"] == 1 and not resp.get_json()["written"]
    resp = _upload(client, auth("wh1"), "customer", csv_path)
    assert resp.status_code == 403
    resp = client.post(
        "/api/v1/records/product/import", headers=auth("admin"), data={}, content_type="multipart/form-data"
    )
    assert resp.status_code == 400


def test_import_skips_a_totals_row_and_says_so(client, auth, seed, tmp_path):
    """Row 6 totals the columns above (=SUM, as openpyxl writes it: no cached value); row 5 is a
    product that happens to be named 合计, and is imported."""
    rows = [
        ["物料编码", "品名", "单价", "库存"],
        ["P-1", "螺丝", 0.5, 100],
        ["P-2", "螺母", 0.3, 50],
        ["P-3", "合计", 1, 2],
        ["合计", None, "=SUM(C3:C5)", "=SUM(D3:D5)"],
    ]
    path = make_xlsx(tmp_path / "p.xlsx", rows, title="产品导入")
    resp = _upload(client, auth("admin"), "product", path, dry_run="1")
    rep = resp.get_json()
    assert resp.status_code == 200 and (rep["rows"], rep["created"]) == (3, 3)
    assert rep["skipped"] == [{"row": 6, "message": "第 6 行是合计行, 已跳过"}]
    resp = _upload(client, {**auth("admin"), "Accept-Language": "en"}, "product", path, mode="skip-invalid")
    assert resp.status_code == 200 and resp.get_json()["skipped"] == [
        {"row": 6, "message": "row 6 is a totals row, skipped"}
    ]
    names = {
        p["sku"]: p["name"] for p in client.get("/api/v1/records/product", headers=auth("admin")).get_json()["items"]
    }
    assert (names["P-3"], "合计" in names) == ("合计", False)


def test_a_duplicate_names_the_column_as_the_sheet_heads_it(client, auth, seed, tmp_path):
    """C001 is stored; the sheet heads the code column in English, the caller reads Chinese."""
    path = tmp_path / "c.csv"
    path.write_text("Customer code,客户名称\nC001,又一个\nC009,新客户\nC009,重复\n", encoding="utf-8")
    rep = _upload(client, auth("admin"), "customer", path).get_json()
    assert [(e["row"], e["column"], e["field"], e["message"]) for e in rep["errors"]] == [
        (2, "Customer code", "code", "值重复: 已有Customer code相同的记录"),
        (4, "Customer code", "code", "值重复: 已有Customer code相同的记录"),
    ]
    rep = _upload(client, {**auth("admin"), "Accept-Language": "en"}, "customer", path, mode="skip-invalid").get_json()
    assert {e["message"] for e in rep["errors"]} == {"duplicate: a record with the same Customer code exists"}
    assert rep["created"] == 1


def test_export_csv_applies_row_and_field_permissions_and_filters(client, auth, seed):
    _orders(client, auth, seed)
    resp = client.get("/api/v1/records/sales_order/export?format=csv", headers=auth("sales1"))
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header = rows[0]
    assert "成本" not in header and "毛利" not in header and "订单明细.数量" in header
    po = header.index("客户采购单号")
    assert [r[po] for r in rows[1:]] == ["A", "B", "B"]  # B has two lines, sales1 never sees C
    resp = client.get(
        '/api/v1/records/sales_order/export?format=csv&filter=po_number == "B"&lang=en', headers=auth("sales1")
    )
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8").lstrip("\ufeff"))))
    assert rows[0][:2] == ["Order number", "Customer"] and len(rows) == 3
    assert rows[1][rows[0].index("Customer")] == "C002"
    assert rows[2][rows[0].index("Order lines.Specification")] == "铜色"
    assert client.get("/api/v1/records/sales_order/export", headers=auth("wh1")).status_code == 403
    assert client.get("/api/v1/records/sales_order/export?format=pdf", headers=auth("admin")).status_code == 400


def test_export_xlsx_types_and_round_trip(client, auth, seed, tmp_path):
    a, b, c = _orders(client, auth, seed)
    admin = auth("admin")
    resp = client.get("/api/v1/records/sales_order/export?format=xlsx&sort=po_number", headers=admin)
    assert resp.status_code == 200
    path = tmp_path / "orders.xlsx"
    path.write_bytes(resp.get_data())
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[1]]
    assert "成本" in header
    date, price = header.index("下单日期") + 1, header.index("订单明细.单价") + 1
    assert ws.cell(row=2, column=date).is_date
    assert ws.cell(row=4, column=price).value == 30 and ws.cell(row=4, column=price).number_format == "#,##0.00"
    resp = client.get("/api/v1/records/product/export?format=xlsx&sku=P-100", headers=admin)
    (tmp_path / "p.xlsx").write_bytes(resp.get_data())
    ws = openpyxl.load_workbook(tmp_path / "p.xlsx").active
    assert [c.value for c in ws[1]][:5] == ["物料编码", "品名", "规格型号", "单位", "单价"]
    assert ws["E2"].value == 12.5 and ws["E2"].number_format == "#,##0.00"
    before = client.get("/api/v1/records/sales_order?sort=po_number", headers=admin).get_json()["items"]
    resp = _upload(client, admin, "sales_order", path, key="number")
    rep = resp.get_json()
    assert resp.status_code == 200, rep
    assert (rep["records"], rep["updated"], rep["created"], rep["unknown_columns"]) == (3, 3, 0, [])
    after = client.get("/api/v1/records/sales_order?sort=po_number", headers=admin).get_json()["items"]
    assert after == before  # nothing changed, so no new versions either


def test_export_then_import_as_new_records(client, auth, seed, tmp_path):
    a, b, c = _orders(client, auth, seed)
    admin = auth("admin")
    resp = client.get("/api/v1/records/sales_order/export?format=csv", headers=admin)
    text = resp.get_data().decode("utf-8").replace(",A,", ",A2,").replace(",B,", ",B2,").replace(",C,", ",C2,")
    path = tmp_path / "o.csv"
    path.write_bytes(text.encode("utf-8"))
    rep = _upload(client, admin, "sales_order", path).get_json()
    assert rep["created"] == 3 and rep["ok"], rep
    items = client.get("/api/v1/records/sales_order?po_number=B2", headers=admin).get_json()["items"]
    original = client.get(f"/api/v1/records/sales_order/{b['id']}", headers=admin).get_json()
    assert len(items[0]["lines"]) == 2 and items[0]["total"] == original["total"]
    assert [ln["qty"] for ln in items[0]["lines"]] == [ln["qty"] for ln in original["lines"]]


def test_import_template_holds_the_columns_the_caller_may_write(client, auth, seed):
    resp = client.get("/api/v1/records/sales_order/import/template", headers=auth("sales1"))
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    header = [c.value for c in next(openpyxl.load_workbook(io.BytesIO(resp.data)).active.iter_rows())]
    assert "客户采购单号" in header and "订单明细.数量" in header
    assert not {"成本", "毛利", "状态"} & set(header)  # hidden or read-only for sales
    admin = [
        c.value
        for c in next(
            openpyxl.load_workbook(
                io.BytesIO(client.get("/api/v1/records/sales_order/import/template", headers=auth("admin")).data)
            ).active.iter_rows()
        )
    ]
    assert "状态" in admin and "订单明细.金额" not in admin  # a formula is never imported
    assert client.get("/api/v1/records/sales_order/import/template", headers=auth("wh1")).status_code == 403
