"""Flow timers through the worker with the injectable clock: a timer node's wait, due-time
reminders and an escalation chain over two levels (remind, then notify and reassign, then
decide automatically), auto return to the starter; fired twice, nothing happens twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from engine.store.timers import timers
from engine.store.worker import Worker

from .runtime_kit import Flows, clock_fixture, flows_fixture  # noqa: F401  (fixtures)

WAIT = """
name: wait
label: {zh-CN: 等待, en: Wait}
form: request
start: {on: create}
nodes:
  - {id: start, kind: start}
  - {id: cool, kind: timer, wait: 2h}
  - {id: until, kind: timer, wait: {until: ship_date}}
  - {id: done, kind: end}
edges:
  - {from: start, to: cool}
  - {from: cool, to: until}
  - {from: until, to: done}
"""

ESCALATE = """
name: escalate
label: {zh-CN: 催办, en: Escalate}
form: request
start: {on: create}
nodes:
  - {id: start, kind: start}
  - id: approve
    kind: approval
    label: {zh-CN: 经理审批, en: Manager approval}
    assignee: {user: mgr1}
    due: 24h
    escalation:
      - {after: 2h, remind: true}
      - {after: 48h, notify: {role: director}, reassign: {role: director}}
      - {after: 72h, auto: AUTO}
  - {id: done, kind: end}
edges:
  - {from: start, to: approve}
  - {from: approve, to: done}
"""


WORKERS: dict[int, Worker] = {}


def tick(flows: Flows, **advance: float) -> None:
    """Move the clock, then one round of the platform's worker (its timer hook)."""
    flows.clock.advance(**advance)
    worker = WORKERS.get(id(flows))
    if worker is None:
        worker = WORKERS[id(flows)] = flows.platform.worker()
    worker.run_once()


def notes(flows: Flows) -> list[str]:
    with flows.platform.db.connect() as conn:
        rows = conn.execute(sa.text("SELECT payload FROM lc_outbox WHERE kind = 'notify' ORDER BY id")).all()
    out = []
    for (payload,) in rows:
        p = payload if isinstance(payload, dict) else __import__("json").loads(payload)
        out.append(f"{p['to']}: {p['subject']}")
    return out


def flow_timers(flows: Flows) -> list[tuple[str, str, str]]:
    with flows.platform.db.connect() as conn:
        q = sa.select(timers.c.kind, timers.c.key, timers.c.status).where(timers.c.kind.like("flow.%"))
        return sorted(tuple(r) for r in conn.execute(q.order_by(timers.c.id)))


def test_a_timer_node_waits_for_its_duration_then_for_a_date(flows: Flows) -> None:
    flows.publish(wait=WAIT)
    r = flows.create(title="T", amount=Decimal("1"), ship_date="2026-11-05")
    assert flows.instance(r["id"])["waiting"] == ["cool"]
    tick(flows, hours=1)
    assert flows.instance(r["id"])["waiting"] == ["cool"]
    tick(flows, hours=1)
    assert flows.instance(r["id"])["waiting"] == ["until"]
    tick(flows, days=2)  # 2026-11-04 10:00 UTC: not yet 2026-11-05 00:00 in Shanghai
    assert flows.instance(r["id"])["waiting"] == ["until"]
    tick(flows, hours=14)
    inst = flows.instance(r["id"])
    assert inst["status"] == "completed"
    assert [a for a, n in flows.history(r["id"]) if a == "timer"] == ["timer", "timer"]
    tick(flows, hours=1)  # nothing fires twice
    assert [s for _, _, s in flow_timers(flows)] == ["fired", "fired"]


def test_escalation_over_two_levels_then_auto_approve(flows: Flows) -> None:
    flows.publish(escalate=ESCALATE.replace("AUTO", "approve"))
    r = flows.create(title="E", amount=Decimal("1"))
    task = flows.task_of(r["id"], "approve")
    assert task["assignee_name"] == "mgr1" and task["due_at"].startswith("2026-11-03T08:00")
    tick(flows, hours=2)
    assert notes(flows) == ["mgr1: 请尽快处理 / reminder: 经理审批"]
    tick(flows, hours=22)  # the due time: one more reminder
    assert notes(flows)[-1] == "mgr1: 已到期 / due: 经理审批"
    tick(flows, hours=24)  # 48h: tell the director and give the task to the directors
    assert notes(flows)[-1] == "dir1: 已超时 / overdue: 经理审批"
    moved = flows.task_of(r["id"], "approve")
    assert moved["assignee_id"] is None and moved["assignee_role"] == "director"
    assert flows.inbox.tasks(flows.ctx("dir1"))["total"] == 1 and flows.inbox.tasks(flows.ctx("mgr1"))["total"] == 0
    tick(flows, hours=24)  # 72h: approved automatically
    inst = flows.instance(r["id"])
    assert inst["status"] == "completed"
    approved = [e for e in inst["history"] if e["action"] == "approved"]
    assert approved[0]["user_name"] == "system" and "自动" in approved[0]["comment"]
    escalated = [e["comment"] for e in inst["history"] if e["action"] in ("reminded", "escalated")]
    assert escalated == ["escalation 1", "due", "escalation 2: notified", "escalation 2: reassigned"]


def test_a_task_acted_on_in_time_drops_its_timers(flows: Flows) -> None:
    flows.publish(escalate=ESCALATE.replace("AUTO", "approve"))
    r = flows.create(title="E", amount=Decimal("1"))
    flows.act("mgr1", flows.task_of(r["id"], "approve")["id"], "approve")
    assert flow_timers(flows) == []  # cancelled with the task
    tick(flows, days=4)
    assert notes(flows) == []


def test_auto_return_sends_it_back_to_the_starter(flows: Flows) -> None:
    flows.publish(escalate=ESCALATE.replace("AUTO", "return"))
    r = flows.create(title="E", amount=Decimal("1"))
    tick(flows, hours=72)
    back = flows.task_of(r["id"], "start")
    assert back["assignee_name"] == "staff1"
    assert ("returned", "approve") in flows.history(r["id"])
    assert dt.datetime.fromisoformat(back["created_at"]) == flows.clock.now()
