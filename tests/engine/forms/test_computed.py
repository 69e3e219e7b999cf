"""Computed fields, lookups (copied and live), conditions and checks, enforced on the server."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def shop(api: Any) -> dict[str, int]:
    a = api.ok("customer", {"name": "宁波海曙五金", "tier": "A"})["id"]
    b = api.ok("customer", {"name": "Bright Shop", "tier": "B"})["id"]
    hinge = api.ok("product", {"name": "合页", "price": "12.50"})["id"]
    for tier, min_qty, price in (("A", 1, "11.00"), ("A", 100, "9.90"), ("B", 1, "12.00")):
        api.ok("price_tier", {"product": hinge, "tier": tier, "min_qty": min_qty, "unit_price": price})
    return {"a": a, "b": b, "hinge": hinge}


def order(customer: int, *lines: tuple[int, int], **extra: Any) -> dict[str, Any]:
    return {
        "customer": customer,
        "due_date": "2026-11-20",
        "lines": [{"product": p, "qty": q} for p, q in lines],
        **extra,
    }


def test_lookups_formulas_and_rollups_in_dependency_order(api: Any, shop: dict[str, int]) -> None:
    rec = api.ok("order", order(shop["a"], (shop["hinge"], 10), (shop["hinge"], 150), discount="0.1"))
    assert [(ln["unit_price"], ln["amount"]) for ln in rec["lines"]] == [("11.00", "110.00"), ("9.90", "1485.00")]
    assert (rec["subtotal"], rec["line_count"], rec["total"], rec["big"]) == ("1595.00", 2, "1435.50", True)
    assert rec["tier"] == "A" and rec["order_date"] == "2026-11-02"  # lookup; default "=today()"
    assert rec["customer_name"] == "宁波海曙五金"  # live lookup, not stored
    b = api.ok("order", order(shop["b"], (shop["hinge"], 150)))
    assert b["lines"][0]["unit_price"] == "12.00" and b["total"] == "1800.00"


def test_client_values_for_computed_fields_are_ignored(api: Any, shop: dict[str, int]) -> None:
    body = order(shop["a"], (shop["hinge"], 10))
    body["lines"][0].update(unit_price="0.01", amount="1")
    body.update(total="1", subtotal="1", tier="Z")
    rec = api.ok("order", body)
    assert (rec["lines"][0]["unit_price"], rec["total"], rec["tier"]) == ("11.00", "110.00", "A")


def test_money_is_exact_and_rounded_half_up(api: Any, shop: dict[str, int]) -> None:
    rec = api.ok("order", order(shop["a"], (shop["hinge"], 3), discount="0.3333"))
    # 3 × 11.00 = 33.00; 33.00 × (1 − 0.3333) = 22.0011 -> 22.00; 0.005 would round up
    assert rec["total"] == "22.00"
    status, rec = api.patch("order", rec["id"], {"discount": "0.99985"})  # percent keeps 4 places: 0.9999
    assert status == 200 and rec["discount"] == "0.9999" and rec["total"] == "0.00"


def test_changing_a_line_recomputes_the_total(api: Any, shop: dict[str, int]) -> None:
    rec = api.ok("order", order(shop["a"], (shop["hinge"], 10)))
    status, rec = api.patch(
        "order", rec["id"], {"lines": [{"id": rec["lines"][0]["id"], "product": shop["hinge"], "qty": 200}]}
    )
    assert status == 200
    assert (rec["lines"][0]["unit_price"], rec["total"], rec["line_count"]) == ("9.90", "1980.00", 1)


def test_copied_lookup_keeps_the_old_price_live_one_follows(api: Any, shop: dict[str, int]) -> None:
    rec = api.ok("order", order(shop["a"], (shop["hinge"], 10)))
    assert rec["lines"][0]["list_price"] == "12.50"
    tiers = api.get("price_tier", 1)
    assert api.patch("price_tier", tiers["id"], {"unit_price": "20.00"})[0] == 200
    assert api.patch("product", shop["hinge"], {"price": "15.00", "name": "合页 2"})[0] == 200
    got = api.get("order", rec["id"])
    assert got["lines"][0]["unit_price"] == "11.00" and got["total"] == "110.00"  # copied at save
    assert got["lines"][0]["list_price"] == "15.00"  # live
    status, got = api.patch("order", rec["id"], {"note": "加急"})  # unrelated edit
    assert status == 200 and got["lines"][0]["unit_price"] == "11.00"
    line = got["lines"][0]
    status, got = api.patch("order", rec["id"], {"lines": [{"id": line["id"], "product": shop["hinge"], "qty": 11}]})
    assert status == 200 and got["lines"][0]["unit_price"] == "20.00"  # an input changed: re-looked-up
    assert api.patch("customer", shop["a"], {"name": "新名字"})[0] == 200
    assert api.get("order", rec["id"])["customer_name"] == "新名字"


def test_visible_if_clears_and_required_if_requires(api: Any, shop: dict[str, int]) -> None:
    status, body = api.post("order", order(shop["a"], payment="transfer"))
    assert status == 422 and body["error"]["fields"] == {"bank_account": ["is required"]}
    status, body = api.post("order", order(shop["a"], payment="transfer"), lang="zh-CN")
    assert body["error"]["fields"] == {"bank_account": ["必填"]}
    rec = api.ok("order", order(shop["a"], payment="cash", bank_account="6222 0000"))
    assert rec["bank_account"] is None  # hidden: cleared
    status, rec = api.patch("order", rec["id"], {"payment": "transfer", "bank_account": "6222 0000"})
    assert status == 200 and rec["bank_account"] == "6222 0000"
    status, body = api.patch("order", rec["id"], {"bank_account": ""})  # merged record: still transfer
    assert status == 422 and body["error"]["fields"] == {"bank_account": ["is required"]}


def test_readonly_if_refuses_a_change_naming_the_field(api: Any, shop: dict[str, int]) -> None:
    rec = api.ok("order", order(shop["a"], discount="0.05"))
    status, rec = api.patch("order", rec["id"], {"status": "approved"})
    assert status == 200
    for lang, message in (("en", "cannot be changed now"), ("zh-CN", "当前不可修改")):
        status, body = api.patch("order", rec["id"], {"discount": "0.5"}, lang=lang)
        assert status == 422 and body["error"]["fields"] == {"discount": [message]}
    status, same = api.patch("order", rec["id"], {"discount": "0.05", "note": "ok"})  # unchanged value: fine
    assert status == 200 and same["note"] == "ok"


def test_form_checks_in_both_languages_on_every_path(api: Any, shop: dict[str, int], client: Any, auth: Any) -> None:
    bad = order(shop["a"], order_date="2026-11-21", due_date="2026-11-20")
    for lang, message in (
        ("en", "The due date cannot be before the order date"),
        ("zh-CN", "交货日期不能早于下单日期"),
    ):
        status, body = api.post("order", bad, lang=lang)
        assert status == 422 and body["error"]["fields"] == {"due_after_order": [message]}
    rec = api.ok("order", order(shop["a"]))
    status, body = api.patch("order", rec["id"], {"due_date": "2026-10-01"})
    assert status == 422 and "due_after_order" in body["error"]["fields"]
    resp = client.post("/api/v1/records/order/batch", headers=auth(), json={"items": [order(shop["a"]), bad]})
    assert resp.status_code == 422, resp.get_json()
    assert "due_after_order" in str(resp.get_json())
    assert api.ok("order", order(shop["a"], due_date=None))["due_date"] is None  # an empty field: check passes


def test_sales_user_gets_the_same_enforcement(api: Any, shop: dict[str, int]) -> None:
    status, body = api.post("order", order(shop["a"], payment="transfer"), user="sales1")
    assert status == 422 and body["error"]["fields"] == {"bank_account": ["is required"]}
    rec = api.ok("order", order(shop["b"], (shop["hinge"], 2)), user="sales1")
    assert rec["total"] == "24.00"


def test_rollups_over_other_forms_follow_those_records(api: Any, shop: dict[str, int], client: Any, auth: Any) -> None:
    """Creating, editing, moving and deleting orders keeps the customers' stored rollups current."""

    def customer(key: str) -> tuple[str, int]:
        rec = api.get("customer", shop[key])
        return rec["open_total"], rec["order_count"]

    assert customer("a") == ("0.00", 0)  # sum of nothing is 0, kept as the field's scale says
    first = api.ok("order", order(shop["a"], (shop["hinge"], 10)))  # 110.00
    second = api.ok("order", order(shop["a"], (shop["hinge"], 100)))  # 990.00
    assert customer("a") == ("1100.00", 2)
    status, _ = api.patch(
        "order", second["id"], {"lines": [{"id": second["lines"][0]["id"], "product": shop["hinge"], "qty": 200}]}
    )
    assert status == 200 and customer("a") == ("2090.00", 2)  # 110 + 1980
    status, _ = api.patch("order", first["id"], {"status": "approved"})  # no longer open
    assert status == 200 and customer("a") == ("1980.00", 2)
    status, _ = api.patch("order", second["id"], {"customer": shop["b"]})  # moved: both customers
    assert status == 200 and customer("a") == ("0.00", 1) and customer("b") == ("2400.00", 1)  # at tier B price
    assert api.get("product", shop["hinge"])["orders_everywhere"] == 2  # no key: every product
    assert client.delete(f"/api/v1/records/order/{second['id']}", headers=auth("admin")).status_code in (200, 204)
    assert customer("b") == ("0.00", 0) and api.get("product", shop["hinge"])["orders_everywhere"] == 1
    trail = client.get(f"/api/v1/records/customer/{shop['b']}/history", headers=auth("admin")).get_json()["audit"]
    assert [e["source"] for e in trail[1:]] == ["rollup", "rollup"]
    assert trail[-1]["changes"]["order_count"] == [1, 0] and trail[-1]["username"] == "admin"


def test_an_edit_that_the_rollup_does_not_read_writes_nothing_more(api: Any, shop: dict[str, int]) -> None:
    api.ok("order", order(shop["a"], (shop["hinge"], 10)))
    before = api.get("customer", shop["a"])["version"]
    rec = api.ok("order", order(shop["a"], (shop["hinge"], 10)))
    assert api.get("customer", shop["a"])["version"] == before + 1
    status, _ = api.patch("order", rec["id"], {"note": "急"})
    assert status == 200 and api.get("customer", shop["a"])["version"] == before + 1


def test_a_batch_or_an_import_recomputes_each_customer_once(
    api: Any, shop: dict[str, int], client: Any, auth: Any, platform: Any
) -> None:
    from engine.service import Records

    version = api.get("customer", shop["a"])["version"]
    items = [order(shop["a"], (shop["hinge"], q)) for q in (1, 2, 3)] + [order(shop["b"], (shop["hinge"], 1))]
    resp = client.post("/api/v1/records/order/batch", headers=auth("admin"), json={"items": items})
    assert resp.status_code in (200, 201), resp.get_json()
    a = api.get("customer", shop["a"])
    assert (a["order_count"], a["open_total"], a["version"]) == (3, "66.00", version + 1)  # 6 × 11.00, once
    rows = [(1, ["customer", "due_date"])] + [(n, [shop["a"], "2026-11-20"]) for n in range(2, 7)]
    report = Records(platform).import_rows(platform.system_context(), "order", rows)
    assert report.created == 5 and not report.error_count
    a = api.get("customer", shop["a"])
    assert (a["order_count"], a["version"]) == (8, version + 2)
    bad = client.post(
        "/api/v1/records/order/batch",
        headers=auth("admin"),
        json={"items": [order(shop["a"], (shop["hinge"], 1)), {"customer": shop["a"], "zz": 1}]},
    )
    assert bad.status_code == 422 and api.get("customer", shop["a"])["order_count"] == 8
