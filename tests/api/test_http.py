"""Over real HTTP: `run.py demo` then `run.py serve` (gunicorn) in a subprocess, driven with urllib."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.api.serving import run_py, serving


def _call(base, method, path, body=None, token=None, headers=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


@pytest.fixture
def server(db_url, tmp_path):
    run_py({**os.environ, "DATABASE_URL": db_url}, "demo")
    # gunicorn with the default worker processes and threads; --host/--port are --bind's aliases
    with serving(db_url, tmp_path, listen=("--host", "127.0.0.1", "--port", "{port}")) as srv:
        yield srv.base


def test_a_new_user_session_over_http(server):
    status, body = _call(server, "POST", "/auth/login", {"username": "sales1", "password": "sales123"})
    assert status == 200 and body["token_type"] == "Bearer"
    token = body["token"]
    status, orders = _call(server, "GET", "/records/sales_order?sort=-number", token=token)
    assert status == 200 and orders["total"] >= 1
    assert all("cost" not in o for o in orders["items"])
    status, customers = _call(server, "GET", "/records/customer?q=" + urllib.parse.quote("恒达"), token=token)
    assert status == 200 and customers["total"] == 1
    cid = customers["items"][0]["id"]
    status, products = _call(server, "GET", "/records/product?limit=1", token=token)
    pid = products["items"][0]["id"]
    status, created = _call(
        server,
        "POST",
        "/records/sales_order",
        {
            "customer": cid,
            "order_date": "2026-11-22",
            "po_number": "HTTP-1",
            "lines": [{"product": pid, "qty": 5, "unit_price": "3.50"}],
        },
        token=token,
    )
    assert status == 201, created
    status, updated = _call(
        server,
        "PATCH",
        f"/records/sales_order/{created['id']}",
        {"remark": "周五前"},
        token=token,
        headers={"If-Match": f'"{created["version"]}"'},
    )
    assert created["version"] == 1 and created["route"] == "auto"  # the route rule's decide is part of the create
    assert status == 200 and updated["version"] == 2
    status, stale = _call(
        server,
        "PATCH",
        f"/records/sales_order/{created['id']}",
        {"remark": "x"},
        token=token,
        headers={"If-Match": '"1"'},
    )
    assert status == 412 and stale["error"]["code"] == "precondition_failed"  # If-Match no longer holds
    status, filtered = _call(
        server, "GET", "/records/sales_order?filter=po_number%20%3D%3D%20%22HTTP-1%22", token=token
    )
    assert status == 200 and [o["id"] for o in filtered["items"]] == [created["id"]]
    status, _ = _call(server, "POST", "/auth/logout", token=token)
    assert status == 200
    status, body = _call(server, "GET", "/records/customer", token=token)
    assert status == 401


def test_an_all_or_nothing_import_over_http_reports_every_failing_row(server):
    """520 orders, two chunks of 500: the bad date of chunk 1 does not hide chunk 2's duplicates of
    the unique index (customer, po_number): one of a stored order, one of a row of chunk 1."""
    import requests

    status, body = _call(server, "POST", "/auth/login", {"username": "admin", "password": "admin123"})
    head = "客户,客户采购单号,下单日期,产品,数量,单价"
    rows = [f"C0002,IMP-{i:03},2026-11-02,P-6204,1,2.50" for i in range(520)]
    rows[1] = "C0002,IMP-001,2026-13-02,P-6204,1,2.50"  # spreadsheet row 3: no such date
    rows[510] = "C0001,HD-PO-20261102,2026-11-02,P-6204,1,2.50"  # row 512: the demo's order
    rows[515] = "C0002,IMP-007,2026-11-03,P-6204,1,2.50"  # row 517: as row 9 (in chunk 1)
    data = ("\n".join([head, *rows]) + "\n").encode("utf-8")
    resp = requests.post(
        server + "/records/sales_order/import",
        headers={"Authorization": "Bearer " + body["token"]},
        files={"file": ("orders.csv", data, "text/csv")},
        timeout=300,
    )
    report = resp.json()
    assert resp.status_code == 422 and (report["records"], report["failed"], report["written"]) == (520, 3, False)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [
        (3, "order_date"),
        (512, "customer"),
        (512, "po_number"),
        (517, "customer"),
        (517, "po_number"),
    ]
    status, found = _call(server, "GET", "/records/sales_order?po_number__contains=IMP-", token=body["token"])
    assert status == 200 and found["total"] == 0
