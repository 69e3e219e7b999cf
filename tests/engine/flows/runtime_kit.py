"""Flow-engine fixtures: the flowtest pack published with the flow files a test gives, its
users, and helpers that act as one of them. The runtime tests import them (``from
.runtime_kit import FIXTURES``-style names); the folder's conftest.py is the loader tests'."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any, Iterator

import pytest

from engine.context import FixedClock, RunContext
from engine.definitions.loader import read_pack_files
from engine.inbox import Inbox
from engine.platform import Platform
from engine.service import Records
from engine.store.db import Database

PACK = os.path.join(os.path.dirname(__file__), "packs", "flowtest")
USERS = {
    "admin": ["admin"],
    "staff1": ["staff"],
    "staff2": ["staff"],
    "mgr1": ["manager"],
    "mgr2": ["manager"],
    "mgr3": ["manager"],
    "dir1": ["director"],
    "fin1": ["finance"],
    "plan1": ["planner"],
}
NOW = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc)


class Flows:
    """A published flowtest pack and its users, driven through the Inbox and Records."""

    def __init__(self, platform: Platform, clock: FixedClock) -> None:
        self.platform, self.clock = platform, clock
        self.inbox = Inbox(platform)
        self.records = Records(platform)

    def publish(self, **flows: str) -> Any:
        files = read_pack_files(PACK)
        for name, text in flows.items():
            files[f"flows/{name}.yaml"] = text
        return self.platform.publish(PACK, files)

    def ctx(self, username: str) -> RunContext:
        return self.platform.user_context(username)

    def create(self, username: str = "staff1", form: str = "request", **values: Any) -> dict[str, Any]:
        return self.records.create(self.ctx(username), form, values)

    def record(self, record_id: int, form: str = "request") -> dict[str, Any]:
        return self.records.get(self.ctx("admin"), form, record_id)

    def instance(self, record_id: int, form: str = "request") -> dict[str, Any]:
        found = self.inbox.instance(self.ctx("admin"), form, record_id)
        assert found is not None
        return found

    def open_tasks(self, record_id: int, node: str | None = None) -> list[dict[str, Any]]:
        tasks = self.instance(record_id)["tasks"]
        return [t for t in tasks if t["status"] == "open" and (node is None or t["node"] == node)]

    def task_of(self, record_id: int, node: str) -> dict[str, Any]:
        found = self.open_tasks(record_id, node)
        assert len(found) == 1, found
        return found[0]

    def act(self, username: str, task_id: int, action: str, **kw: Any) -> dict[str, Any]:
        return self.inbox.act(self.ctx(username), task_id, action, **kw)

    def history(self, record_id: int) -> list[tuple[str, str | None]]:
        return [(e["action"], e["node"]) for e in self.instance(record_id)["history"]]


@pytest.fixture(name="clock")
def clock_fixture() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(name="flows")
def flows_fixture(db_url: str, clock: FixedClock) -> Iterator[Flows]:
    p = Platform(Database(db_url), clock, reload_seconds=0)
    p.publish(PACK)
    with p.db.begin() as conn:
        for name, roles in USERS.items():
            p.users.add(conn, name, name + "-pw", roles)
    yield Flows(p, clock)
    p.db.dispose()
