"""The flow engine's timers (``engine.store.timers``): ``flow.timer`` (a timer node waited
long enough) and ``flow.due`` (a task's due time, and each step of its escalation chain:
remind, notify, reassign, or decide automatically).

Both are idempotent: a timer whose instance moved on, or whose task is no longer open, is
dropped (``DROPPED``), so a timer fired twice does nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import FixedClock, RunContext
from engine.flows.acting import act_on_task
from engine.flows.assignees import Target
from engine.flows.engine import FlowEngine
from engine.flows.history import OPEN, instance_row, task_row
from engine.flows.parts import FlowTimers
from engine.flows.steps import DUE, TIMER, Run
from engine.flows.tables import tasks
from engine.store.timers import DROPPED, Timer

AUTO_COMMENT = {
    "approve": "超时自动通过 / approved automatically",
    "reject": "超时自动驳回 / rejected automatically",
    "return": "超时自动退回 / returned automatically",
}


def system(now: dt.datetime, timezone: str = "Asia/Shanghai") -> RunContext:
    return RunContext(
        username="system", roles=frozenset({"system"}), clock=FixedClock(now), superuser=True, timezone=timezone
    )


class FlowTimer:
    """A timer node's wait is over: the token goes on."""

    def __init__(self, flows: FlowEngine) -> None:
        self.flows = flows

    def fire(self, conn: Connection, timer: Timer, now: dt.datetime) -> str:
        p = timer.payload or {}
        inst = instance_row(conn, int(p.get("instance", 0)))
        node = str(p.get("node", ""))
        if inst is None or inst["status"] != "running" or node not in (inst["state"] or {}).get("w", {}):
            return DROPPED
        run = self.flows.run_of(conn, system(now), inst["id"])
        run.event("timer", node=node, user=False)
        step = run.machine.complete(run.state, node, run.record, run.ctx, count=run.who.count, data=run.data)
        run.perform(step)
        run.save(step)
        return f"timer {node} of instance {inst['id']}"

    def failed(self, conn: Connection, timer: Timer, now: dt.datetime, error: str) -> None:
        return None


class FlowDue:
    """A task's due time (a reminder) or one step of its escalation chain."""

    def __init__(self, flows: FlowEngine) -> None:
        self.flows = flows

    def fire(self, conn: Connection, timer: Timer, now: dt.datetime) -> str:
        p = timer.payload or {}
        task = task_row(conn, int(p.get("task", 0)))
        if task is None or task["status"] != OPEN:
            return DROPPED
        inst = instance_row(conn, task["instance_id"])
        if inst is None or inst["status"] != "running":
            return DROPPED
        ctx = system(now)
        run = self.flows.run_of(conn, ctx, inst["id"])
        node = run.spec.nodes[task["node"]]
        n: Optional[int] = p.get("step")
        if n is None:  # the due time itself: remind the assignee
            run.notify(node, f"已到期 / due: {node.label.get('zh-CN') or node.id}", self._assignees(run, task))
            run.event("reminded", node=node.id, comment="due", user=False)
            run.save(run.machine.same(run.state))
            return "reminded (due)"
        if n >= len(node.escalation):
            return DROPPED
        esc = node.escalation[n]
        done: list[str] = []
        if esc.remind:
            run.notify(node, f"请尽快处理 / reminder: {node.label.get('zh-CN') or node.id}", self._assignees(run, task))
            run.event("reminded", node=node.id, comment=f"escalation {n + 1}", user=False)
            done.append("reminded")
        if esc.notify is not None:
            who = self._users(run, [run.who.delegated(t) for t in run.who.one(esc.notify)])
            run.notify(node, f"已超时 / overdue: {node.label.get('zh-CN') or node.id}", who)
            run.event("escalated", node=node.id, comment=f"escalation {n + 1}: notified", user=False)
            done.append("notified")
        if esc.reassign is not None:
            targets = [run.who.delegated(t) for t in run.who.one(esc.reassign)]
            if targets:
                self._reassign(conn, run, task, targets[0])
                run.event(
                    "escalated",
                    node=node.id,
                    comment=f"escalation {n + 1}: reassigned",
                    user=False,
                    changes={
                        "assignee_id": [task["assignee_id"], targets[0].user_id],
                        "assignee_role": [task["assignee_role"], targets[0].role],
                    },
                )
                done.append("reassigned")
        if esc.auto is not None:
            self._auto(run, task, esc.auto)
            done.append(f"auto {esc.auto}")
            return ", ".join(done)
        run.save(run.machine.same(run.state))  # tasks changed: the instance's version moves
        return ", ".join(done) or DROPPED

    def _assignees(self, run: Run, task: dict[str, Any]) -> list[int]:
        return self._users(run, [Target(user_id=task["assignee_id"], role=task["assignee_role"])])

    def _users(self, run: Run, targets: list[Target]) -> list[int]:
        out: list[int] = []
        for t in targets:
            out.extend([t.user_id] if t.user_id is not None else run.who.role_users(t.role or ""))
        return out

    def _reassign(self, conn: Connection, run: Run, task: dict[str, Any], target: Target) -> None:
        conn.execute(
            sa.update(tasks)
            .where(tasks.c.id == task["id"], tasks.c.status == OPEN)
            .values(assignee_id=target.user_id, assignee_role=target.role, delegated_from_id=target.delegated_from_id)
        )

    def _auto(self, run: Run, task: dict[str, Any], auto: str) -> None:
        node = run.spec.nodes[task["node"]]
        comment = AUTO_COMMENT[auto]
        if auto == "approve":
            action = "approve" if node.kind == "approval" else "submit"
            act_on_task(
                run, task, action, comment=comment, values={}, to_node=None, to_user=None, where=None, attachments=()
            )
        else:
            to = run.machine.start_id if auto == "return" else None
            act_on_task(
                run, task, "reject", comment=comment, values={}, to_node=to, to_user=None, where=None, attachments=()
            )

    def failed(self, conn: Connection, timer: Timer, now: dt.datetime, error: str) -> None:
        return None


def register(flows: FlowEngine, queue: FlowTimers) -> None:
    """The two handlers on the platform's timer queue."""
    queue.register(TIMER, FlowTimer(flows))
    queue.register(DUE, FlowDue(flows))
