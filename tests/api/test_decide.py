"""The OMS approval route: a rule decides it from the approval_route decision table, through the API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import order_body


def _order(client: Any, headers: dict[str, str], customer: int, product: int, qty: int, **extra: Any) -> dict[str, Any]:
    body = order_body(customer, product, lines=[{"product": product, "qty": qty}], **extra)
    resp = client.post("/api/v1/records/sales_order", headers=headers, json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


@pytest.mark.parametrize(
    "who, customer, product, qty, channel, route",
    [
        ("admin", "c1", "p1", 10, "manual", "auto"),  # tier A, 125.00
        ("sales1", "c1", "p1", 3000, "manual", "auto"),  # tier A, 37,500.00
        ("admin", "c1", "p2", 2000, "manual", "manager"),  # tier A, 60,000.00
        ("admin", "c2", "p1", 10, "manual", "manager"),  # tier B, small, entered by hand
        ("admin", "c2", "p1", 10, "api", "auto"),  # tier B, < 10,000 through the API channel
        ("sales1", "c2", "p2", 7000, "manual", "gm"),  # 210,000.00
        ("admin", "c1", "p2", 6667, "manual", "gm"),  # tier A but >= 200,000 (200,010.00)
    ],
)
def test_creating_an_order_sets_its_route_from_the_table(
    client, auth, seed, who, customer, product, qty, channel, route
):
    headers = auth(who)
    made = _order(client, headers, seed[customer]["id"], seed[product]["id"], qty, channel=channel)
    assert made["route"] == route
    again = client.get(f"/api/v1/records/sales_order/{made['id']}", headers=headers).get_json()
    assert again["route"] == route and again["version"] == made["version"]


def test_a_new_total_decides_the_route_again(client, auth, seed):
    admin = auth("admin")
    made = _order(client, admin, seed["c2"]["id"], seed["p1"]["id"], 10)
    assert made["route"] == "manager"
    line = made["lines"][0]
    resp = client.patch(
        f"/api/v1/records/sales_order/{made['id']}",
        headers=admin,
        json={"version": made["version"], "lines": [{"id": line["id"], "product": seed["p2"]["id"], "qty": 7000}]},
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["route"] == "gm"
    remark = client.patch(
        f"/api/v1/records/sales_order/{made['id']}",
        headers=admin,
        json={"version": resp.get_json()["version"], "remark": "加急"},
    )
    assert remark.status_code == 200 and remark.get_json()["route"] == "gm"


def test_sales_cannot_set_the_route_themselves(client, auth, seed):
    sales = auth("sales1")
    body = order_body(
        seed["c2"]["id"], seed["p2"]["id"], lines=[{"product": seed["p2"]["id"], "qty": 7000}], route="auto"
    )
    resp = client.post("/api/v1/records/sales_order", headers=sales, json=body)
    assert resp.status_code in (201, 403, 422), resp.get_json()
    if resp.status_code == 201:
        assert resp.get_json()["route"] == "gm"


def test_the_route_is_part_of_the_change_that_decides_it_one_version_each(client, auth, seed):
    """A rule's decide/set on the record whose change triggered it amends that change's version:
    the order is born at version 1 and a PATCH that changes the total is one version, not two;
    the audit says which fields the rule set, and the rule log has no loop-guard rows."""
    admin = auth("admin")
    made = _order(client, admin, seed["c2"]["id"], seed["p1"]["id"], 10)
    assert (made["version"], made["route"]) == (1, "manager")
    line = made["lines"][0]
    resp = client.patch(
        f"/api/v1/records/sales_order/{made['id']}",
        headers={**admin, "If-Match": '"1"'},
        json={"lines": [{"id": line["id"], "product": seed["p2"]["id"], "qty": 7000}]},
    )
    assert resp.status_code == 200, resp.get_json()
    assert (resp.get_json()["version"], resp.get_json()["route"]) == (2, "gm")
    assert resp.headers["ETag"] == '"2"'
    hist = client.get(f"/api/v1/records/sales_order/{made['id']}/history", headers=admin).get_json()
    assert [(a["action"], a["version"], a["source"]) for a in hist["audit"]] == [
        ("create", 1, "api"),
        ("update", 1, "rule"),
        ("update", 2, "api"),
        ("update", 2, "rule"),
    ]
    assert hist["audit"][1]["changes"] == {"route": [None, "manager"]}
    assert hist["audit"][3]["changes"] == {"route": ["manager", "gm"]}
    assert "route" not in hist["audit"][0]["changes"] and "route" not in hist["audit"][2]["changes"]
    assert [(v["version"], v["data"]["route"]) for v in hist["versions"]] == [(1, "manager"), (2, "gm")]
    runs = client.get(f"/api/v1/rules/runs?record={made['id']}&form=sales_order&limit=500", headers=admin).get_json()[
        "items"
    ]
    # newest first: each change ran each rule once (the route's own write triggers nothing more)
    assert [(r["rule"], r["outcome"], r["event"], r["depth"]) for r in runs] == [
        ("审批路线", "fired", "updated", 0),
        ("超出信用额度", "skipped", "updated", 0),
        ("审批路线", "fired", "created", 0),
        ("超出信用额度", "skipped", "created", 0),
    ]
