"""API fixtures: the OMS pack published on a fresh database, one user per role."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any, Callable

import pytest

from apps import create_app
from engine.context import FixedClock
from engine.platform import Platform
from engine.store.db import Database

PACK = os.path.join(os.path.dirname(__file__), "..", "..", "definitions", "oms")

USERS = {
    "admin": ("admin123", ["admin"]),
    "sales1": ("sales123", ["sales"]),
    "sales2": ("sales123", ["sales"]),
    "wh1": ("wh123", ["warehouse"]),
    "buyer1": ("buyer123", ["customer"]),
}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc))


@pytest.fixture
def platform(db_url: str, clock: FixedClock) -> Platform:
    p = Platform(Database(db_url), clock, reload_seconds=0)
    p.publish(PACK)
    with p.db.begin() as conn:
        for name, (password, roles) in USERS.items():
            p.users.add(conn, name, password, roles)
    yield p
    p.db.dispose()


@pytest.fixture
def app(platform: Platform) -> Any:
    return create_app({"TESTING": True, "PLATFORM": platform})


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def auth(client: Any) -> Callable[[str], dict[str, str]]:
    """``auth("sales1")`` -> headers with a fresh bearer token for that user."""
    tokens: dict[str, str] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in tokens:
            resp = client.post("/api/v1/auth/login", json={"username": username, "password": USERS[username][0]})
            assert resp.status_code == 200, resp.get_json()
            tokens[username] = resp.get_json()["token"]
        return {"Authorization": f"Bearer {tokens[username]}"}

    return headers


@pytest.fixture
def seed(client: Any, auth: Callable[[str], dict[str, str]]) -> dict[str, Any]:
    """Two customers and two products, created by admin; buyer1 is tied to the first customer."""
    admin = auth("admin")
    c1 = client.post(
        "/api/v1/records/customer",
        headers=admin,
        json={"code": "C001", "name": "宁波海曙精密五金有限公司", "tier": "A"},
    ).get_json()
    c2 = client.post(
        "/api/v1/records/customer", headers=admin, json={"code": "C002", "name": "Shenzhen Bright Shop", "tier": "B"}
    ).get_json()
    p1 = client.post(
        "/api/v1/records/product",
        headers=admin,
        json={"sku": "P-100", "name": "不锈钢合页", "price": "12.50", "cost": "7.20", "stock": 500},
    ).get_json()
    p2 = client.post(
        "/api/v1/records/product",
        headers=admin,
        json={"sku": "P-200", "name": "Brass handle", "price": "30.00", "cost": "18.00", "stock": 80},
    ).get_json()
    assert all("id" in r for r in (c1, c2, p1, p2)), (c1, c2, p1, p2)
    return {"c1": c1, "c2": c2, "p1": p1, "p2": p2}


def order_body(customer: int, product: int, **extra: Any) -> dict[str, Any]:
    body = {
        "customer": customer,
        "order_date": "2026-11-02",
        "due_date": "2026-11-20",
        "lines": [{"product": product, "qty": 10, "unit_price": "12.50"}],
    }
    body.update(extra)
    return body
