"""POST /records/<form>/batch: creates and updates in one transaction, errors by item index."""
from __future__ import annotations

from tests.api.conftest import order_body


def _count(client, headers, form="sales_order"):
    return client.get(f"/api/v1/records/{form}?limit=1", headers=headers).get_json()["total"]


def test_batch_creates_all(client, auth, seed):
    admin = auth("admin")
    items = [order_body(seed["c1"]["id"], seed["p1"]["id"], po_number=f"B-{i}") for i in range(5)]
    resp = client.post("/api/v1/records/sales_order/batch", headers=admin, json={"items": items})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["count"] == 5 and [r["po_number"] for r in body["items"]] == [f"B-{i}" for i in range(5)]
    # version 1: the approval-route rule's decide (route) is part of the create, not a version of its own
    assert all(r["version"] == 1 and r["route"] == "auto" and len(r["lines"]) == 1 for r in body["items"])
    assert _count(client, admin) == 5


def test_batch_is_all_or_nothing_with_item_indexed_errors(client, auth, seed):
    admin = auth("admin")
    items = [order_body(seed["c1"]["id"], seed["p1"]["id"], po_number=f"B-{i}") for i in range(5)]
    items[3]["lines"].append({"product": seed["p2"]["id"], "qty": 0, "unit_price": "1"})
    items[1]["order_date"] = "not a date"
    resp = client.post("/api/v1/records/sales_order/batch", headers={**admin, "Accept-Language": "en"},
                       json={"items": items})
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert err["code"] == "invalid"
    assert err["fields"] == {"items[1].order_date": ["must be a date (YYYY-MM-DD)"],
                             "items[3].lines[2].qty": ["must be at least 1"]}
    assert _count(client, admin) == 0


def test_batch_missing_link_and_duplicate_roll_back_everything(client, auth, seed):
    admin = auth("admin")
    items = [order_body(seed["c1"]["id"], seed["p1"]["id"], po_number="X"),
             order_body(999, seed["p1"]["id"], po_number="Y")]
    resp = client.post("/api/v1/records/sales_order/batch", headers=admin, json={"items": items})
    assert resp.status_code == 422
    assert list(resp.get_json()["error"]["fields"]) == ["items[1].customer"]
    items = [order_body(seed["c1"]["id"], seed["p1"]["id"], po_number="X")] * 2
    resp = client.post("/api/v1/records/sales_order/batch", headers=admin, json={"items": items})
    assert resp.status_code == 409
    assert _count(client, admin) == 0


def test_batch_updates_need_versions_and_stale_ones_fail_all(client, auth, seed):
    admin = auth("admin")
    made = client.post("/api/v1/records/sales_order/batch", headers=admin, json={"items": [
        order_body(seed["c1"]["id"], seed["p1"]["id"], po_number=f"U-{i}") for i in range(2)]}).get_json()["items"]
    ok = [{"id": r["id"], "version": r["version"], "remark": "改"} for r in made]
    resp = client.post("/api/v1/records/sales_order/batch", headers=admin, json={"items": ok})
    assert resp.status_code == 200 and [r["version"] for r in resp.get_json()["items"]] == [2, 2]
    stale = [{"id": made[0]["id"], "version": 2, "remark": "a"}, {"id": made[1]["id"], "version": 1, "remark": "b"}]
    resp = client.post("/api/v1/records/sales_order/batch", headers=admin, json={"items": stale})
    assert resp.status_code == 409 and "items[1]" in resp.get_json()["error"]["message"]
    got = client.get(f"/api/v1/records/sales_order/{made[0]['id']}", headers=admin).get_json()
    assert got["remark"] == "改" and got["version"] == 2


def test_batch_permissions_and_limit(client, auth, seed, app):
    wh = auth("wh1")
    resp = client.post("/api/v1/records/sales_order/batch", headers=wh,
                       json={"items": [order_body(seed["c1"]["id"], seed["p1"]["id"])]})
    assert resp.status_code == 403
    resp = client.post("/api/v1/records/sales_order/batch", headers=auth("sales1"),
                       json={"items": [order_body(seed["c1"]["id"], seed["p1"]["id"], cost="1.00")]})
    assert resp.status_code == 403 and list(resp.get_json()["error"]["fields"]) == ["items[0].cost"]
    app.config["BATCH_MAX_ITEMS"] = 2
    resp = client.post("/api/v1/records/sales_order/batch", headers=auth("admin"),
                       json={"items": [order_body(seed["c1"]["id"], seed["p1"]["id"])] * 3})
    assert resp.status_code == 400 and "at most 2" in resp.get_json()["error"]["message"]
    resp = client.post("/api/v1/records/sales_order/batch", headers=auth("admin"), json=[1])
    assert resp.status_code == 400
