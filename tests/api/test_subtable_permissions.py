"""Field permissions on sub-table columns over HTTP, with the depot pack: the packer may not
see a line's unit price (nor the order's cost), the clerk may not change it and may not see
a line's bin. Every read path leaves a hidden column out, every write path refuses a blocked
cell or keeps its stored value."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from typing import Any, Callable, Iterator

import openpyxl
import pytest

from apps import create_app
from engine.context import FixedClock
from engine.platform import Platform
from engine.store.db import Database

DEPOT = os.path.join(os.path.dirname(__file__), "..", "workspace", "packs", "depot")
USERS = {"admin": ["admin"], "packer1": ["packer"], "clerk1": ["clerk"]}


@pytest.fixture
def depot(db_url: str) -> Iterator[Platform]:
    p = Platform(Database(db_url), FixedClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc)), reload_seconds=0)
    p.publish(DEPOT)
    with p.db.begin() as conn:
        for name, roles in USERS.items():
            p.users.add(conn, name, f"{name}-pw", roles)
    yield p
    p.db.dispose()


@pytest.fixture
def client(depot: Platform) -> Any:
    return create_app({"TESTING": True, "PLATFORM": depot}).test_client()


@pytest.fixture
def auth(client: Any) -> Callable[[str], dict[str, str]]:
    tokens: dict[str, str] = {}

    def headers(user: str) -> dict[str, str]:
        if user not in tokens:
            resp = client.post("/api/v1/auth/login", json={"username": user, "password": f"{user}-pw"})
            tokens[user] = resp.get_json()["token"]
        return {"Authorization": f"Bearer {tokens[user]}", "Accept-Language": "en"}

    return headers


@pytest.fixture
def order(client: Any, auth: Callable[[str], dict[str, str]]) -> dict[str, Any]:
    """An order by admin: two lines (12.50 and 30.00 a piece, bins A-01 and B-02)."""
    admin = auth("admin")
    i1 = client.post("/api/v1/records/item", headers=admin, json={"name": "Hinge", "price": "12.50"}).get_json()
    i2 = client.post("/api/v1/records/item", headers=admin, json={"name": "Handle", "price": "30.00"}).get_json()
    resp = client.post(
        "/api/v1/records/order",
        headers=admin,
        json={
            "po": "PO-1",
            "lines": [
                {"item": i1["id"], "qty": 2, "unit_price": "12.50", "bin": "A-01"},
                {"item": i2["id"], "qty": 1, "unit_price": "30.00", "bin": "B-02"},
            ],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return {
        **client.get(f"/api/v1/records/order/{resp.get_json()['id']}", headers=admin).get_json(),
        "items": (i1["id"], i2["id"]),
    }


def _line_keys(record: dict[str, Any]) -> list[set[str]]:
    return [set(line) for line in record["lines"]]


# ---- reading --------------------------------------------------------------------------------


def test_every_read_path_leaves_hidden_columns_out(client, auth, order):
    packer, clerk = auth("packer1"), auth("clerk1")
    oid = order["id"]
    got = client.get(f"/api/v1/records/order/{oid}", headers=packer).get_json()
    assert _line_keys(got) == [{"id", "item", "qty", "bin", "amount"}] * 2
    assert "cost" not in got and (got["total"], got["margin"]) == ("55.00", "27.50")  # the rule set cost
    assert [line["amount"] for line in got["lines"]] == ["25.00", "30.00"]
    listed = client.get("/api/v1/records/order", headers=packer).get_json()["items"]
    assert [_line_keys(r) for r in listed] == [[{"id", "item", "qty", "bin", "amount"}] * 2]
    assert (
        _line_keys(client.get(f"/api/v1/records/order/{oid}", headers=clerk).get_json())
        == [{"id", "item", "qty", "unit_price", "list_price", "amount"}] * 2
    )
    for headers, gone in ((packer, ('"unit_price"', '"cost"', "12.50")), (clerk, ('"bin"', "A-01"))):
        for path in (
            f"/api/v1/records/order/{oid}",
            "/api/v1/records/order",
            f"/api/v1/records/order/{oid}/history",
            f"/api/v1/records/order/{oid}/history?at=2030-01-01T00:00:00Z",
        ):
            body = client.get(path, headers=headers).get_data(as_text=True)
            assert '"lines"' in body, path
            for text in gone:
                assert text not in body, (path, text)
    me = client.get("/api/v1/auth/me", headers=packer).get_json()
    assert me["forms"]["order"]["fields"] == {
        "cost": "hidden",
        "lines.list_price": "hidden",
        "lines.unit_price": "hidden",
    }
    me = client.get("/api/v1/auth/me", headers=clerk).get_json()
    assert me["forms"]["order"]["fields"] == {"lines.bin": "hidden", "lines.unit_price": "readonly"}


def test_history_leaves_out_a_change_only_to_hidden_columns(client, auth, order):
    admin, clerk = auth("admin"), auth("clerk1")
    lines = [{k: v for k, v in line.items() if k != "amount"} for line in order["lines"]]
    lines[0]["bin"] = "C-03"
    resp = client.patch(
        f"/api/v1/records/order/{order['id']}", headers=admin, json={"version": order["version"], "lines": lines}
    )
    assert resp.status_code == 200, resp.get_json()
    audit = client.get(f"/api/v1/records/order/{order['id']}/history", headers=admin).get_json()["audit"]
    assert "lines" in audit[-1]["changes"]
    audit = client.get(f"/api/v1/records/order/{order['id']}/history", headers=clerk).get_json()["audit"]
    assert audit[-1]["action"] == "update" and "lines" not in audit[-1]["changes"]
    assert "lines" in audit[0]["changes"] and "C-03" not in str(audit)


def test_filters_sort_and_search_cannot_read_hidden_columns(client, auth, order):
    packer = auth("packer1")
    no_such = "cannot filter by 'lines.unit_price': order has no such field"
    for expr in (
        "sum(lines.unit_price) > 10",
        "count(lines where unit_price > 20) > 0",
        "exists(lines where unit_price > 20 and qty > 0)",
        "sum(lines.unit_price) > 'x'",
        "max(lines.unit_pric) > 10 and sum(lines.unit_price) > 1",
    ):
        resp = client.get("/api/v1/records/order", headers=packer, query_string={"filter": expr})
        assert resp.status_code == 400, expr
        assert resp.get_json()["error"]["message"] == no_such, expr
    resp = client.get("/api/v1/records/order", headers=packer, query_string={"filter": "sum(lines.unit_pric) > 0"})
    assert resp.status_code == 400 and "unit_price" not in resp.get_data(as_text=True)
    admin = client.get(
        "/api/v1/records/order", headers=auth("admin"), query_string={"filter": "sum(lines.unit_pric) > 0"}
    )
    assert "did you mean 'unit_price'?" in admin.get_json()["error"]["message"]
    for query in (
        {"sort": "lines.unit_price"},
        {"lines.unit_price__gt": "0"},
        {"filter": "cost > 0"},
        {"filter": "margin > 0 and cots > 1"},
    ):
        resp = client.get("/api/v1/records/order", headers=packer, query_string=query)
        assert resp.status_code == 400, query
        assert "cost" not in resp.get_data(as_text=True) or query == {"filter": "cost > 0"}, query
    visible = client.get(
        "/api/v1/records/order",
        headers=packer,
        query_string={"filter": "sum(lines.amount) > 50 and count(lines where qty > 1) == 1"},
    )
    assert visible.status_code == 200 and visible.get_json()["total"] == 1
    clerk = auth("clerk1")
    assert (
        client.get(
            "/api/v1/records/order", headers=clerk, query_string={"filter": "sum(lines.unit_price) > 10"}
        ).get_json()["total"]
        == 1
    )
    resp = client.get(
        "/api/v1/records/order", headers=clerk, query_string={"filter": 'exists(lines where bin == "A-01")'}
    )
    assert resp.get_json()["error"]["message"] == "cannot filter by 'lines.bin': order has no such field"


def _sheet(resp: Any) -> list[list[Any]]:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    ws = openpyxl.load_workbook(io.BytesIO(resp.get_data())).active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_export_and_import_template_leave_hidden_columns_out(client, auth, order):
    packer, clerk = auth("packer1"), auth("clerk1")
    text = client.get("/api/v1/records/order/export?format=csv", headers=packer).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == [
        "PO number",
        "Remark",
        "Lines.Item",
        "Lines.Quantity",
        "Lines.Bin",
        "Lines.Amount",
        "Total",
        "Margin",
    ]
    assert [r[3:6] for r in rows[1:]] == [["2", "A-01", "25.00"], ["1", "B-02", "30.00"]]
    assert "12.50" not in text
    rows = _sheet(client.get("/api/v1/records/order/export", headers=clerk))
    assert "Lines.Bin" not in rows[0] and "Lines.Unit price" in rows[0] and "Lines.List price" in rows[0]
    assert _sheet(client.get("/api/v1/records/order/import/template", headers=packer)) == [
        ["PO number", "Remark", "Lines.Item", "Lines.Quantity", "Lines.Bin"]
    ]
    assert _sheet(client.get("/api/v1/records/order/import/template", headers=clerk)) == [
        ["PO number", "Remark", "Cost", "Lines.Item", "Lines.Quantity"]
    ]


# ---- writing ----------------------------------------------------------------------------------


def _kept_lines(order: dict[str, Any], *also: str, **change: Any) -> list[dict[str, Any]]:
    """The order's lines sent back with their ids, items, quantities and the columns ``also``."""
    return [
        {"id": line["id"], "item": line["item"], "qty": line["qty"], **{k: line[k] for k in also}, **change}
        for line in order["lines"]
    ]


def test_writes_refuse_blocked_cells(client, auth, order):
    oid, version = order["id"], order["version"]
    for user, lines, cell in (
        ("packer1", _kept_lines(order, "bin", unit_price="1.00"), "lines[1].unit_price"),
        ("clerk1", _kept_lines(order) + [{"item": order["items"][0], "qty": 1, "bin": "Z-9"}], "lines[3].bin"),
    ):
        resp = client.patch(
            f"/api/v1/records/order/{oid}", headers=auth(user), json={"version": version, "lines": lines}
        )
        assert resp.status_code == 403, resp.get_json()
        assert cell in resp.get_json()["error"]["fields"] and resp.get_json()["error"]["fields"][cell] == [
            "is read-only"
        ]
    resp = client.post(
        "/api/v1/records/order",
        headers=auth("clerk1"),
        json={"po": "PO-2", "lines": [{"item": order["items"][0], "qty": 1, "unit_price": "1.00"}]},
    )
    assert resp.status_code == 403 and resp.get_json()["error"]["fields"] == {"lines[1].unit_price": ["is read-only"]}
    resp = client.post(
        "/api/v1/records/order/batch",
        headers=auth("packer1"),
        json={"items": [{"id": oid, "version": version, "lines": _kept_lines(order, "bin", unit_price="0")}]},
    )
    assert resp.status_code == 403
    assert set(resp.get_json()["error"]["fields"]) == {"items[0].lines[1].unit_price", "items[0].lines[2].unit_price"}
    after = client.get(f"/api/v1/records/order/{oid}", headers=auth("admin")).get_json()
    assert after["version"] == version and after["lines"] == order["lines"]


def test_an_update_keeps_the_stored_values_of_hidden_and_read_only_columns(client, auth, order):
    admin = auth("admin")
    oid = order["id"]
    lines = _kept_lines(order, "bin")
    lines[0]["qty"] = 4
    resp = client.patch(
        f"/api/v1/records/order/{oid}",
        headers=auth("packer1"),
        json={"version": order["version"], "lines": lines[::-1]},
    )
    assert resp.status_code == 200, resp.get_json()
    assert [line["amount"] for line in resp.get_json()["lines"]] == ["30.00", "50.00"]
    stored = client.get(f"/api/v1/records/order/{oid}", headers=admin).get_json()
    assert [(line["qty"], line["unit_price"], line["bin"]) for line in stored["lines"]] == [
        (1, "30.00", "B-02"),
        (4, "12.50", "A-01"),
    ]
    assert stored["total"] == "80.00"
    new_line = {"item": order["items"][0], "qty": 1, "unit_price": "9.00"}
    resp = client.patch(
        f"/api/v1/records/order/{oid}",
        headers=auth("clerk1"),
        json={"version": stored["version"], "lines": [_kept_lines(stored)[0], {**new_line, "unit_price": None}]},
    )
    assert resp.status_code == 403  # a read-only column is refused even empty
    resp = client.patch(
        f"/api/v1/records/order/{oid}",
        headers=auth("clerk1"),
        json={"version": stored["version"], "lines": [_kept_lines(stored)[0]]},
    )
    assert resp.status_code == 200, resp.get_json()
    stored = client.get(f"/api/v1/records/order/{oid}", headers=admin).get_json()
    assert [(line["unit_price"], line["bin"]) for line in stored["lines"]] == [("30.00", "B-02")]
    resp = client.post(
        "/api/v1/records/order/batch",
        headers=auth("clerk1"),
        json={"items": [{"id": oid, "version": stored["version"], "lines": _kept_lines(stored, qty=7)}]},
    )
    assert resp.status_code == 200, resp.get_json()
    stored = client.get(f"/api/v1/records/order/{oid}", headers=admin).get_json()
    assert [(line["qty"], line["unit_price"], line["bin"]) for line in stored["lines"]] == [(7, "30.00", "B-02")]


def test_a_new_line_gets_the_defaults_of_hidden_and_read_only_columns(client, auth, order):
    admin, item = auth("admin"), order["items"][1]
    resp = client.post(
        "/api/v1/records/order", headers=auth("clerk1"), json={"po": "PO-3", "lines": [{"item": item, "qty": 1}]}
    )
    assert resp.status_code == 201, resp.get_json()
    made = client.get(f"/api/v1/records/order/{resp.get_json()['id']}", headers=admin).get_json()
    assert [(line["unit_price"], line["bin"]) for line in made["lines"]] == [(None, "A-00")]
    resp = client.patch(
        f"/api/v1/records/order/{order['id']}",
        headers=auth("packer1"),
        json={
            "version": order["version"],
            "lines": _kept_lines(order, "bin")[:1] + [{"item": item, "qty": 3, "bin": "D-4"}],
        },
    )
    assert resp.status_code == 200, resp.get_json()
    stored = client.get(f"/api/v1/records/order/{order['id']}", headers=admin).get_json()
    assert [(line["unit_price"], line["bin"], line["amount"]) for line in stored["lines"]] == [
        ("12.50", "A-01", "25.00"),
        (None, "D-4", None),
    ]


def test_an_import_refuses_a_blocked_column(client, auth, order, tmp_path):
    text = "\ufeffPO number,Lines.Item,Lines.Quantity,Lines.Bin\r\nPO-9,Hinge,1,Z-1\r\n"
    resp = client.post(
        "/api/v1/records/order/import",
        headers=auth("clerk1"),
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(text.encode()), "orders.csv")},
    )
    assert resp.status_code == 403
    assert resp.get_json()["error"]["fields"] == {"Lines.Bin": ["is read-only"]}


# ---- the rule log -------------------------------------------------------------------------------


def test_rule_log_summaries_leave_hidden_values_out(client, auth, order):
    def summaries(user: str) -> list[str]:
        runs = client.get("/api/v1/rules/runs?form=order&outcome=fired", headers=auth(user)).get_json()["items"]
        one = client.get(f"/api/v1/rules/runs/{runs[-1]['id']}", headers=auth(user)).get_json()
        assert all("parts" not in a for r in runs + [one] for a in r["actions"])
        return sorted(a["summary"] for r in runs for a in r["actions"] if a["action"] != "for")

    assert summaries("admin") == [
        "flagged yellow '1 x 30 @ B-02'",
        "flagged yellow '2 x 12.50 @ A-01'",
        "set cost = 27.500, remark = 'costed'",
    ]
    assert summaries("packer1") == [
        "flagged yellow '1 x  @ B-02'",
        "flagged yellow '2 x  @ A-01'",
        "set remark = 'costed'",
    ]
    assert summaries("clerk1") == [
        "flagged yellow '1 x 30 @ '",
        "flagged yellow '2 x 12.50 @ '",
        "set cost = 27.500, remark = 'costed'",
    ]
