"""Records over the API: create, read, update with versions, delete, history, errors."""

from __future__ import annotations

import re

from tests.api.conftest import order_body


def test_login_wrong_password_and_missing_token(client):
    resp = client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": "nope"}, headers={"Accept-Language": "en"}
    )
    assert resp.status_code == 401
    assert resp.get_json() == {"error": {"code": "unauthorized", "message": "wrong username or password", "fields": {}}}
    resp = client.post("/api/v1/auth/login", json={"username": "admin", "password": "nope"})
    assert resp.get_json()["error"]["message"] == "用户名或密码错误"  # the pack's language by default
    resp = client.get("/api/v1/records/customer")
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthorized"


def test_logout_revokes_the_token(client, auth):
    headers = auth("sales1")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 200
    resp = client.get("/api/v1/auth/me", headers={**headers, "Accept-Language": "en"})
    assert resp.status_code == 401
    assert resp.get_json()["error"]["message"] == "invalid, expired or revoked token"


def test_create_read_update_delete_order(client, auth, seed):
    sales = auth("sales1")
    resp = client.post(
        "/api/v1/records/sales_order",
        headers=sales,
        json=order_body(seed["c1"]["id"], seed["p1"]["id"], po_number="PO-1"),
    )
    assert resp.status_code == 201, resp.get_json()
    order = resp.get_json()
    assert order["number"] == "SO-202611-00001"
    # version 1: the approval-route rule's decide (route) is part of the create
    assert order["status"] == "draft" and order["version"] == 1 and order["route"] == "auto"
    assert order["lines"][0]["qty"] == 10 and order["lines"][0]["unit_price"] == "12.50"
    assert "cost" not in order and "margin" not in order
    assert resp.headers["ETag"] == '"1"'
    assert resp.headers["Location"] == f"/api/v1/records/sales_order/{order['id']}"

    got = client.get(f"/api/v1/records/sales_order/{order['id']}", headers=sales).get_json()
    assert got == order

    resp = client.patch(
        f"/api/v1/records/sales_order/{order['id']}",
        headers={**sales, "If-Match": '"1"'},
        json={"remark": "加急", "lines": [{"product": seed["p2"]["id"], "qty": 3, "unit_price": "30"}]},
    )
    assert resp.status_code == 200, resp.get_json()
    updated = resp.get_json()
    assert updated["version"] == 2 and updated["remark"] == "加急"
    assert [(line["product"], line["qty"]) for line in updated["lines"]] == [(seed["p2"]["id"], 3)]

    admin = auth("admin")
    resp = client.delete(f"/api/v1/records/sales_order/{order['id']}", headers={**admin, "If-Match": "2"})
    assert resp.status_code == 204
    assert client.get(f"/api/v1/records/sales_order/{order['id']}", headers=admin).status_code == 404


def test_stale_version_gets_409_and_missing_version_428(client, auth, seed):
    admin = {**auth("admin"), "Accept-Language": "en"}
    cid = seed["c1"]["id"]
    first = client.patch(f"/api/v1/records/customer/{cid}", headers=admin, json={"version": 1, "contact": "王"})
    assert first.status_code == 200 and first.get_json()["version"] == 2
    stale = client.patch(f"/api/v1/records/customer/{cid}", headers=admin, json={"version": 1, "contact": "李"})
    assert stale.status_code == 409
    assert stale.get_json()["error"]["message"] == (
        f"Customer {cid} was changed by someone else (version 2, you have 1); reload and try again"
    )
    missing = client.patch(f"/api/v1/records/customer/{cid}", headers=admin, json={"contact": "李"})
    assert missing.status_code == 428
    assert client.get(f"/api/v1/records/customer/{cid}", headers=admin).get_json()["contact"] == "王"


def test_validation_errors_all_at_once_by_field(client, auth, seed):
    admin = auth("admin")
    resp = client.post(
        "/api/v1/records/sales_order",
        headers={**admin, "Accept-Language": "en"},
        json={
            "customer": 999,
            "order_date": "not a date",
            "colour": "red",
            "lines": [{"product": seed["p1"]["id"], "qty": 0}, {"qty": "x"}],
        },
    )
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    assert fields == {
        "colour": ["unknown field"],
        "order_date": ["must be a date (YYYY-MM-DD)"],
        "lines[1].qty": ["must be at least 1"],
        "lines[2].product": ["is required"],
        "lines[2].qty": ["must be a whole number"],
    }
    resp = client.post(
        "/api/v1/records/sales_order",
        headers={**admin, "Accept-Language": "zh-CN"},
        json={"customer": 999, "order_date": "2026-11-02"},
    )
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"] == {"customer": ["引用的记录 999 不存在"]}


def test_malformed_json_is_400_and_unknown_form_404(client, auth):
    admin = auth("admin")
    resp = client.post(
        "/api/v1/records/customer", headers={**admin, "Content-Type": "application/json"}, data="{not json"
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "bad_request"
    resp = client.get("/api/v1/records/nosuchform", headers=admin)
    assert resp.status_code == 404
    assert resp.get_json()["error"]["message"] == "no form named 'nosuchform'"


def test_duplicate_unique_key_is_409_naming_the_field(client, auth, seed):
    admin = auth("admin")
    resp = client.post(
        "/api/v1/records/customer", headers={**admin, "Accept-Language": "en"}, json={"code": "C001", "name": "again"}
    )
    assert resp.status_code == 409
    assert resp.get_json()["error"]["fields"] == {"code": ["duplicate: a record with the same Customer code exists"]}
    body = order_body(seed["c1"]["id"], seed["p1"]["id"], po_number="PO-9")
    assert client.post("/api/v1/records/sales_order", headers=admin, json=body).status_code == 201
    resp = client.post("/api/v1/records/sales_order", headers={**admin, "Accept-Language": "en"}, json=body)
    assert resp.status_code == 409
    assert resp.get_json()["error"]["fields"] == dict.fromkeys(
        ["customer", "po_number"], ["duplicate: a record with the same Customer and Customer PO number exists"]
    )
    resp = client.post("/api/v1/records/customer", headers=admin, json={"code": "C001", "name": "again"})
    assert resp.get_json()["error"]["fields"] == {"code": ["值重复: 已有客户编码相同的记录"]}
    resp = client.post("/api/v1/records/sales_order", headers=admin, json=body)
    assert resp.get_json()["error"]["message"] == "值重复: 已有客户、客户采购单号相同的记录"


def test_history_has_field_level_audit_and_versions(client, auth, seed, clock):
    admin = auth("admin")
    cid = seed["c2"]["id"]
    clock.advance(hours=1)
    client.patch(f"/api/v1/records/customer/{cid}", headers=admin, json={"version": 1, "tier": "A"})
    clock.advance(hours=1)
    client.patch(f"/api/v1/records/customer/{cid}", headers=admin, json={"version": 2, "tier": "C"})
    hist = client.get(f"/api/v1/records/customer/{cid}/history", headers=admin).get_json()
    assert [a["action"] for a in hist["audit"]] == ["create", "update", "update"]
    assert hist["audit"][1]["changes"] == {"tier": ["B", "A"]}
    assert hist["audit"][1]["username"] == "admin"
    assert [v["version"] for v in hist["versions"]] == [1, 2, 3]
    as_of = client.get(f"/api/v1/records/customer/{cid}/history?at=2026-11-02T09:30:00Z", headers=admin)
    assert as_of.get_json()["record"]["tier"] == "A"
    before = client.get(f"/api/v1/records/customer/{cid}/history?at=2026-11-01T00:00:00Z", headers=admin)
    assert before.status_code == 404


def test_openapi_document_lists_every_form(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    assert {
        "/records/customer",
        "/records/sales_order/{id}",
        "/records/product/{id}/history",
        "/records/sales_order/batch",
        "/records/sales_order/import",
        "/records/sales_order/export",
        "/rules/runs",
        "/rules/runs/{id}/rerun",
        "/hooks/{name}",
        "/files",
        "/files/{id}",
        "/auth/login",
    } <= set(doc["paths"])

    def shape(path):  # every path parameter looks alike: <x>
        return re.sub(r"<[^>]+>|\{[^}]+\}", "<x>", path)

    documented = {shape(p) for p in doc["paths"]}
    for rule in client.application.url_map.iter_rules():
        path = rule.rule.removeprefix("/api/v1")
        if not rule.rule.startswith("/api/v1/") or path == "/openapi.json":
            continue
        for form in ("customer", "product", "sales_order"):
            assert shape(path.replace("<form>", form)) in documented, f"{rule.rule} is not in the OpenAPI document"
    order = doc["components"]["schemas"]["sales_order_input"]
    assert (
        order["properties"]["lines"]["items"]["properties"]["qty"]["type"] == ["integer", "null"]
        or order["properties"]["lines"]["items"]["properties"]["qty"]["type"] == "integer"
    )
    assert "customer" in order["required"]


def test_unknown_api_route_is_json_404_and_wrong_method_405(client, auth):
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    resp = client.put("/api/v1/records/customer", headers=auth("admin"), json={})
    assert resp.status_code == 405 and resp.get_json()["error"]["code"] == "method_not_allowed"


def test_idempotency_key_replays_the_first_answer(client, auth, seed):
    sales = auth("sales1")
    body = order_body(seed["c1"]["id"], seed["p1"]["id"], po_number="IDEM")
    headers = {**sales, "Idempotency-Key": "shop-order-8812"}
    first = client.post("/api/v1/records/sales_order", headers=headers, json=body)
    again = client.post("/api/v1/records/sales_order", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    listing = client.get("/api/v1/records/sales_order?po_number=IDEM", headers=sales).get_json()
    assert listing["total"] == 1
    other = client.post(
        "/api/v1/records/customer", headers={**auth("admin"), "Idempotency-Key": "k1"}, json={"code": "K1", "name": "k"}
    )
    assert other.status_code == 201
    reuse = client.patch(
        f"/api/v1/records/customer/{other.get_json()['id']}",
        headers={**auth("admin"), "Idempotency-Key": "k1", "If-Match": "1", "Accept-Language": "en"},
        json={"name": "z"},
    )
    assert reuse.status_code == 409
    assert "was already used for POST /api/v1/records/customer" in reuse.get_json()["error"]["message"]


def test_concurrent_replays_write_once(platform, seed):
    import threading

    from engine.service import Records
    from engine.store.idempotency import IdempotencyKey

    records = Records(platform)
    ctx = platform.user_context("sales1")
    idem = IdempotencyKey(ctx.user_id, "dup-1", "POST /api/v1/records/sales_order")
    body = order_body(seed["c1"]["id"], seed["p1"]["id"], po_number="TWIN")
    barrier = threading.Barrier(4)
    answers = []

    def send():
        barrier.wait()
        answers.append(records.create(ctx, "sales_order", body, idem=idem)["id"])

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 4 and len(set(answers)) == 1


def test_a_deleted_records_id_is_never_reused(client, auth):
    admin = auth("admin")
    first = client.post("/api/v1/records/customer", headers=admin, json={"code": "D1", "name": "d"}).get_json()
    assert client.delete(f"/api/v1/records/customer/{first['id']}", headers=admin).status_code == 204
    second = client.post("/api/v1/records/customer", headers=admin, json={"code": "D2", "name": "e"})
    assert second.status_code == 201, second.get_json()
    assert second.get_json()["id"] > first["id"]
    hist = client.get(f"/api/v1/records/customer/{first['id']}/history", headers=admin).get_json()
    assert [a["action"] for a in hist["audit"]] == ["create", "delete"]
