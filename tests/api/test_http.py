"""Over real HTTP: `run.py demo` then `run.py serve` in a subprocess, driven with urllib."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(base, method, path, body=None, token=None, headers=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
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
def server(db_url):
    env = {**os.environ, "DATABASE_URL": db_url}
    subprocess.run([sys.executable, "run.py", "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "run.py", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/openapi.json", timeout=5).close()
            break
        except OSError:   # not listening yet, or still busy starting (URLError, reset, timeout)
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("server did not start: " + proc.stdout.read().decode())
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


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
    status, created = _call(server, "POST", "/records/sales_order", {
        "customer": cid, "order_date": "2026-11-22", "po_number": "HTTP-1",
        "lines": [{"product": pid, "qty": 5, "unit_price": "3.50"}]}, token=token)
    assert status == 201, created
    status, updated = _call(server, "PATCH", f"/records/sales_order/{created['id']}", {"remark": "周五前"},
                            token=token, headers={"If-Match": f'"{created["version"]}"'})
    assert status == 200 and updated["version"] == created["version"] + 1 == 3   # 2: the route rule
    status, stale = _call(server, "PATCH", f"/records/sales_order/{created['id']}", {"remark": "x"},
                          token=token, headers={"If-Match": '"1"'})
    assert status == 409 and stale["error"]["code"] == "conflict"
    status, filtered = _call(server, "GET", "/records/sales_order?filter=po_number%20%3D%3D%20%22HTTP-1%22",
                             token=token)
    assert status == 200 and [o["id"] for o in filtered["items"]] == [created["id"]]
    status, _ = _call(server, "POST", "/auth/logout", token=token)
    assert status == 200
    status, body = _call(server, "GET", "/records/customer", token=token)
    assert status == 401
