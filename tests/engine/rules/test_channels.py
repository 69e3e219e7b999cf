"""Channels: an inbound hook's channel plugin turns a web shop's order JSON into record fields."""

from __future__ import annotations

import json

import pytest

from apps import create_app
from engine import plugins
from engine.errors import DefinitionErrors
from engine.rules.webhooks import sign

SECRET = "shop-secret"
SHOP = (
    'on web_order\nrule "shop order" when webhook "shop" channel shop_order\n'
    "  then upsert web_order by external_id {external_id: external_id, number: number, order_date: order_date,\n"
    "       customer_email: customer_email, customer_name: customer_name, total: total}\n"
    "  for line in lines do create web_order_line {order: external_id, sku: line.sku, qty: line.qty,\n"
    "                                             unit_price: line.unit_price} end\n"
)
ORDER = {
    "id": 4711,
    "number": "1001",
    "status": "processing",
    "date_created": "2026-11-22T09:30:00",
    "currency": "CNY",
    "total": "150.00",
    "customer_note": "",
    "billing": {"first_name": "Li", "last_name": "Wei", "email": "li.wei@example.com"},
    "line_items": [
        {"sku": "M-1", "name": "钢板", "quantity": 2, "price": "60.00"},
        {"sku": "M-2", "name": "螺丝", "quantity": 3, "price": 10},
    ],
}


@pytest.fixture
def client(platform):
    return create_app({"TESTING": True, "PLATFORM": platform, "WEBHOOK_SECRETS": {"shop": SECRET}}).test_client()


def post(client, payload, key=None):
    body = json.dumps(payload).encode()
    headers = {"X-Lowcode-Signature": sign(SECRET, body), **({"Idempotency-Key": key} if key else {})}
    return client.post("/api/v1/hooks/shop", data=body, content_type="application/json", headers=headers)


def web_orders(records, ctx):
    from engine.listing import ListQuery

    items = records.list_records(ctx, "web_order", ListQuery.from_params({}))["items"]
    return [records.get(ctx, "web_order", o["id"]) for o in items]


def lines(records, ctx):
    from engine.listing import ListQuery

    items = records.list_records(ctx, "web_order_line", ListQuery.from_params({}))["items"]
    return [(r["order"], r["sku"], r["qty"], str(r["unit_price"])) for r in items]


def test_a_shop_order_posted_to_the_hook_becomes_a_record(client, publish, records, ctx, runs):
    publish(SHOP)
    resp = post(client, ORDER, key="woo-1")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["runs"] == [{"rule": "shop order", "form": "web_order", "outcome": "fired"}]
    (order,) = web_orders(records, ctx)
    assert {
        k: str(order[k]) for k in ("external_id", "number", "order_date", "customer_email", "customer_name", "total")
    } == {
        "external_id": "4711",
        "number": "1001",
        "order_date": "2026-11-22",
        "customer_email": "li.wei@example.com",
        "customer_name": "Li Wei",
        "total": "150.00",
    }
    assert lines(records, ctx) == [("4711", "M-1", 2, "60.00"), ("4711", "M-2", 3, "10.00")]
    assert post(client, {**ORDER, "total": "170.00"}, key="woo-2").status_code == 200  # the shop updates it
    (again,) = web_orders(records, ctx)
    assert (again["id"], str(again["total"])) == (order["id"], "170.00")
    assert [r["trigger"] for r in runs("shop order")] == ["webhook shop channel shop_order"] * 2


def test_a_payload_the_channel_cannot_read_is_400_and_writes_nothing(client, publish, records, ctx):
    publish(SHOP)
    resp = post(client, {"id": 1, "number": "x"})
    assert resp.status_code == 400
    assert (
        resp.get_json()["error"]["message"] == "the body is not a shop_order payload: an order has a list 'line_items'"
    )
    assert web_orders(records, ctx) == []


def test_an_unknown_channel_is_a_definition_error_at_its_name(publish):
    with pytest.raises(DefinitionErrors) as exc:
        publish(SHOP.replace("channel shop_order", "channel shop_ordr"))
    assert [str(e).splitlines()[0] for e in exc.value.errors] == [
        "stock/rules/stock.rules:2:47: unknown channel 'shop_ordr' (did you mean 'shop_order'?)"
    ]


def test_the_entry_point_groups_are_declared(this_tree):
    from tests.engine.rules.conftest import entry_points

    declared = entry_points()
    assert declared["lowcode.channels"].split() == ["shop_order", "=", "plugins.channel_shop:ShopOrder"]
    assert "lowcode.guards" in declared
    assert set(plugins.load_group("lowcode.channels")) == {"shop_order"}
