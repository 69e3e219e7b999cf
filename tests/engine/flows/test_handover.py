"""Handover: an administrator gives every open task of a user who left to another user, through
``POST /api/v1/users/{id}/handover`` and ``run.py flows handover FROM TO``: one transaction,
a history event per task naming both, role tasks and the delegation table untouched; 403 for
anyone else, 404 / 422 for wrong users (SQLite, and PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from engine.security import delegation

from .ops_kit import Api, api_fixture, user_id  # noqa: F401  (fixtures)
from .runtime_kit import Flows, clock_fixture, flows_fixture  # noqa: F401  (fixtures)

PERSONAL = """
name: personal
label: {zh-CN: 个人审批, en: Personal}
form: request
start: {on: create}
nodes:
  - {id: start, kind: start}
  - {id: first, kind: approval, assignee: {user: mgr1}}
  - {id: check, kind: task, assignee: {role: finance}}
  - {id: done, kind: end}
edges:
  - {from: start, to: first}
  - {from: first, to: check}
  - {from: check, to: done}
"""

SEQUENCE = """
name: sequence
label: {zh-CN: 依次审批, en: Sequence}
form: part
start: {on: create}
nodes:
  - {id: start, kind: start}
  - id: line
    kind: approval
    mode: sequence
    approvers: [{user: mgr2}, {user: mgr1}]
  - {id: done, kind: end}
edges:
  - {from: start, to: line}
  - {from: line, to: done}
"""


@pytest.fixture
def three(flows: Flows) -> Flows:
    """mgr1's personal approvals (request) and sequence turns (part); a delegation of mgr1's
    (for December: not in force now) that a handover must leave as it is."""
    flows.publish(personal=PERSONAL, sequence=SEQUENCE)
    with flows.platform.db.begin() as conn:
        delegation.add_delegation(
            conn,
            {
                "from_id": user_id(flows, "mgr1"),
                "to_id": user_id(flows, "mgr3"),
                "starts_at": "2026-12-01",
                "ends_at": "2026-12-05",
            },
            now=flows.clock.now(),
            created_by="admin",
        )
    return flows


def _delegations(flows: Flows) -> list[Any]:
    with flows.platform.db.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(delegation.delegations_table).order_by("id"))]


def test_the_api_hands_every_open_task_over_with_an_event_naming_both(three: Flows, api: Api) -> None:
    a = three.create(title="A", amount=Decimal("1"))
    b = three.create(title="B", amount=Decimal("2"))
    three.act("mgr1", three.task_of(b["id"], "first")["id"], "approve")  # b's next task is finance's role task
    before = _delegations(three)
    mgr1, mgr2 = user_id(three, "mgr1"), user_id(three, "mgr2")
    resp = api.post("admin", f"/api/v1/users/{mgr1}/handover", {"to": mgr2})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    task_a = three.task_of(a["id"], "first")
    assert body["count"] == 1 and body["tasks"] == [task_a["id"]]
    assert body["from"] == {"id": mgr1, "username": "mgr1"} and body["to"] == {"id": mgr2, "username": "mgr2"}
    assert task_a["assignee_name"] == "mgr2"
    assert three.task_of(b["id"], "check")["assignee_role"] == "finance"  # a role task stays with the role
    event = [e for e in three.instance(a["id"])["history"] if e["action"] == "handed_over"]
    assert len(event) == 1 and event[0]["user_name"] == "admin" and event[0]["node"] == "first"
    assert event[0]["changes"]["assignee"] == ["mgr1", "mgr2"] and "mgr1" in event[0]["comment"]
    assert "由 mgr1 交接给 mgr2" in event[0]["comment"]
    assert _delegations(three) == before  # the delegation table is untouched
    assert [t["id"] for t in three.inbox.tasks(three.ctx("mgr2"))["items"]] == [task_a["id"]]
    assert three.inbox.tasks(three.ctx("mgr1"))["total"] == 0
    after = three.act("mgr2", task_a["id"], "approve", comment="接手")
    assert after["acted_by_name"] == "mgr2"
    again = api.post("admin", f"/api/v1/users/{mgr1}/handover", {"to": "mgr2"})  # by name: nothing left
    assert again.status_code == 200 and again.get_json()["count"] == 0


def test_only_an_admin_and_wrong_users_are_refused(three: Flows, api: Api) -> None:
    three.create(title="A", amount=Decimal("1"))
    mgr1 = user_id(three, "mgr1")
    denied = api.post("mgr2", f"/api/v1/users/{mgr1}/handover", {"to": "mgr2"})
    assert denied.status_code == 403
    assert three.inbox.tasks(three.ctx("mgr1"))["total"] == 1
    assert api.post("admin", "/api/v1/users/99999/handover", {"to": "mgr2"}).status_code == 404
    nobody = api.post("admin", f"/api/v1/users/{mgr1}/handover", {"to": "nobody"})
    assert nobody.status_code == 422 and "to" in nobody.get_json()["error"]["fields"]
    same = api.post("admin", f"/api/v1/users/{mgr1}/handover", {"to": mgr1}, lang="zh-CN")
    assert same.status_code == 422 and same.get_json()["error"]["fields"]["to"] == ["不能交接给本人"]
    extra = api.post("admin", f"/api/v1/users/{mgr1}/handover", {"to": "mgr2", "also": 1})
    assert extra.status_code == 422 and set(extra.get_json()["error"]["fields"]) == {"also"}
    missing = api.post("admin", f"/api/v1/users/{mgr1}/handover", {})
    assert missing.status_code == 422 and set(missing.get_json()["error"]["fields"]) == {"to"}
    assert three.inbox.tasks(three.ctx("mgr1"))["total"] == 1  # nothing moved
    doc = api.get("admin", "/api/v1/openapi.json").get_json()
    op = doc["paths"]["/users/{id}/handover"]["post"]
    assert {"200", "403", "404", "422"} <= set(op["responses"])


def test_the_command_line_hands_over_open_and_waiting_tasks(
    three: Flows, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = three.create(title="A", amount=Decimal("1"))
    seq = three.records.create(three.ctx("staff1"), "part", {"name": "P"})
    tasks = three.inbox.instance(three.ctx("admin"), "part", seq["id"])["tasks"]  # type: ignore[index]
    assert [(t["assignee_name"], t["status"]) for t in tasks] == [("mgr2", "open"), ("mgr1", "waiting")]
    code, out, err = cli("flows", "handover", "mgr1", "mgr3")
    assert code == 0, err
    assert "handed over 2 task(s) from mgr1 to mgr3" in out
    assert three.task_of(a["id"], "first")["assignee_name"] == "mgr3"
    tasks = three.inbox.instance(three.ctx("admin"), "part", seq["id"])["tasks"]  # type: ignore[index]
    assert [(t["assignee_name"], t["status"]) for t in tasks] == [("mgr2", "open"), ("mgr3", "waiting")]
    code, _out, err = cli("flows", "handover", "mgr1", "ghost")
    assert code == 1 and "to:" in err
    code, _out, err = cli("flows", "handover", "ghost", "mgr1")
    assert code == 1 and "no user named 'ghost'" in err
