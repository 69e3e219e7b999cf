"""The inbox tests' pack (tests/api/packs/approvals: an expense claim through manager, director
above 10,000, and finance) published on a fresh database, with one user per role."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any, Callable

from engine.context import FixedClock
from engine.platform import Platform
from engine.store.db import Database

PACK = os.path.join(os.path.dirname(__file__), "packs", "approvals")
FLOW = "expense_approval"
USERS = {
    "admin": ("admin123", ["admin"]),
    "staff1": ("staff123", ["staff"]),
    "staff2": ("staff123", ["staff"]),
    "mgr1": ("mgr123", ["manager"]),
    "mgr2": ("mgr123", ["manager"]),
    "dir1": ("dir123", ["director"]),
    "fin1": ("fin123", ["finance"]),
}
START = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc)


def approvals_platform(url: str, clock: FixedClock | None = None) -> Platform:
    p = Platform(Database(url), clock or FixedClock(START), reload_seconds=0)
    p.publish(PACK)
    with p.db.begin() as conn:
        for name, (password, roles) in USERS.items():
            p.users.add(conn, name, password, roles)
    return p


def login_headers(client: Any) -> Callable[[str], dict[str, str]]:
    """``headers("mgr1")`` -> a bearer token for that user (logged in once), answers in English."""
    tokens: dict[str, str] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in tokens:
            resp = client.post("/api/v1/auth/login", json={"username": username, "password": USERS[username][0]})
            assert resp.status_code == 200, resp.get_json()
            tokens[username] = resp.get_json()["token"]
        return {"Authorization": f"Bearer {tokens[username]}", "Accept-Language": "en"}

    return headers
