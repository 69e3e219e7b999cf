"""The change-request test site: the changetest pack (orders approved by a flow with change
requests, work orders frozen by them, notes whose rule writes work orders) published on a fresh
database, its users, and an API client per user (SQLite, and PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any, Optional

from apps import create_app
from engine.context import FixedClock
from engine.definitions.loader import read_pack_files
from engine.inbox import Inbox
from engine.platform import Platform
from engine.store.db import Database

PACK = os.path.join(os.path.dirname(__file__), "packs", "changetest")
USERS = {"admin": ["admin"], "sales1": ["sales"], "mgr1": ["manager"], "plan1": ["planner"]}
NOW = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc)


class Site:
    """The app over the platform, and helpers that act as one of its users."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.app = create_app({"TESTING": True, "PLATFORM": platform, "SECRET_KEY": "changes"})
        self.client = self.app.test_client()
        self.inbox = Inbox(platform)
        self.tokens: dict[str, str] = {}

    def h(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            resp = self.client.post("/api/v1/auth/login", json={"username": user, "password": user + "-pw"})
            assert resp.status_code == 200, resp.get_json()
            self.tokens[user] = resp.get_json()["token"]
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def api(self, user: str, method: str, path: str, **kw: Any) -> Any:
        return self.client.open("/api/v1" + path, method=method, headers=self.h(user), **kw)

    def ok(self, user: str, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        resp = self.api(user, method, path, **kw)
        assert resp.status_code == status, (resp.status_code, resp.get_json())
        return resp.get_json()

    def get(self, form: str, record_id: int) -> dict[str, Any]:
        return dict(self.ok("admin", "GET", f"/records/{form}/{record_id}"))

    def approved_order(self, **values: Any) -> dict[str, Any]:
        """An order (qty 10 at 5.00) whose approval flow the manager approved."""
        order = self.ok(
            "sales1", "POST", "/records/order", 201, json={"number": "SO-1", "qty": 10, "price": "5.00", **values}
        )
        task = self.open_task("order", order["id"], "manager")
        self.inbox.act(self.platform.user_context("mgr1"), task["id"], "approve")
        return self.get("order", order["id"])

    def work_order(self, order_id: int, code: str = "WO-1") -> dict[str, Any]:
        return dict(self.ok("plan1", "POST", "/records/work_order", 201, json={"code": code, "order": order_id}))

    def open_task(self, form: str, record_id: int, node: Optional[str] = None) -> dict[str, Any]:
        found = self.inbox.instance(self.platform.user_context("admin"), form, record_id)
        assert found is not None
        tasks = [t for t in found["tasks"] if t["status"] == "open" and (node is None or t["node"] == node)]
        assert len(tasks) == 1, tasks
        return tasks[0]


def make_site(db_url: str, **flows: str) -> Site:
    p = Platform(Database(db_url), FixedClock(NOW), reload_seconds=0)
    files = read_pack_files(PACK)
    for name, text in flows.items():
        files[f"flows/{name}.yaml"] = text
    p.publish(PACK, files)
    with p.db.begin() as conn:
        for name, roles in USERS.items():
            p.users.add(conn, name, name + "-pw", roles)
    return Site(p)
