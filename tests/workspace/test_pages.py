"""The workspace through Flask's test client: login, CSRF, permissions, rendering, errors, conflicts."""

from __future__ import annotations

import re
from typing import Any, Callable

from apps import create_app
from apps.workspace.clientjs import module_for
from tests.workspace.conftest import OMS, csrf_of, make_platform
from tests.workspace.htmlform import errors_of


def order_form(token: str, ids: dict[str, int], **extra: Any) -> dict[str, Any]:
    data = {
        "csrf_token": token,
        "client": str(ids["c1"]),
        "order_date": "2026-11-02",
        "delivery": "pickup",
        "urgent": "",
        "lines": "",
        "lines[0].item": str(ids["i1"]),
        "lines[0].qty": "2",
        "lines[0].unit_price": "12.50",
        "lines[1].item": str(ids["i2"]),
        "lines[1].qty": "1",
        "lines[1].unit_price": "30",
    }
    data.update(extra)
    return data


# ---- login, logout, CSRF, cookies -----------------------------------------------------------


def test_pages_need_a_login(client: Any) -> None:
    resp = client.get("/w/order")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=/w/order")


def test_login_sets_a_safe_session_cookie(client: Any) -> None:
    token = csrf_of(client.get("/login").text)
    resp = client.post(
        "/login", data={"username": "sales1", "password": "sales123", "csrf_token": token, "next": "/w/order"}
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/w/order"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/w/order").status_code == 200


def test_wrong_password_is_refused_in_the_users_language(client: Any) -> None:
    token = csrf_of(client.get("/login?lang=en").text)
    resp = client.post("/login", data={"username": "sales1", "password": "nope", "csrf_token": token})
    assert resp.status_code == 401
    assert "Wrong username or password" in resp.text
    token = csrf_of(client.get("/login?lang=zh-CN").text)
    resp = client.post("/login", data={"username": "sales1", "password": "nope", "csrf_token": token})
    assert "用户名或密码错误" in resp.text


def test_login_never_redirects_off_site(client: Any) -> None:
    token = csrf_of(client.get("/login").text)
    resp = client.post(
        "/login", data={"username": "sales1", "password": "sales123", "csrf_token": token, "next": "//evil.example/x"}
    )
    assert resp.headers["Location"] == "/w/"


def test_posts_without_the_csrf_token_are_refused(client: Any, login: Callable[..., str], shop_ids: Any) -> None:
    assert client.post("/login", data={"username": "sales1", "password": "sales123"}).status_code == 400
    token = login("sales1")
    data = order_form(token, shop_ids)
    for bad in ("", "forged"):
        data["csrf_token"] = bad
        assert client.post("/w/order/new", data=data).status_code == 400
    assert client.post("/logout").status_code == 400
    assert client.post("/w/order/compute", json={}).status_code == 400
    resp = client.post("/w/order/compute", json={}, headers={"X-CSRF-Token": token})
    assert resp.status_code == 200


def test_logout(client: Any, login: Callable[..., str]) -> None:
    token = login("sales1")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/w/order").status_code == 302


# ---- rendering and permissions --------------------------------------------------------------


def test_new_form_renders_every_widget_with_labels(client: Any, login: Callable[..., str], shop_ids: Any) -> None:
    login("sales1")
    html = client.get("/w/order/new").text
    assert '<select name="client" id="f-client"' in html and "宁波海曙五金" in html
    assert re.search(
        r'<div class="datebox" data-date="date"><input type="text" name="order_date" id="f-order_date"'
        r'[^>]*pattern="\[0-9\]\{4\}-\[0-9\]\{2\}-\[0-9\]\{2\}" placeholder="YYYY-MM-DD">',
        html,
    )
    assert 'type="radio" name="delivery" value="pickup" checked' in html
    assert 'placeholder="例如 PO-2026-001"' in html
    assert "选择发货时填写" in html  # help text
    assert re.search(r'data-field="order_date"[^>]*data-required="1"', html)
    assert 'data-table="lines"' in html and "<template>" in html and "添加一行" in html
    assert 'name="lines[__i__].qty"' in html
    assert 'data-out="total"' in html  # a formula: shown, not an input
    assert 'name="total"' not in html


def test_hidden_fields_are_not_in_the_html_at_all(
    client: Any, login: Callable[..., str], shop_ids: Any, shop: Any
) -> None:
    login("sales1")
    for url in ("/w/order/new", "/w/order"):
        html = client.get(url).text
        assert "cost" not in html and "成本" not in html, url
    token = csrf_of(client.get("/w/order/new").text)
    created = client.post("/w/order/new", data=order_form(token, shop_ids))
    html = client.get(created.headers["Location"]).text
    assert "成本" not in html and "cost" not in html


def test_admin_sees_and_edits_what_sales_may_not(client: Any, login: Callable[..., str], shop_ids: Any) -> None:
    login("admin")
    html = client.get("/w/order/new").text
    assert 'name="cost"' in html
    assert not re.search(r'<select name="status" id="f-status" disabled', html)


def test_read_only_fields_are_disabled(client: Any, login: Callable[..., str], shop_ids: Any) -> None:
    login("sales1")
    html = client.get("/w/order/new").text
    assert re.search(r'<select name="status" id="f-status" disabled', html)


def test_the_server_rechecks_read_only_fields(client: Any, login: Callable[..., str], shop_ids: Any, shop: Any) -> None:
    token = login("sales1")
    resp = client.post("/w/order/new", data=order_form(token, shop_ids, status="approved"))
    assert resp.status_code == 403
    assert "没有权限执行此操作" in resp.text
    assert errors_of(resp.text, "status") == ["只读, 不能修改"]
    resp = client.post("/w/order/new", data=order_form(token, shop_ids, cost="1.00"))
    assert resp.status_code == 403
    assert client.get("/w/order").text.count("/w/order/1") == 0


def test_oms_sales_order_hides_cost_and_margin_from_sales(db_url: str) -> None:
    platform = make_platform(db_url, OMS)
    try:
        client = create_app({"TESTING": True, "PLATFORM": platform, "SECRET_KEY": "s"}).test_client()
        token = csrf_of(client.get("/login").text)
        client.post("/login", data={"username": "sales1", "password": "sales123", "csrf_token": token})
        html = client.get("/w/sales_order/new").text
        assert 'data-field="customer"' in html and 'data-table="lines"' in html
        for secret in ('name="cost"', 'data-field="cost"', 'name="margin"', 'data-field="margin"', "成本", "毛利"):
            assert secret not in html
        assert re.search(r'<select name="status" id="f-status" disabled', html)
    finally:
        platform.db.dispose()


# ---- saving: success, errors by field, conflicts ----------------------------------------------


def test_create_then_view_list_and_search(client: Any, login: Callable[..., str], shop_ids: Any) -> None:
    token = login("sales1")
    resp = client.post("/w/order/new", data=order_form(token, shop_ids, po="PO-7"))
    assert resp.status_code == 302, resp.text
    view = client.get(resp.headers["Location"])
    assert "已保存" in view.text and "PO-7" in view.text and "不锈钢合页" in view.text and "Brass handle" in view.text
    listing = client.get("/w/order").text
    assert "PO-7" in listing and "宁波海曙五金" in listing
    assert "PO-7" in client.get("/w/order?q=po-7").text
    assert "PO-7" not in client.get("/w/order?q=nothing").text


def test_validation_errors_are_shown_by_field_and_input_is_kept(
    client: Any, login: Callable[..., str], shop_ids: Any
) -> None:
    token = login("sales1")
    data = order_form(token, shop_ids, po="PO-keep", order_date="")
    data["lines[1].qty"] = "0"
    resp = client.post("/w/order/new", data=data)
    assert resp.status_code == 422
    assert errors_of(resp.text, "order_date") == ["必填"]
    assert errors_of(resp.text, "lines[2].qty") == ["不能小于 1"]
    assert 'value="PO-keep"' in resp.text  # the user's input is kept
    assert 'name="lines[1].qty" id="f-lines[1].qty" aria-required="true" value="0"' in resp.text
    assert "请检查标出的字段" in resp.text


def test_errors_in_english(client: Any, login: Callable[..., str], shop_ids: Any) -> None:
    token = login("sales1", lang="en")
    data = order_form(token, shop_ids)
    data["lines[0].qty"] = "x"
    resp = client.post("/w/order/new", data=data)
    assert resp.status_code == 422
    assert errors_of(resp.text, "lines[1].qty") == ["must be a whole number"]
    assert "Order date" in resp.text and "Please check the fields marked below" in resp.text


def test_blank_rows_are_dropped(client: Any, login: Callable[..., str], shop_ids: Any, shop: Any) -> None:
    token = login("sales1")
    data = order_form(token, shop_ids)
    data.update({"lines[5].item": "", "lines[5].qty": "", "lines[5].unit_price": ""})
    resp = client.post("/w/order/new", data=data)
    assert resp.status_code == 302
    from engine.service import Records

    record = Records(shop).get(shop.system_context(), "order", 1)
    assert [r["qty"] for r in record["lines"]] == [2, 1]


def test_edit_keeps_rows_and_a_stale_version_shows_the_conflict(
    client: Any, login: Callable[..., str], shop_ids: Any, shop: Any
) -> None:
    token = login("sales1")
    client.post("/w/order/new", data=order_form(token, shop_ids, po="PO-1"))
    page = client.get("/w/order/1/edit").text
    assert 'name="version" value="1"' in page
    assert 'value="PO-1"' in page and 'name="lines[0].id"' in page
    row_id = re.search(r'name="lines\[0\]\.id" value="(\d+)"', page)[1]
    edit = order_form(token, shop_ids, po="PO-1b", version="1")
    edit["lines[0].id"] = row_id
    assert client.post("/w/order/1/edit", data=edit).status_code == 302
    stale = order_form(token, shop_ids, po="PO-1c", version="1")
    resp = client.post("/w/order/1/edit", data=stale)
    assert resp.status_code == 409
    assert "此记录已被他人修改" in resp.text
    assert 'value="PO-1c"' in resp.text
    from engine.service import Records

    assert Records(shop).get(shop.system_context(), "order", 1)["po"] == "PO-1b"


def test_rows_of_other_users_are_not_found(client: Any, login: Callable[..., str], shop_ids: Any) -> None:
    token = login("sales1")
    client.post("/w/order/new", data=order_form(token, shop_ids))
    client.post("/logout", data={"csrf_token": token})
    login("sales2")
    assert client.get("/w/order/1").status_code == 404
    assert client.get("/w/order/1/edit").status_code == 404


def test_forms_the_role_cannot_read_are_not_found(client: Any, login: Callable[..., str]) -> None:
    login("sales1")
    assert client.get("/w/nosuchform").status_code == 404
    assert client.get("/w/item/new").status_code == 403


# ---- pickers, compute, the generated module ---------------------------------------------------


def test_link_options_search(client: Any, login: Callable[..., str], shop_ids: Any) -> None:
    login("sales1")
    assert client.get("/w/item/options?q=合页").get_json() == [{"id": shop_ids["i1"], "label": "不锈钢合页"}]


def test_compute_evaluates_what_needs_the_server(client: Any, login: Callable[..., str], shop_ids: Any) -> None:
    token = login("sales1")
    resp = client.post("/w/order/compute", json={"client": str(shop_ids["c1"])}, headers={"X-CSRF-Token": token})
    assert resp.get_json() == {"values": {"formula:client_tier": "A"}, "rows": {}}


def test_the_form_module_is_compiled_once_per_definitions_version(
    client: Any, login: Callable[..., str], shop: Any
) -> None:
    login("sales1")
    html = client.get("/w/order/new").text
    src = re.search(r'src="(/w/_js/order\.[0-9a-f]+\.js)"', html)[1]
    resp = client.get(src)
    assert resp.status_code == 200 and resp.mimetype == "text/javascript"
    assert "immutable" in resp.headers["Cache-Control"]
    body = resp.text
    assert '"total": {"formula": (r, ctx) => L.agg(\'sum\'' in body
    assert '"address": {"visible_if": (r, ctx) => L.eq(L.get(r, "delivery", \'s\'), "ship")' in body
    assert '"server": ["formula:client_tier"]' in body.replace("\n", "").replace("server: ", '"server": ')
    defs = shop.definitions()
    assert module_for(defs, "order") is module_for(defs, "order")
    runtime = client.get("/w/_js/expr-runtime.js")
    assert runtime.status_code == 200 and "window.LowcodeExpr" in runtime.text


def test_language_switch(client: Any, login: Callable[..., str], shop_ids: Any) -> None:
    login("sales1")
    assert "下单日期" in client.get("/w/order/new").text
    assert "Order date" in client.get("/w/order/new?lang=en").text
    assert "Order date" in client.get("/w/order/new").text  # remembered in the session


def test_a_resent_create_makes_one_record(client: Any, login: Callable[..., str], shop_ids: Any, shop: Any) -> None:
    token = login("sales1")
    once = re.search(r'name="once" value="([^"]+)"', client.get("/w/order/new").text)[1]
    data = order_form(token, shop_ids, once=once, po="PO-once")
    first = client.post("/w/order/new", data=data)
    again = client.post("/w/order/new", data=data)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    from engine.listing import ListQuery
    from engine.service import Records

    assert Records(shop).list_records(shop.system_context(), "order", ListQuery())["total"] == 1


def test_date_times_are_shown_and_entered_in_the_packs_time_zone(
    client: Any, login: Callable[..., str], shop_ids: Any, shop: Any
) -> None:
    token = login("sales1")
    resp = client.post("/w/order/new", data=order_form(token, shop_ids, deliver_by="2026-11-05T09:30"))
    assert resp.status_code == 302
    from engine.service import Records

    assert Records(shop).get(shop.system_context(), "order", 1)["deliver_by"].startswith("2026-11-05T01:30")
    assert "2026-11-05 09:30" in client.get("/w/order/1").text
    assert 'name="deliver_by" id="f-deliver_by" value="2026-11-05 09:30"' in client.get("/w/order/1/edit").text


def test_conditions_are_enforced_by_the_server_too(client: Any, login: Callable[..., str], shop_ids: Any) -> None:
    """A post that skips the browser's logic still meets required_if and readonly_if."""
    token = login("sales1")
    resp = client.post("/w/order/new", data=order_form(token, shop_ids, delivery="ship"))
    assert resp.status_code == 422
    assert errors_of(resp.text, "address") == ["必填"]  # required_if: delivery == "ship"
    resp = client.post("/w/order/new", data=order_form(token, shop_ids, discount="0.1"))
    assert resp.status_code == 422
    assert errors_of(resp.text, "discount")  # readonly_if: not urgent


def test_an_order_saved_in_the_web_form_fires_the_packs_rules(db_url: str) -> None:
    """The generated forms are one more write path: the OMS approval-route rule runs for them too."""
    from engine.listing import ListQuery
    from engine.service import Records

    platform = make_platform(db_url, OMS)
    try:
        records = Records(platform)
        system = platform.system_context()
        cust = records.create(system, "customer", {"code": "C1", "name": "恒达", "tier": "A"})["id"]
        prod = records.create(system, "product", {"sku": "P1", "name": "合页", "price": "12.50"})["id"]
        client = create_app({"TESTING": True, "PLATFORM": platform, "SECRET_KEY": "s"}).test_client()
        token = csrf_of(client.get("/login").text)
        client.post("/login", data={"username": "sales1", "password": "sales123", "csrf_token": token})
        token = csrf_of(client.get("/w/sales_order/new").text)
        resp = client.post(
            "/w/sales_order/new",
            data={
                "csrf_token": token,
                "customer": str(cust),
                "order_date": "2026-11-02",
                "lines": "",
                "lines[0].product": str(prod),
                "lines[0].qty": "4",
            },
        )
        assert resp.status_code == 302, resp.text
        order = records.list_records(system, "sales_order", ListQuery())["items"][0]
        assert order["total"] == "50.00" and order["route"] == "auto"  # set by `decide approval_route`
    finally:
        platform.db.dispose()
