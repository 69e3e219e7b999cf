"""Firing due timer rows: the worker hook behind ``run.py worker``.

Each due row is handled in one transaction of its own:

1. claim the oldest due pending row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two
   workers never take the same row; SQLite's ``BEGIN IMMEDIATE`` serialises);
2. fire its rule through :meth:`engine.rules.engine.RuleEngine.fire` (same actions, log and
   loop guard as record triggers);
3. mark the row fired and, for a schedule, place the next slot **after now**: a worker that
   was down for three days fires a missed daily schedule once, not three times;
4. commit. An action that fails rolls all of it back; the row is then marked ``failed``
   (with the error; the run log has the details) and a schedule's next slot is placed.

What a fire means:

* date-relative rule: the rule runs on the record, loaded fresh. If the record's date
  moved meanwhile (or the record is gone) the row is dropped and a row for the new due
  time is placed instead;
* schedule rule **with a condition**: the condition is pushed to SQL and the rule runs on
  each record of its form for which it holds (``every day at 08:00 if stock <
  safety_stock then notify ...``);
* schedule rule **without a condition**: the rule runs once, on an empty record (no
  ``id``): useful for set-based actions (``update ... where``), ``create`` and ``notify role``.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.rules.spec import RuleSpec
from engine.rules.timers import (DROPPED, FAILED, FIRED, NO_RECORD, PENDING, _insert, backfill,
                                 ensure_schedules, path_value, relative_due, slot_after, timers)
from engine.store.idempotency import purge as purge_keys
from engine.store.dialect import for_update_skip_locked

log = logging.getLogger("lowcode.timers")

PRUNE_EVERY = 3600.0     # seconds between prunes of old fired rows, per process


def fire_due(platform: Any, clock: Any = None, worker_id: str = "", limit: int = 100, *,
             prepare: bool = True) -> int:
    """Fire up to ``limit`` due rows; returns rows handled.

    With ``prepare`` (the hook does it when the rules changed, and hourly) first place the
    missing schedule rows and the rows of newly published date-relative rules. Firing keeps
    one pending row per schedule by itself, so a steady round only scans what is due.
    """
    clock = clock or platform.clock
    if prepare:
        ruleset = platform.definitions().rules
        with platform.db.begin() as conn:
            ensure_schedules(conn, ruleset, clock.now())
            backfill(conn, platform.store(), ruleset, clock.now())
    done = 0
    while done < limit and fire_one(platform, clock, worker_id) is not None:
        done += 1
    return done


def fire_one(platform: Any, clock: Any, worker_id: str = "") -> Optional[str]:
    """Claim and fire the oldest due row; its outcome, or ``None`` when nothing is due."""
    now = clock.now()
    ruleset = platform.definitions().rules
    by_key = {r.key: r for r in ruleset.timers}
    claimed: dict[str, Any] = {}
    try:
        with platform.db.begin() as conn:
            t = timers.c
            q = (sa.select(timers).where(t.status == PENDING, t.due_at <= now)
                 .order_by(t.due_at, t.id).limit(1))
            row = conn.execute(for_update_skip_locked(q, conn)).mappings().first()
            if row is None:
                return None
            claimed = dict(row)
            rule = by_key.get(row["rule"])
            if rule is None or rule.trigger.describe()[:200] != row["trigger"]:
                _finish(conn, row["id"], DROPPED, now, worker_id, "the rule or its trigger changed")
                if rule is not None and row["record_id"] == NO_RECORD and rule.trigger.timer.kind == "schedule":
                    _next_slot(conn, rule, now)      # placed by a worker with older rules
                return DROPPED
            ctx = dataclasses.replace(platform.system_context(), clock=clock)
            outcome = _fire(conn, platform, ctx, rule, row, now)
            _finish(conn, row["id"], FIRED if outcome != DROPPED else DROPPED, now, worker_id, outcome)
            if row["record_id"] == NO_RECORD:
                _next_slot(conn, rule, now)
            return outcome
    except Exception as exc:
        if not claimed:
            raise
        log.warning("timer %s (%s) failed: %s", claimed["id"], claimed["rule"], exc)
        with platform.db.begin() as conn:
            _finish(conn, claimed["id"], FAILED, now, worker_id, "failed", f"{type(exc).__name__}: {exc}"[:2000])
            rule = by_key.get(claimed["rule"])
            if rule is not None and claimed["record_id"] == NO_RECORD:
                _next_slot(conn, rule, now)
        return FAILED


def _fire(conn: Connection, platform: Any, ctx: Any, rule: RuleSpec, row: Any, now: dt.datetime) -> str:
    engine = platform.rules
    store = platform.store()
    timer = rule.trigger.timer
    assert timer is not None
    if timer.kind == "relative":
        record = store.get(conn, rule.form, int(row["record_id"]))
        due = relative_due(timer, path_value(conn, store, rule.form, record, timer.path)) if record else None
        if due != row["due_at"]:        # moved or cleared after the row was placed
            if due is not None:
                _insert(conn, rule, int(row["record_id"]), due, now)
            return DROPPED
        return engine.fire(conn, ctx, rule, record, event="timer")
    if rule.condition is None:
        return engine.fire(conn, ctx, rule, {}, event="timer")
    outcomes: dict[str, int] = {}
    for record in _candidates(conn, platform, ctx, rule):
        outcome = engine.fire(conn, ctx, rule, record, event="timer")
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if not outcomes:
        return "no records"
    return ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items()))


def _candidates(conn: Connection, platform: Any, ctx: Any, rule: RuleSpec) -> list[dict[str, Any]]:
    """The records of the rule's form whose condition holds, filtered in SQL when it can be."""
    store = platform.store()
    assert rule.condition is not None
    try:
        where = rule.condition.to_sql(platform.definitions().tables, ctx)
    except Exception:   # changed()/old make no sense here; the condition is checked in Python anyway
        where = None
    records, _ = store.select(conn, rule.form, where=where, limit=None, with_total=False)
    return records


def _finish(conn: Connection, timer_id: int, status: str, now: dt.datetime, worker_id: str,
            outcome: Optional[str], error: Optional[str] = None) -> None:
    conn.execute(sa.update(timers).where(timers.c.id == timer_id, timers.c.status == PENDING).values(
        status=status, fired_at=now, fired_by=worker_id[:64] or None,
        outcome=(outcome or "")[:200] or None, error=error))


def _next_slot(conn: Connection, rule: RuleSpec, now: dt.datetime) -> None:
    assert rule.trigger.timer is not None
    _insert(conn, rule, NO_RECORD, slot_after(rule.trigger.timer, now), now)


def prune_timers(db: Any, before: dt.datetime) -> int:
    """Delete fired, failed and dropped rows due before ``before``; returns how many."""
    t = timers.c
    with db.begin() as conn:
        return int(conn.execute(sa.delete(timers).where(
            t.status.in_((FIRED, FAILED, DROPPED)), t.due_at < before, t.record_id != -1)).rowcount)


def timer_hook(platform: Any) -> Any:
    """A ``Worker.periodic`` hook: fire due timers with the worker's clock and id.

    Also prunes finished rows and idempotency keys (the API's, batches', inbound hooks')
    older than the pack's run retention (``keep runs``), at most once an hour per process.
    """
    last = [-PRUNE_EVERY]
    seen: list[Any] = [None]          # the rule set the schedules were last placed for

    def hook(worker: Any) -> None:
        ruleset = platform.definitions().rules
        hourly = time.monotonic() - last[0] >= PRUNE_EVERY
        fire_due(platform, worker.clock, worker.worker_id, prepare=hourly or ruleset is not seen[0])
        seen[0] = ruleset
        if hourly:
            last[0] = time.monotonic()
            before = worker.clock.now() - platform.definitions().rules.retention
            prune_timers(platform.db, before)
            with platform.db.begin() as conn:
                purge_keys(conn, before)
    return hook


__all__ = ["fire_due", "fire_one", "prune_timers", "timer_hook"]
