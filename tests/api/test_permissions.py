"""The permission matrix: each role x each read path x hidden field / foreign row."""

from __future__ import annotations

import pytest

from engine.store.system import users as lc_user
from tests.api.conftest import order_body


@pytest.fixture
def orders(client, auth, seed, platform):
    """Order A by sales1 for customer 1, order B by sales2 for customer 2; buyer1 is customer 1."""
    with platform.db.begin() as conn:
        conn.execute(lc_user.update().where(lc_user.c.username == "buyer1").values(customer_id=seed["c1"]["id"]))
    a = client.post(
        "/api/v1/records/sales_order",
        headers=auth("sales1"),
        json=order_body(seed["c1"]["id"], seed["p1"]["id"], po_number="A"),
    ).get_json()
    b = client.post(
        "/api/v1/records/sales_order",
        headers=auth("sales2"),
        json=order_body(seed["c2"]["id"], seed["p2"]["id"], po_number="B"),
    ).get_json()
    admin = auth("admin")
    for rec in (a, b):  # admin sets the money fields the others may not see
        resp = client.patch(
            f"/api/v1/records/sales_order/{rec['id']}",
            headers=admin,
            json={"version": rec["version"], "total": "125.00", "cost": "72.00", "margin": "53.00"},
        )
        assert resp.status_code == 200, resp.get_json()
    return {"A": a["id"], "B": b["id"]}


# who sees which orders, and which fields and sub-table columns are hidden from them
MATRIX = {
    "admin": ({"A", "B"}, set()),
    "sales1": ({"A"}, {"cost", "margin"}),
    "sales2": ({"B"}, {"cost", "margin"}),
    "wh1": ({"A", "B"}, {"cost", "margin", "total", "lines.unit_price", "lines.amount", "route"}),
    "buyer1": ({"A"}, {"cost", "margin"}),
}


def _shown(record, paths):
    """The fields and sub-table columns of ``paths`` that a record (as JSON) shows."""
    found = set()
    for path in paths:
        table, _, column = path.partition(".")
        if not column and table in record:
            found.add(path)
        elif column and any(column in line for line in record.get(table) or ()):
            found.add(path)
    return found


def _filters_of(path):
    """Filter expressions that read ``path``: directly, or through an aggregate over its sub-table."""
    table, _, column = path.partition(".")
    if not column:
        return [f"{path} > 0"]
    return [f"sum({path}) > 1000", f"count({table} where {column} > 0) > 0", f"max({path}) > 0 or qty_free"]


def _read_paths(client, headers, oid):
    """Every way of reading an order: get, list, filter, search, sort, history, as-of."""
    yield "get", client.get(f"/api/v1/records/sales_order/{oid}", headers=headers)
    yield "history", client.get(f"/api/v1/records/sales_order/{oid}/history", headers=headers)
    yield "as_of", client.get(f"/api/v1/records/sales_order/{oid}/history?at=2030-01-01T00:00:00Z", headers=headers)


@pytest.mark.parametrize("user", sorted(MATRIX))
def test_matrix(client, auth, orders, user):
    headers = auth(user)
    visible, hidden = MATRIX[user]
    listing = client.get("/api/v1/records/sales_order?limit=1", headers=headers).get_json()
    assert listing["total"] == len(visible)
    full = client.get("/api/v1/records/sales_order", headers=headers).get_json()
    assert {r["po_number"] for r in full["items"]} == visible
    searched = client.get("/api/v1/records/sales_order?q=SO-&sort=-order_date", headers=headers).get_json()
    assert searched["total"] == len(visible)
    filtered = client.get('/api/v1/records/sales_order?filter=po_number in ["A", "B"]', headers=headers)
    assert filtered.status_code == 200, filtered.get_json()
    assert filtered.get_json()["total"] == len(visible)
    for item in full["items"]:
        assert item["lines"] and not _shown(item, hidden), (user, item)
        assert _shown(item, {"lines.qty", "lines.product"}) == {"lines.qty", "lines.product"}
    for name, oid in orders.items():
        for path, resp in _read_paths(client, headers, oid):
            if name not in visible:
                assert resp.status_code == 404, (user, name, path)
                continue
            assert resp.status_code == 200, (user, name, path, resp.get_json())
            body = resp.get_data(as_text=True)
            assert '"qty"' in body, (user, name, path)
            for field in hidden:
                assert f'"{field.rpartition(".")[2]}"' not in body, (user, name, path, field)
    for field in hidden:
        for expr in _filters_of(field):
            resp = client.get("/api/v1/records/sales_order", headers=headers, query_string={"filter": expr})
            assert resp.status_code == 400, (user, expr)
            assert resp.get_json()["error"]["message"] == f"cannot filter by '{field}': sales_order has no such field"
        assert client.get(f"/api/v1/records/sales_order?sort={field}", headers=headers).status_code == 400
        assert client.get(f"/api/v1/records/sales_order?{field}__gt=0", headers=headers).status_code == 400
    if "lines.amount" not in hidden:  # a visible column is a filter input like any field
        resp = client.get(
            "/api/v1/records/sales_order",
            headers=headers,
            query_string={"filter": "sum(lines.amount) > 100 and count(lines where unit_price > 0) > 0"},
        )
        assert resp.status_code == 200 and resp.get_json()["total"] == len(visible), (user, resp.get_json())
    me = client.get("/api/v1/auth/me", headers=headers).get_json()
    if "sales_order" in me["forms"]:
        assert {k for k, v in me["forms"]["sales_order"]["fields"].items() if v == "hidden"} == hidden
    if "export" in me["forms"].get("sales_order", {}).get("actions", ()):
        header = (
            client.get("/api/v1/records/sales_order/export?format=csv&lang=en", headers=headers)
            .get_data(as_text=True)
            .splitlines()[0]
        )
        assert "Order lines.Quantity" in header
        labels = {
            "cost": "Cost",
            "margin": "Margin",
            "total": "Total",
            "lines.unit_price": "Order lines.Unit price",
            "lines.amount": "Order lines.Amount",
        }
        assert {f for f in labels if labels[f] in header.lstrip("\ufeff").split(",")} == set(labels) - hidden
    else:
        assert client.get("/api/v1/records/sales_order/export", headers=headers).status_code == 403


def test_hidden_and_readonly_fields_cannot_be_written(client, auth, orders):
    sales = auth("sales1")
    resp = client.patch(
        f"/api/v1/records/sales_order/{orders['A']}",
        headers={**sales, "Accept-Language": "en"},
        json={"version": 2, "status": "approved", "cost": "1"},
    )
    assert resp.status_code == 403
    assert resp.get_json()["error"]["fields"] == {"status": ["is read-only"], "cost": ["is read-only"]}


def test_foreign_rows_cannot_be_changed_or_created(client, auth, orders, seed):
    resp = client.patch(
        f"/api/v1/records/sales_order/{orders['B']}", headers=auth("sales1"), json={"version": 2, "remark": "not mine"}
    )
    assert resp.status_code == 404
    resp = client.post(
        "/api/v1/records/sales_order", headers=auth("buyer1"), json=order_body(seed["c2"]["id"], seed["p1"]["id"])
    )
    assert resp.status_code == 403  # the portal role has no create at all


def test_form_actions_are_enforced(client, auth, seed):
    assert (
        client.post("/api/v1/records/customer", headers=auth("sales1"), json={"code": "X", "name": "x"}).status_code
        == 403
    )
    assert client.get("/api/v1/records/customer", headers=auth("buyer1")).status_code == 403
    assert client.delete(f"/api/v1/records/product/{seed['p1']['id']}", headers=auth("wh1")).status_code == 403
    wh = client.get(f"/api/v1/records/product/{seed['p1']['id']}", headers=auth("wh1")).get_json()
    assert "price" not in wh and "cost" not in wh and wh["sku"] == "P-100"


def test_me_lists_permissions(client, auth):
    me = client.get("/api/v1/auth/me", headers=auth("sales1")).get_json()
    assert me["user"]["username"] == "sales1"
    assert me["forms"]["sales_order"] == {
        "actions": ["read", "create", "update", "export", "print"],
        "fields": {"cost": "hidden", "margin": "hidden", "status": "readonly", "route": "readonly"},
    }
    assert "customer" in me["forms"] and me["forms"]["customer"]["actions"] == ["read"]


@pytest.mark.parametrize(
    "user,expr,allowed",
    [
        ("sales1", 'customer.tier == "A"', True),  # sales read every customer
        ("wh1", 'customer.tier == "A"', False),  # warehouse may not read customers
        ("buyer1", "exists(sales_order where customer != my.customer)", False),  # rows it may not see
        ("sales1", "exists(sales_order where total > 0)", False),  # rows filtered, total hidden
        ("wh1", "count(sales_order where total > 100) > 0", False),  # total hidden from warehouse
        ("admin", "exists(sales_order where customer != this.customer)", True),
    ],
)
def test_filters_cannot_look_into_what_the_caller_may_not_read(client, auth, orders, user, expr, allowed):
    resp = client.get("/api/v1/records/sales_order", headers=auth(user), query_string={"filter": expr})
    if allowed:
        assert resp.status_code == 200, resp.get_json()
    else:
        assert resp.status_code == 400, resp.get_json()
        assert (
            "not allowed in a filter for your role" in str(resp.get_json()["error"]["fields"])
            or "no such field" in resp.get_json()["error"]["message"]
        )
