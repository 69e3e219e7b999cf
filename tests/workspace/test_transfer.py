"""Spreadsheets in the workspace: the list's export buttons and the import page, over HTTP."""

from __future__ import annotations

import io
from typing import Any, Callable

from engine.io.readers import read_rows
from engine.service import Records

CSV_HEADER = "客户,采购单号,下单日期,明细.商品,明细.数量,明细.单价\r\n"


def _upload(token: str, body: str, name: str = "orders.csv", **fields: str) -> dict[str, Any]:
    return {"csrf_token": token, "file": (io.BytesIO(body.encode("utf-8-sig")), name), **fields}


def test_the_list_offers_export_and_import_by_permission(client: Any, login: Callable[..., str], shop_ids: Any) -> None:
    login("admin")
    page = client.get("/w/client").text
    assert "/w/client/export?format=xlsx" in page and "/w/client/export?format=csv" in page
    assert "/w/client/import" in page
    login("sales1")  # clients: read only; orders: create, no export
    page = client.get("/w/client").text
    assert "/export" not in page and "/import" not in page
    page = client.get("/w/order").text
    assert "/w/order/import" in page and "/export" not in page
    assert client.get("/w/order/export?format=xlsx").status_code == 403
    assert client.get("/w/client/import").status_code == 403


def test_export_is_the_list_view_with_its_search_in_the_users_language(
    client: Any, login: Callable[..., str], shop_ids: Any
) -> None:
    login("admin")
    resp = client.get("/w/client/export?format=xlsx&q=bright")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''%E5%AE%A2%E6%88%B7-" in resp.headers["Content-Disposition"]  # 客户-<date>.xlsx
    rows = [values for _, values in read_rows(io.BytesIO(resp.data), "xlsx")]
    assert rows == [("名称", "等级"), ("Bright Shop", "普通")]
    resp = client.get("/w/client/export?format=csv&lang=en")
    lines = resp.data.decode("utf-8-sig").splitlines()
    assert lines[0] == "Name,Tier" and sorted(lines[1:]) == ["Bright Shop,Regular", "宁波海曙五金,Key account"]
    assert client.get("/w/client/export?format=pdf").status_code == 400


def test_import_reports_bad_rows_by_spreadsheet_row_in_both_languages(
    client: Any, login: Callable[..., str], shop: Any, shop_ids: Any
) -> None:
    token = login("sales1")
    page = client.get("/w/order/import").text
    assert 'enctype="multipart/form-data"' in page and 'name="mode"' in page
    body = CSV_HEADER + "宁波海曙五金,PO-1,2026-11-02,不锈钢合页,2,12.50\r\nBright Shop,PO-2,,Brass handle,0,30\r\n"
    resp = client.post("/w/order/import", data=_upload(token, body), content_type="multipart/form-data")
    assert resp.status_code == 422
    page = resp.text
    assert "发现 2 个问题, 未写入任何数据" in page
    assert '<td data-label="行">3</td><td data-label="列">下单日期</td><td data-label="问题">必填</td>' in page
    assert "不能小于 1" in page
    assert _orders(shop) == []  # all or nothing: nothing written
    token = login("sales1", lang="en")
    resp = client.post(
        "/w/order/import", data=_upload(token, body, mode="skip-invalid"), content_type="multipart/form-data"
    )
    assert resp.status_code == 422
    assert "1 created, 0 updated; 1 records had problems and were skipped" in resp.text
    assert "required" in resp.text
    saved = _orders(shop)
    assert [(o["po"], o["total"]) for o in saved] == [("PO-1", "25.00")]
    assert saved[0]["owner_name"] == "sales1"  # the importer owns what it creates


def test_import_names_the_totals_row_it_skips(client: Any, login: Callable[..., str], shop: Any, shop_ids: Any) -> None:
    token = login("sales1")
    body = (
        CSV_HEADER + "宁波海曙五金,PO-1,2026-11-02,不锈钢合页,2,12.50\r\n"
        "宁波海曙五金,PO-1,2026-11-02,Brass handle,1,30\r\n合计,,,,3,\r\n"
    )
    resp = client.post("/w/order/import", data=_upload(token, body), content_type="multipart/form-data")
    assert resp.status_code == 200 and "导入完成: 新建 1 条, 更新 0 条" in resp.text
    assert '<p class="muted import-skipped">第 4 行是合计行, 已跳过</p>' in resp.text
    assert [(o["po"], o["total"]) for o in _orders(shop)] == [("PO-1", "55.00")]


def test_import_dry_run_writes_nothing_and_bad_uploads_are_clear(
    client: Any, login: Callable[..., str], shop: Any, shop_ids: Any
) -> None:
    token = login("sales1")
    body = CSV_HEADER + "宁波海曙五金,PO-9,2026-11-02,不锈钢合页,1,12.50\r\n"
    resp = client.post("/w/order/import", data=_upload(token, body, dry_run="1"), content_type="multipart/form-data")
    assert resp.status_code == 200 and "试运行通过: 将新建 1 条, 更新 0 条 (未写入)" in resp.text
    assert _orders(shop) == []
    resp = client.post("/w/order/import", data={"csrf_token": token}, content_type="multipart/form-data")
    assert resp.status_code == 400 and "请选择一个 .xlsx 或 .csv 文件" in resp.text
    resp = client.post(
        "/w/order/import", data=_upload(token, "x", name="orders.pdf"), content_type="multipart/form-data"
    )
    assert resp.status_code == 400 and "无法读取这个文件, 请上传 .xlsx 或 .csv 文件" in resp.text
    resp = client.post(
        "/w/order/import", data=_upload(token, "PK not a zip", name="orders.xlsx"), content_type="multipart/form-data"
    )
    assert resp.status_code == 400 and "not a readable .xlsx file" in resp.text
    resp = client.post(
        "/w/order/import", data=_upload(token, "no,header\r\n1,2\r\n"), content_type="multipart/form-data"
    )
    assert resp.status_code == 400 and "找不到表头行" in resp.text
    data = _upload(token, body)
    data["csrf_token"] = "forged"
    assert client.post("/w/order/import", data=data, content_type="multipart/form-data").status_code == 400
    assert _orders(shop) == []


def test_the_import_template_names_what_the_user_may_write(
    client: Any, login: Callable[..., str], shop_ids: Any
) -> None:
    login("sales1")
    assert "/w/order/import/template" in client.get("/w/order/import").text
    resp = client.get("/w/order/import/template")
    assert resp.status_code == 200
    assert (
        "filename*=UTF-8''%E8%AE%A2%E5%8D%95-%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
        in resp.headers["Content-Disposition"]
    )  # 订单-导入模板.xlsx
    rows = [values for _, values in read_rows(io.BytesIO(resp.data), "xlsx")]
    # no computed fields (client tier, amount, total), nothing sales may not write (status, cost)
    assert rows == [
        (
            "客户",
            "采购单号",
            "下单日期",
            "送达时间",
            "交付方式",
            "收货地址",
            "加急",
            "折扣",
            "明细.商品",
            "明细.数量",
            "明细.单价",
        )
    ]
    login("admin", lang="en")
    rows = [values for _, values in read_rows(io.BytesIO(client.get("/w/order/import/template").data), "xlsx")]
    assert rows[0][:3] == ("Client", "PO number", "Order date") and "Status" in rows[0] and "Cost" in rows[0]
    login("sales1")
    assert client.get("/w/client/import/template").status_code == 403


def test_imports_may_send_more_than_other_posts(shop: Any, shop_ids: Any) -> None:
    """An import has no row cap: its routes take IMPORT_MAX_BYTES, other posts MAX_CONTENT_LENGTH."""
    from apps import create_app
    from tests.workspace.conftest import USERS, csrf_of

    app = create_app(
        {
            "TESTING": True,
            "PLATFORM": shop,
            "SECRET_KEY": "s",
            "MAX_CONTENT_LENGTH": 4096,
            "IMPORT_MAX_BYTES": 1024 * 1024,
        }
    )
    client = app.test_client()
    client.post(
        "/login",
        data={"username": "sales1", "password": USERS["sales1"][0], "csrf_token": csrf_of(client.get("/login").text)},
    )
    token = csrf_of(client.get("/w/").text)
    body = CSV_HEADER + "".join(f"宁波海曙五金,PO-{i:03},2026-11-02,不锈钢合页,1,12.50\r\n" for i in range(200))
    assert len(body.encode()) > 3 * 4096
    resp = client.post("/w/order/import", data=_upload(token, body), content_type="multipart/form-data")
    assert resp.status_code == 200 and "导入完成: 新建 200 条, 更新 0 条" in resp.text
    big = {"csrf_token": token, "po": "x" * 5000}
    assert client.post("/w/order/new", data=big).status_code == 413


def _orders(platform: Any) -> list[dict[str, Any]]:
    """The stored orders, oldest first: PO, total and whose they are."""
    from engine.listing import ListQuery

    items = Records(platform).list_records(platform.system_context(), "order", ListQuery(sort=(("id", False),)))
    sales1 = platform.user_context("sales1").user_id
    return [
        {"po": o["po"], "total": str(o["total"]), "owner_name": "sales1" if o["owner"] == sales1 else o["owner"]}
        for o in items["items"]
    ]
