"""POST /records/<form>/batch: creates and updates in one transaction, errors by item index."""

from __future__ import annotations

from tests.api.conftest import order_body
from tests.threads import together


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
    resp = client.post(
        "/api/v1/records/sales_order/batch", headers={**admin, "Accept-Language": "en"}, json={"items": items}
    )
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert err["code"] == "invalid"
    assert err["fields"] == {
        "items[1].order_date": ["must be a date (YYYY-MM-DD)"],
        "items[3].lines[2].qty": ["must be at least 1"],
    }
    assert _count(client, admin) == 0


def test_batch_missing_link_and_duplicate_roll_back_everything(client, auth, seed):
    admin = auth("admin")
    items = [
        order_body(seed["c1"]["id"], seed["p1"]["id"], po_number="X"),
        order_body(999, seed["p1"]["id"], po_number="Y"),
    ]
    resp = client.post("/api/v1/records/sales_order/batch", headers=admin, json={"items": items})
    assert resp.status_code == 422
    assert list(resp.get_json()["error"]["fields"]) == ["items[1].customer"]
    items = [order_body(seed["c1"]["id"], seed["p1"]["id"], po_number="X")] * 2
    resp = client.post("/api/v1/records/sales_order/batch", headers=admin, json={"items": items})
    assert resp.status_code == 409
    assert _count(client, admin) == 0


def test_batch_updates_need_versions_and_stale_ones_fail_all(client, auth, seed):
    admin = auth("admin")
    made = client.post(
        "/api/v1/records/sales_order/batch",
        headers=admin,
        json={"items": [order_body(seed["c1"]["id"], seed["p1"]["id"], po_number=f"U-{i}") for i in range(2)]},
    ).get_json()["items"]
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
    resp = client.post(
        "/api/v1/records/sales_order/batch",
        headers=wh,
        json={"items": [order_body(seed["c1"]["id"], seed["p1"]["id"])]},
    )
    assert resp.status_code == 403
    resp = client.post(
        "/api/v1/records/sales_order/batch",
        headers=auth("sales1"),
        json={"items": [order_body(seed["c1"]["id"], seed["p1"]["id"], cost="1.00")]},
    )
    assert resp.status_code == 403 and list(resp.get_json()["error"]["fields"]) == ["items[0].cost"]
    app.config["BATCH_MAX_ITEMS"] = 2
    resp = client.post(
        "/api/v1/records/sales_order/batch",
        headers=auth("admin"),
        json={"items": [order_body(seed["c1"]["id"], seed["p1"]["id"])] * 3},
    )
    assert resp.status_code == 400 and "at most 2" in resp.get_json()["error"]["message"]
    resp = client.post("/api/v1/records/sales_order/batch", headers=auth("admin"), json=[1])
    assert resp.status_code == 400


def test_a_batch_with_an_idempotency_key_is_written_once(client, auth, seed):
    admin = auth("admin")
    items = [order_body(seed["c1"]["id"], seed["p1"]["id"], po_number=f"K-{i}") for i in range(3)]
    keyed = {**admin, "Idempotency-Key": "batch-1"}
    first = client.post("/api/v1/records/sales_order/batch", headers=keyed, json={"items": items})
    again = client.post("/api/v1/records/sales_order/batch", headers=keyed, json={"items": items})
    assert first.status_code == again.status_code == 200, first.get_json()
    assert again.get_json() == first.get_json() and first.get_json()["count"] == 3
    assert _count(client, admin) == 3
    other = client.post(
        "/api/v1/records/sales_order/batch", headers={**keyed, "Accept-Language": "en"}, json={"items": items[:1]}
    )
    assert other.status_code == 409 and "already used with a different body" in other.get_json()["error"]["message"]
    elsewhere = client.post(
        "/api/v1/records/customer/batch", headers=keyed, json={"items": [{"code": "K", "name": "k"}]}
    )
    assert elsewhere.status_code == 409 and _count(client, admin, "customer") == 2
    assert _count(client, admin) == 3


def test_a_failed_batch_frees_its_key(client, auth, seed):
    admin = auth("admin")
    keyed = {**admin, "Idempotency-Key": "batch-2"}
    good = order_body(seed["c1"]["id"], seed["p1"]["id"], po_number="F-1")
    bad = {"items": [good, order_body(seed["c1"]["id"], 999, po_number="F-2")]}
    assert client.post("/api/v1/records/sales_order/batch", headers=keyed, json=bad).status_code == 422
    resp = client.post("/api/v1/records/sales_order/batch", headers=keyed, json={"items": [good]})
    assert resp.status_code == 200 and resp.get_json()["count"] == 1
    assert _count(client, admin) == 1


def test_concurrent_twin_batches_write_once(platform, seed):
    import threading

    from engine.service import Records
    from engine.store.idempotency import IdempotencyKey, body_digest

    records = Records(platform)
    ctx = platform.user_context("admin")
    items = [order_body(seed["c1"]["id"], seed["p1"]["id"], po_number=f"T-{i}") for i in range(2)]
    idem = IdempotencyKey(ctx.user_id, "twins", "POST /api/v1/records/sales_order/batch", body_digest(b"same"))
    barrier, answers, errors = threading.Barrier(4), [], []

    def send():
        barrier.wait()
        try:
            answers.append(tuple(r["id"] for r in records.batch(ctx, "sales_order", items, idem=idem)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    together(4, send)
    assert not errors and len(answers) == 4 and len(set(answers)) == 1
    with platform.db.connect() as conn:
        table = platform.definitions().tables.table("sales_order")
        import sqlalchemy as sa

        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 2


def test_two_updates_of_one_record_are_refused_naming_both_items(client, auth, seed):
    """Items 2 and 5 both update the first order: neither may silently undo the other, and
    nothing is written (neither the creates nor the other update)."""
    admin = auth("admin")
    made = client.post(
        "/api/v1/records/sales_order/batch",
        headers=admin,
        json={"items": [order_body(seed["c1"]["id"], seed["p1"]["id"], po_number=f"D-{i}") for i in range(2)]},
    ).get_json()["items"]
    first, other = made
    items = [
        order_body(seed["c1"]["id"], seed["p1"]["id"], po_number="new-1"),
        {"id": other["id"], "version": other["version"], "remark": "ok"},
        {"id": first["id"], "version": first["version"], "remark": "周五发货"},
        order_body(seed["c1"]["id"], seed["p1"]["id"], po_number="new-2"),
        order_body(seed["c2"]["id"], seed["p2"]["id"], po_number="new-3"),
        {"id": first["id"], "version": first["version"], "remark": "今天发货"},
    ]
    resp = client.post(
        "/api/v1/records/sales_order/batch", headers={**admin, "Accept-Language": "en"}, json={"items": items}
    )
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"] == {
        "items[2].id": [
            f"names the same record as items[5] (sales_order {first['id']}): a batch may change a record once"
        ],
        "items[5].id": [
            f"names the same record as items[2] (sales_order {first['id']}): a batch may change a record once"
        ],
    }
    resp = client.post("/api/v1/records/sales_order/batch", headers=admin, json={"items": items[1:3] + items[5:]})
    assert resp.status_code == 422 and resp.get_json()["error"]["fields"]["items[1].id"] == [
        f"与 items[2] 是同一条记录 (sales_order {first['id']}): 一批中每条记录只能修改一次"
    ]
    assert _count(client, admin) == 2
    for rec in made:
        got = client.get(f"/api/v1/records/sales_order/{rec['id']}", headers=admin).get_json()
        assert (got["version"], got["remark"]) == (rec["version"], None)
