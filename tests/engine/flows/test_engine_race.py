"""Concurrency on a real database, in threads: two approvers on one task (one wins, the other
gets 409), the two branches of a parallel join completed at once (the join fires once)."""

from __future__ import annotations

import threading
from decimal import Decimal

from engine.errors import Conflict, LowcodeError
from tests.threads import together

from .runtime_kit import Flows, clock_fixture, flows_fixture  # noqa: F401  (fixtures)
from .yaml_flows import APPROVAL, PARALLEL


def test_two_approvers_at_once_one_wins(flows: Flows) -> None:
    flows.publish(approval=APPROVAL)
    r = flows.create(title="A", amount=Decimal("10"))
    task = flows.task_of(r["id"], "manager")
    ctxs = iter([flows.ctx("mgr1"), flows.ctx("mgr2")])
    lock = threading.Lock()
    won: list[str] = []
    lost: list[type] = []

    def approve() -> None:
        with lock:
            ctx = next(ctxs)
        try:
            flows.inbox.act(ctx, task["id"], "approve")
            won.append(str(ctx.username))
        except LowcodeError as exc:
            lost.append(type(exc))

    together(2, approve)
    assert len(won) == 1 and len(lost) == 1 and issubclass(lost[0], Conflict)
    approved = [e for e in flows.instance(r["id"])["history"] if e["action"] == "approved"]
    assert [e["user_name"] for e in approved] == won
    assert flows.instance(r["id"])["waiting"] == ["finance"]


def test_both_branches_at_once_the_join_fires_once(flows: Flows) -> None:
    flows.publish(parallel=PARALLEL)
    r = flows.create(title="P", amount=Decimal("1"))
    flows.inbox.start(flows.ctx("staff1"), "request", r["id"], "parallel")
    jobs = iter([("mgr1", flows.task_of(r["id"], "check_a")), ("fin1", flows.task_of(r["id"], "check_b"))])
    lock = threading.Lock()
    errors: list[Exception] = []

    def submit() -> None:
        with lock:
            user, task = next(jobs)
        for _ in range(5):  # a step that lost the instance's version race is retried
            try:
                flows.act(user, task["id"], "submit")
                return
            except Conflict as exc:
                if "已被他人推进" not in exc.text("zh-CN"):
                    errors.append(exc)
                    return
        errors.append(RuntimeError("never won"))

    together(2, submit)
    assert errors == []
    inst = flows.instance(r["id"])
    assert inst["status"] == "completed"
    assert [a for a, n in flows.history(r["id"]) if n == "join"] == ["entered"]
