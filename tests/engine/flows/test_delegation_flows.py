"""Delegation in the runtime, set through the API (``POST /api/v1/delegations``): a task created
for a user with a delegation in force goes to the delegate with ``delegated_from_id``; the inbox
and the history show both names. A delegation for chosen flows leaves the others' tasks alone;
the window's edges (the start included, an end date through that day in the pack's time zone,
Asia/Shanghai) hold to the second; a revoked one stops (SQLite, and PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from .ops_kit import Api, api_fixture, user_id  # noqa: F401  (fixtures)
from .runtime_kit import NOW, Flows, clock_fixture, flows_fixture  # noqa: F401  (fixtures)
from .test_handover import PERSONAL

OTHER = """
name: other
label: {zh-CN: 零件审批, en: Part approval}
form: part
start: {on: create}
nodes:
  - {id: start, kind: start}
  - {id: ok, kind: approval, assignee: {user: mgr1}}
  - {id: done, kind: end}
edges:
  - {from: start, to: ok}
  - {from: ok, to: done}
"""

#: 2026-11-03 00:00 in Shanghai: where an end date of 2026-11-02 stops and a start of 11-03 begins
MIDNIGHT = dt.datetime(2026, 11, 2, 16, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def two(flows: Flows) -> Flows:
    flows.publish(personal=PERSONAL, other=OTHER)
    return flows


def _delegate(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    resp = api.post("admin", "/api/v1/delegations", body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()  # type: ignore[no-any-return]


def _first(flows: Flows) -> dict[str, Any]:
    r = flows.create(title="T", amount=Decimal("1"))
    return flows.task_of(r["id"], "first")


def _part(flows: Flows) -> dict[str, Any]:
    p = flows.records.create(flows.ctx("staff1"), "part", {"name": "P"})
    found = flows.inbox.instance(flows.ctx("admin"), "part", p["id"])
    assert found is not None
    return next(t for t in found["tasks"] if t["node"] == "ok")


def test_a_delegation_for_chosen_flows_and_both_names(two: Flows, api: Api) -> None:
    mgr1, mgr2 = user_id(two, "mgr1"), user_id(two, "mgr2")
    _delegate(
        api, {"from_id": mgr1, "to_id": mgr2, "starts_at": "2026-11-01", "ends_at": "2026-11-10", "flows": ["personal"]}
    )
    task = _first(two)
    assert (task["assignee_id"], task["delegated_from_id"]) == (mgr2, mgr1)
    assert (task["assignee_name"], task["delegated_from_name"]) == ("mgr2", "mgr1")
    other = _part(two)  # the delegation names 'personal' only
    assert (other["assignee_name"], other["delegated_from_id"]) == ("mgr1", None)
    inbox = two.inbox.tasks(two.ctx("mgr2"))["items"]
    assert [(t["id"], t["delegated_from_name"]) for t in inbox] == [(task["id"], "mgr1")]
    assert [t["id"] for t in two.inbox.tasks(two.ctx("mgr1"))["items"]] == [other["id"]]
    after = two.act("mgr2", task["id"], "approve", comment="代批")
    assert (after["acted_by_name"], after["on_behalf_of_name"]) == ("mgr2", "mgr1")
    approved = [e for e in after["instance"]["history"] if e["action"] == "approved"]
    assert [(e["user_name"], e["on_behalf_of"]) for e in approved] == [("mgr2", "mgr1")]


def test_a_delegation_for_every_flow(two: Flows, api: Api) -> None:
    mgr1, mgr3 = user_id(two, "mgr1"), user_id(two, "mgr3")
    made = _delegate(api, {"from_id": mgr1, "to_id": mgr3, "starts_at": "2026-11-01", "ends_at": "2026-11-10"})
    assert made["flows"] is None
    assert _first(two)["assignee_name"] == "mgr3" and _part(two)["assignee_name"] == "mgr3"
    assert _part(two)["delegated_from_name"] == "mgr1"


def test_the_window_edges_and_a_revoked_delegation(two: Flows, api: Api) -> None:
    mgr1, mgr2, mgr3 = user_id(two, "mgr1"), user_id(two, "mgr2"), user_id(two, "mgr3")
    until = _delegate(api, {"from_id": mgr1, "to_id": mgr2, "starts_at": "2026-11-01", "ends_at": "2026-11-02"})
    later = _delegate(api, {"from_id": mgr1, "to_id": mgr3, "starts_at": "2026-11-03", "ends_at": "2026-11-04"})
    assert dt.datetime.fromisoformat(until["ends_at"]) == MIDNIGHT  # through 11-02, Shanghai time
    assert dt.datetime.fromisoformat(later["starts_at"]) == MIDNIGHT
    assert NOW < MIDNIGHT and _first(two)["assignee_name"] == "mgr2"
    two.clock.set(MIDNIGHT - dt.timedelta(seconds=1))
    assert _first(two)["assignee_name"] == "mgr2"  # the last second of the end date
    two.clock.set(MIDNIGHT)
    assert _first(two)["assignee_name"] == "mgr3"  # the first second of the next one
    two.clock.set(MIDNIGHT + dt.timedelta(days=2))
    task = _first(two)  # both over: the user's own again
    assert (task["assignee_name"], task["delegated_from_id"]) == ("mgr1", None)
    two.clock.set(MIDNIGHT + dt.timedelta(hours=1))
    gone = api.client.delete(f"/api/v1/delegations/{later['id']}", headers=api.headers("admin"))
    assert gone.status_code == 200
    assert _first(two)["assignee_name"] == "mgr1"  # revoked: tasks from now stay with the user
