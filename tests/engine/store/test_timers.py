"""The store's generic timers: a second handler kind beside the rules', fired through the worker."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import FixedClock
from engine.store import timers as tm
from engine.store.outbox import enqueue, outbox
from engine.store.timers import Timer, TimerQueue, timers
from engine.store.worker import Worker

T0 = dt.datetime(2026, 5, 17, 8, 0, tzinfo=dt.timezone.utc)
HOUR = dt.timedelta(hours=1)


class Escalation:
    """An SLA handler as a flow would register it: escalate a task, idempotently (keyed outbox row)."""

    def __init__(self, fail: bool = False) -> None:
        self.fired: list[tuple[str, object, int]] = []
        self.failures: list[str] = []
        self.fail = fail

    def fire(self, conn: Connection, timer: Timer, now: dt.datetime) -> str:
        self.fired.append((timer.key, timer.payload, timer.attempts))
        enqueue(
            conn,
            "notify",
            {"to": timer.payload["to"], "body": f"{timer.key} is late"},
            key=f"sla:{timer.key}:{timer.due_at.isoformat()}",
            now=now,
        )
        if self.fail:
            raise RuntimeError("escalation refused")
        return f"escalated to {timer.payload['to']}"

    def failed(self, conn: Connection, timer: Timer, now: dt.datetime, error: str) -> None:
        self.failures.append(error)


def rows(db) -> list[dict]:
    with db.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(timers).order_by(timers.c.id)).mappings()]


def notes(db) -> list[str]:
    with db.connect() as conn:
        return [r.payload["body"] for r in conn.execute(sa.select(outbox.c.payload).order_by(outbox.c.id))]


def worker(db, queue: TimerQueue, clock, name: str = "w1") -> Worker:
    w = Worker(db, {}, clock=clock, worker_id=name)
    w.periodic.append(queue.hook())
    return w


def test_schedule_reschedule_cancel_and_fire_through_the_worker(db):
    clock = FixedClock(T0)
    queue = TimerQueue(db)
    handler = Escalation()
    queue.register("flow.sla", handler)
    with db.begin() as conn:
        tm.schedule(conn, "flow.sla", "task:1", T0 + HOUR, now=T0, payload={"to": "boss"})
        tm.schedule(conn, "flow.sla", "task:1", T0 + 2 * HOUR, now=T0, payload={"to": "boss"})  # rescheduled
        tm.schedule(conn, "flow.sla", "task:2", T0 + HOUR, now=T0, payload={"to": "lead"})
        tm.cancel(conn, "flow.sla", "task:2", now=T0)
        tm.schedule(conn, "other", "x", T0, now=T0, payload={})  # no handler here: never claimed
        assert [(r["key"], r["due_at"]) for r in tm.pending(conn, "flow.sla")] == [("task:1", T0 + 2 * HOUR)]
    w = worker(db, queue, clock)
    clock.set(T0 + HOUR)
    w.run_once()
    assert handler.fired == []
    clock.set(T0 + 2 * HOUR)
    w.run_once()
    assert handler.fired == [("task:1", {"to": "boss"}, 1)]
    (sla,) = [r for r in rows(db) if r["kind"] == "flow.sla"]
    assert (sla["status"], sla["outcome"], sla["fired_by"], sla["fired_at"]) == (
        tm.FIRED,
        "escalated to boss",
        "w1",
        T0 + 2 * HOUR,
    )
    assert notes(db) == ["task:1 is late"]
    w.run_once()
    assert len(handler.fired) == 1  # fired once
    assert [r["status"] for r in rows(db) if r["kind"] == "other"] == [tm.PENDING]


def test_a_failing_handler_is_rolled_back_and_told(db):
    clock = FixedClock(T0)
    queue = TimerQueue(db)
    handler = Escalation(fail=True)
    queue.register("flow.sla", handler)
    with db.begin() as conn:
        tm.schedule(conn, "flow.sla", "task:9", T0, now=T0, payload={"to": "boss"})
    worker(db, queue, clock).run_once()
    (row,) = rows(db)
    assert (row["status"], row["error"]) == (tm.FAILED, "RuntimeError: escalation refused")
    assert handler.failures == ["RuntimeError: escalation refused"]
    assert notes(db) == []  # its work rolled back


def test_a_lease_that_runs_out_is_claimed_again_at_least_once(db):
    clock = FixedClock(T0)
    queue = TimerQueue(db, lease_seconds=60)
    handler = Escalation()
    queue.register("flow.sla", handler)
    with db.begin() as conn:
        tm.schedule(conn, "flow.sla", "task:3", T0, now=T0, payload={"to": "boss"})
    (claimed,) = queue.claim(T0, "dead-worker", 10)  # ... and the worker dies
    assert queue.claim(T0 + dt.timedelta(seconds=30), "w2", 10) == []  # leased
    clock.set(T0 + dt.timedelta(seconds=61))
    worker(db, queue, clock, "w2").run_once()
    assert handler.fired == [("task:3", {"to": "boss"}, 2)]
    assert queue.fire(claimed, clock, "dead-worker") is None  # no longer its row
    assert [r["fired_by"] for r in rows(db)] == ["w2"] and notes(db) == ["task:3 is late"]


def test_one_handler_per_kind(db):
    queue = TimerQueue(db)
    queue.register("flow.sla", Escalation())
    with pytest.raises(ValueError, match="a timer handler for kind 'flow.sla' is registered already"):
        queue.register("flow.sla", Escalation())


def test_rule_timers_and_another_kind_share_one_queue(db_url):
    """The rules register their handler on the same queue a flow's handler is on."""
    from engine.definitions.loader import read_pack_files
    from engine.platform import Platform
    from engine.rules.timers_fire import timer_hook
    from engine.store.db import Database
    from tests.engine.rules.conftest import PACK

    clock = FixedClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc))
    p = Platform(Database(db_url), clock, reload_seconds=0)
    try:
        p.publish(
            PACK,
            {
                **read_pack_files(PACK),
                "rules/stock.rules": 'on material\nrule "tick" when every 1h then notify role buyer "tick"\n',
            },
        )
        queue = TimerQueue(p.db)
        handler = Escalation()
        queue.register("flow.sla", handler)
        w = Worker(p.db, {}, clock=clock, worker_id="w")
        w.periodic.append(timer_hook(p, queue))
        with p.db.begin() as conn:
            tm.schedule(conn, "flow.sla", "task:5", clock.now() + HOUR, now=clock.now(), payload={"to": "lead"})
        w.run_once()
        clock.set(clock.now() + HOUR)
        w.run_once()
        assert handler.fired == [("task:5", {"to": "lead"}, 1)]
        assert sorted((r["kind"], r["status"]) for r in rows(p.db)) == [
            ("flow.sla", tm.FIRED),
            ("rule", tm.FIRED),
            ("rule", tm.PENDING),
        ]
    finally:
        p.db.dispose()
