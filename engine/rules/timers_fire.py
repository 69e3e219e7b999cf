"""Firing rule timers: the handler the rules register for the store's timers of kind ``rule``.

The store's :class:`~engine.store.timers.TimerQueue` claims a due row and opens its
transaction; :meth:`RuleTimers.fire` then

1. fires the row's rule through :meth:`engine.rules.engine.RuleEngine.fire` (same actions,
   log and loop guard as record triggers);
2. for a schedule, places the next slot **after now**: a worker that was down for three days
   fires a missed daily schedule once, not three times.

The queue marks the row fired and commits. An action that fails rolls all of it back; the
row is then marked ``failed`` (with the error; the run log has the details) and
:meth:`RuleTimers.failed` places a schedule's next slot.

What a fire means:

* date-relative rule: the rule runs on the record, loaded fresh. If the record's date
  moved meanwhile (or the record is gone) the row is dropped and a row for the new due
  time is placed instead (so firing twice, at least once, is harmless);
* schedule rule **with a condition**: the condition is pushed to SQL and the rule runs on
  each record of its form for which it holds (``every day at 08:00 if stock <
  safety_stock then notify ...``);
* schedule rule **without a condition**: the rule runs once, on an empty record (no
  ``id``): useful for set-based actions (``update ... where``), ``create`` and ``notify role``;
* a row whose rule is gone or whose trigger changed is dropped (a schedule's slot is placed
  anew for the rule as it is now).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Any, Optional

from sqlalchemy.engine import Connection

from engine.context import Clock, RunContext
from engine.rules.parts import RulePlatform
from engine.rules.spec import RuleSpec
from engine.rules.timers import (
    DROPPED,
    KIND,
    NO_RECORD,
    add_slot,
    backfill,
    ensure_schedules,
    path_value,
    relative_due,
    slot_after,
    trigger_text,
)
from engine.store.db import Database
from engine.store.idempotency import purge as purge_keys
from engine.store.timers import Timer, TimerQueue, prune
from engine.store.worker import Hook, Worker

PRUNE_EVERY = 3600.0  # seconds between prunes of old fired rows, per process


#: what firing rule timers needs of the platform
TimerPlatform = RulePlatform


class RuleTimers:
    """The :class:`~engine.store.timers.TimerHandler` of kind ``rule``."""

    def __init__(self, platform: TimerPlatform, clock: Optional[Clock] = None) -> None:
        self.platform = platform
        self.clock = clock or platform.clock

    def _rule(self, timer: Timer) -> Optional[RuleSpec]:
        key = (timer.payload or {}).get("rule")
        return next((r for r in self.platform.definitions().rules.timers if r.key == key), None)

    def fire(self, conn: Connection, timer: Timer, now: dt.datetime) -> str:
        rule = self._rule(timer)
        record_id = int((timer.payload or {}).get("record_id", NO_RECORD))
        if rule is None or trigger_text(rule) != (timer.payload or {}).get("trigger"):
            if rule is not None and record_id == NO_RECORD and _is_schedule(rule):
                _next_slot(conn, rule, now)  # placed by a worker with older rules
            return DROPPED
        ctx = dataclasses.replace(self.platform.system_context(), clock=self.clock)
        outcome = self._run(conn, ctx, rule, record_id, timer, now)
        if record_id == NO_RECORD:
            _next_slot(conn, rule, now)
        return outcome

    def failed(self, conn: Connection, timer: Timer, now: dt.datetime, error: str) -> None:
        rule = self._rule(timer)
        if rule is not None and (timer.payload or {}).get("record_id") == NO_RECORD and _is_schedule(rule):
            _next_slot(conn, rule, now)

    def _run(
        self, conn: Connection, ctx: RunContext, rule: RuleSpec, record_id: int, timer: Timer, now: dt.datetime
    ) -> str:
        engine = self.platform.rules
        store = self.platform.store()
        trig = rule.trigger.timer
        assert trig is not None
        if trig.kind == "relative":
            record = store.get(conn, rule.form, record_id)
            due = relative_due(trig, path_value(conn, store, rule.form, record, trig.path)) if record else None
            if due != timer.due_at:  # moved or cleared after the row was placed
                if due is not None:
                    add_slot(conn, rule, record_id, due, now)
                return DROPPED
            assert record is not None
            return engine.fire(conn, ctx, rule, record, event="timer")
        if rule.condition is None:
            return engine.fire(conn, ctx, rule, {}, event="timer")
        outcomes: dict[str, int] = {}
        for record in self._candidates(conn, ctx, rule):
            outcome = engine.fire(conn, ctx, rule, record, event="timer")
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if not outcomes:
            return "no records"
        return ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items()))

    def _candidates(self, conn: Connection, ctx: RunContext, rule: RuleSpec) -> list[dict[str, Any]]:
        """The records of the rule's form whose condition holds, filtered in SQL when it can be."""
        assert rule.condition is not None
        try:
            where = rule.condition.to_sql(self.platform.definitions().tables, ctx)
        except Exception:  # changed()/old make no sense here; the condition is checked in Python anyway
            where = None
        records, _ = self.platform.store().select(conn, rule.form, where=where, limit=None, with_total=False)
        return records


def _is_schedule(rule: RuleSpec) -> bool:
    return rule.trigger.timer is not None and rule.trigger.timer.kind == "schedule"


def _next_slot(conn: Connection, rule: RuleSpec, now: dt.datetime) -> None:
    assert rule.trigger.timer is not None
    add_slot(conn, rule, NO_RECORD, slot_after(rule.trigger.timer, now), now)


def place_rule_timers(platform: TimerPlatform, now: dt.datetime) -> None:
    """Place the missing schedule rows and the rows of newly published date-relative rules."""
    ruleset = platform.definitions().rules
    with platform.db.begin() as conn:
        ensure_schedules(conn, ruleset, now)
        backfill(conn, platform.store(), ruleset, now)


def rule_queue(
    platform: TimerPlatform, clock: Optional[Clock] = None, queue: Optional[TimerQueue] = None
) -> TimerQueue:
    """``queue`` (a new one on the platform's database by default) with the rules' handler."""
    queue = queue or TimerQueue(platform.db)
    queue.register(KIND, RuleTimers(platform, clock))
    return queue


def fire_due(
    platform: TimerPlatform,
    clock: Optional[Clock] = None,
    worker_id: str = "",
    limit: int = 100,
    *,
    prepare: bool = True,
) -> int:
    """Fire up to ``limit`` due rule timers; returns rows handled (``prepare``: place schedules first)."""
    clock = clock or platform.clock
    if prepare:
        place_rule_timers(platform, clock.now())
    return rule_queue(platform, clock).fire_due(clock, worker_id, limit)


def prune_timers(db: Database, before: dt.datetime) -> int:
    """Delete finished timer rows due before ``before``; returns how many."""
    return prune(db, before)


def timer_hook(platform: TimerPlatform, queue: Optional[TimerQueue] = None) -> Hook:
    """A ``Worker.periodic`` hook: place the rules' schedules when the rules changed (and hourly),
    then fire the queue's due timers (every registered kind) with the worker's clock and id.

    Also prunes finished rows and idempotency keys (the API's, batches', inbound hooks')
    older than the pack's run retention (``keep runs``), at most once an hour per process.
    """
    queue = rule_queue(platform, None, queue)
    last = [-PRUNE_EVERY]
    seen: list[Any] = [None]  # the rule set the schedules were last placed for

    def before(worker: Worker) -> None:
        handler = queue.handlers[KIND]
        assert isinstance(handler, RuleTimers)
        handler.clock = worker.clock
        ruleset = platform.definitions().rules
        hourly = time.monotonic() - last[0] >= PRUNE_EVERY
        if hourly or ruleset is not seen[0]:
            place_rule_timers(platform, worker.clock.now())
        seen[0] = ruleset
        if hourly:
            last[0] = time.monotonic()
            cutoff = worker.clock.now() - ruleset.retention
            prune(platform.db, cutoff)
            with platform.db.begin() as conn:
                purge_keys(conn, cutoff)

    return queue.hook(before)


__all__ = ["RuleTimers", "TimerPlatform", "fire_due", "place_rule_timers", "prune_timers", "rule_queue", "timer_hook"]
