"""The department-head chain (mode chain, ``starter.department.head``) and delegation: a task
for a user on leave goes to their delegate, the inbox and the history show both names."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.security import delegation, org

from .runtime_kit import Flows, clock_fixture, flows_fixture  # noqa: F401  (fixtures)

CHAIN = """
name: chain
label: {zh-CN: 逐级审批, en: Chain}
form: request
start: {on: create}
nodes:
  - {id: start, kind: start}
  - {id: heads, kind: approval, mode: chain, chain: 2}
  - {id: head, kind: task, assignee: {expr: "starter.department.head"}}
  - {id: boss, kind: approval, assignee: {user: dir1}}
  - {id: done, kind: end}
edges:
  - {from: start, to: heads}
  - {from: heads, to: head}
  - {from: head, to: boss}
  - {from: boss, to: done}
"""


@pytest.fixture
def chart(flows: Flows) -> Flows:
    """总部 (head dir1) > 销售部 (head mgr1) with staff1 in 销售部; mgr2 stands in for dir1."""
    ids = {u: flows.ctx(u).user_id for u in ("staff1", "mgr1", "mgr2", "dir1")}
    with flows.platform.db.begin() as conn:
        top = org.add_department(conn, {"name": "总部", "head_id": ids["dir1"]})
        sales = org.add_department(conn, {"name": "销售部", "parent_id": top.id, "head_id": ids["mgr1"]})
        org.set_user_department(conn, ids["staff1"], sales.id)
    flows.publish(chain=CHAIN)
    return flows


def test_the_chain_climbs_the_starters_heads(chart: Flows) -> None:
    r = chart.create(title="C", amount=Decimal("1"))
    tasks = chart.instance(r["id"])["tasks"]
    assert [(t["assignee_name"], t["status"]) for t in tasks] == [("mgr1", "open"), ("dir1", "waiting")]
    chart.act("mgr1", chart.task_of(r["id"], "heads")["id"], "approve")
    chart.act("dir1", chart.task_of(r["id"], "heads")["id"], "approve")
    head = chart.task_of(r["id"], "head")  # starter.department.head
    assert head["assignee_name"] == "mgr1"


def test_a_delegate_gets_the_task_and_both_names_are_shown(chart: Flows) -> None:
    with chart.platform.db.begin() as conn:
        delegation.add_delegation(
            conn,
            {
                "from_id": chart.ctx("dir1").user_id,
                "to_id": chart.ctx("mgr2").user_id,
                "starts_at": "2026-11-01",
                "ends_at": "2026-11-30",
                "flows": ["chain"],
            },
            now=chart.clock.now(),
            created_by="admin",
        )
    r = chart.create(title="D", amount=Decimal("1"))
    tasks = chart.instance(r["id"])["tasks"]
    assert [(t["assignee_name"], t["delegated_from_name"]) for t in tasks] == [("mgr1", None), ("mgr2", "dir1")]
    chart.act("mgr1", chart.task_of(r["id"], "heads")["id"], "approve")
    mine = chart.inbox.tasks(chart.ctx("mgr2"))["items"]
    assert [(t["node"], t["delegated_from_name"]) for t in mine] == [("heads", "dir1")]
    after = chart.act("mgr2", mine[0]["id"], "approve", comment="代批")
    assert after["acted_by_name"] == "mgr2" and after["on_behalf_of_name"] == "dir1"
    approved = [e for e in chart.instance(r["id"])["history"] if e["action"] == "approved"]
    assert (approved[1]["user_name"], approved[1]["on_behalf_of"]) == ("mgr2", "dir1")
