"""Flags the rules put on records: in the record's answer and in lists (filterable by ``flag``),
under the same row and field permissions as the record; ``Records.flags`` for other callers
(the workspace's pages)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.definitions.loader import read_pack_files
from engine.service import Records
from tests.api.conftest import PACK, order_body

OVER = {
    "colour": "red",
    "tag": "超出信用额度 / over credit limit",
    "rule": "超出信用额度",
    "at": "2026-11-02T08:00:00+00:00",
}


@pytest.fixture
def orders(client: Any, auth: Any, seed: dict[str, Any]) -> dict[str, Any]:
    """sales1's order over the customer's credit limit (flagged red) and one within it."""
    admin = auth("admin")
    resp = client.patch(
        f"/api/v1/records/customer/{seed['c1']['id']}", headers=admin, json={"version": 1, "credit_limit": "1000.00"}
    )
    assert resp.status_code == 200, resp.get_json()
    sales = auth("sales1")
    big = client.post(
        "/api/v1/records/sales_order",
        headers=sales,
        json=order_body(seed["c1"]["id"], seed["p1"]["id"], lines=[{"product": seed["p1"]["id"], "qty": 100}]),
    )
    small = client.post(
        "/api/v1/records/sales_order", headers=sales, json=order_body(seed["c1"]["id"], seed["p1"]["id"])
    )
    assert big.status_code == small.status_code == 201, (big.get_json(), small.get_json())
    return {"big": big.get_json(), "small": small.get_json()}


def test_a_flag_is_in_the_records_answer_and_its_lists(client, auth, orders):
    sales = auth("sales1")
    big, small = orders["big"], orders["small"]
    assert big["total"] == "1250.00" and big["flags"] == [OVER] and small["flags"] == []
    assert client.get(f"/api/v1/records/sales_order/{big['id']}", headers=sales).get_json()["flags"] == [OVER]
    listed = client.get("/api/v1/records/sales_order", headers=sales).get_json()["items"]
    assert [(o["id"], o["flags"]) for o in listed] == [(big["id"], [OVER]), (small["id"], [])]
    # changing the order again (total still over the limit) flags it again: still one flag, the latest time
    resp = client.patch(
        f"/api/v1/records/sales_order/{big['id']}",
        headers={**sales, "If-Match": '"1"'},
        json={"lines": [{"product": big["lines"][0]["product"], "qty": 200}]},
    )
    assert resp.status_code == 200 and resp.get_json()["flags"] == [OVER]


@pytest.mark.parametrize("flag, expected", [("red", ["big"]), ("any", ["big"]), ("red,orange", ["big"]), ("blue", [])])
def test_lists_filter_by_flag(client, auth, orders, flag, expected):
    body = client.get(f"/api/v1/records/sales_order?flag={flag}", headers=auth("sales1")).get_json()
    assert [o["id"] for o in body["items"]] == [orders[k]["id"] for k in expected]
    assert body["total"] == len(expected)


def test_an_unknown_flag_colour_is_a_400_naming_the_colours(client, auth, orders):
    resp = client.get("/api/v1/records/sales_order?flag=pink", headers={**auth("sales1"), "Accept-Language": "en"})
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["fields"] == {
        "flag": [
            "unknown flag colour 'pink' (use any, or one or more of: red, orange, yellow, green, blue, purple, grey)"
        ]
    }


def test_flags_follow_the_row_permissions(client, auth, orders, platform):
    other = auth("sales2")  # sees only their own orders
    assert client.get("/api/v1/records/sales_order?flag=red", headers=other).get_json()["total"] == 0
    assert client.get(f"/api/v1/records/sales_order/{orders['big']['id']}", headers=other).status_code == 404
    records, big = Records(platform), orders["big"]["id"]
    (row,) = records.flags(platform.user_context("sales1"), "sales_order", [big, orders["small"]["id"]])[big]
    assert {**row, "at": row["at"].isoformat()} == OVER
    assert records.flags(platform.user_context("sales2"), "sales_order", [big]) == {}


def test_a_tag_that_shows_a_hidden_field_is_left_out_for_that_role(client, auth, seed, platform):
    files = read_pack_files(PACK)
    files["rules/orders.rules"] += '\nrule "毛利"\n  when created then flag orange "毛利 {margin}"\n'
    platform.publish(PACK, files)
    body = order_body(
        seed["c2"]["id"],
        seed["p1"]["id"],
        lines=[{"product": seed["p1"]["id"], "qty": 10, "unit_price": "12.50"}],
        cost="100.00",
    )
    made = client.post("/api/v1/records/sales_order", headers=auth("admin"), json=body).get_json()
    margin = {"colour": "orange", "rule": "毛利", "at": "2026-11-02T08:00:00+00:00"}
    assert made["flags"] == [{**margin, "tag": "毛利 25"}]
    # warehouse reads every order but not its margin: the flag, without its tag
    seen = client.get(f"/api/v1/records/sales_order/{made['id']}", headers=auth("wh1")).get_json()
    assert "margin" not in seen and seen["flags"] == [{**margin, "tag": None}]


def test_a_tag_that_shows_a_hidden_sub_table_column_is_left_out(client, auth, seed, platform):
    files = read_pack_files(PACK)
    files["rules/orders.rules"] += (
        '\nrule "单价"\n  when created then for line in lines flag grey "单价 {line.unit_price}"\n'
        'rule "数量"\n  when created then for line in lines flag blue "数量 {line.qty}"\n'
    )
    platform.publish(PACK, files)
    made = client.post(
        "/api/v1/records/sales_order", headers=auth("admin"), json=order_body(seed["c2"]["id"], seed["p1"]["id"])
    ).get_json()
    assert [(f["rule"], f["tag"]) for f in made["flags"]] == [("单价", "单价 12.50"), ("数量", "数量 10")]
    # warehouse may not see a line's unit price (roles.yaml: lines.unit_price: hidden), but its quantity
    seen = client.get(f"/api/v1/records/sales_order/{made['id']}", headers=auth("wh1")).get_json()
    assert [(f["rule"], f["tag"]) for f in seen["flags"]] == [("单价", None), ("数量", "数量 10")]
