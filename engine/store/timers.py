"""Timers: rows with a due time, fired by the worker through a handler registered for their kind.

A timer is ``(kind, key)`` due at a time, with a JSON ``payload``: ``kind`` names the
:class:`TimerHandler` that knows what firing it means (``rule``: a scheduled or date-relative
rule, ``engine/rules/timers_fire.py``; later a flow's SLA or escalation), ``key`` what it is
for within the kind (a rule and a record, a task). The store only keeps and hands them out:

* :func:`schedule` makes ``due`` the one pending time of ``(kind, key)`` (placing,
  rescheduling), :func:`cancel` removes it, :func:`add` adds one more slot; all three run in
  the caller's transaction, so a timer commits or rolls back with the change that placed it;
* :meth:`TimerQueue.fire_due` (the worker's hook, :meth:`TimerQueue.hook`) claims due rows of
  the registered kinds with a lease (``locked_by``, ``locked_until``; ``FOR UPDATE SKIP
  LOCKED`` on PostgreSQL, so workers on many machines share them), then fires each in a
  transaction of its own: ``handler.fire(conn, timer, now)`` and the row marked fired commit
  together. A failure rolls the handler's work back, marks the row failed and calls
  ``handler.failed`` in a new transaction;
* delivery is **at least once**: a worker that dies after claiming leaves a lease that runs
  out, and the row is claimed again. Handlers must be idempotent (re-check what the timer
  is about, as the rule handler re-reads the record's date).

The ``(status, due_at)`` index makes the scan cost what is due, not what exists; the unique
``(kind, key, due_at)`` makes placing the same slot twice harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import Clock
from engine.forms.coltypes import UTCDateTime
from engine.store.db import Database
from engine.store.dialect import for_update_skip_locked, insert_ignore
from engine.store.system import SYSTEM
from engine.store.worker import Hook, Worker

log = logging.getLogger("lowcode.timers")

PENDING, FIRED, FAILED, DROPPED = "pending", "fired", "failed", "dropped"
#: a row kept as the note that something was done once (never claimed, never pruned)
KEPT = "kept"
NOTED_AT = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)

timers = sa.Table(
    "lc_timer",
    SYSTEM,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),  # the handler: "rule", "flow.sla", ...
    sa.Column("key", sa.String(400), nullable=False),  # what it is for, within the kind
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("payload", sa.JSON),
    sa.Column("status", sa.String(16), nullable=False),  # pending | fired | failed | dropped | kept
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", UTCDateTime),  # the lease of the worker that claimed it
    sa.Column("locked_by", sa.String(64)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("fired_at", UTCDateTime),
    sa.Column("fired_by", sa.String(64)),
    sa.Column("outcome", sa.String(200)),  # the handler's summary: "fired", "3 fired"
    sa.Column("error", sa.Text),
    sa.Index("ix_lc_timer_due", "status", "due_at"),
    sa.UniqueConstraint("kind", "key", "due_at", name="uq_lc_timer_slot"),
)


@dataclass(frozen=True)
class Timer:
    """One claimed timer, as its handler sees it."""

    id: int
    kind: str
    key: str
    due_at: dt.datetime
    payload: Any
    attempts: int  # this claim included
    created_at: dt.datetime

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> "Timer":
        return cls(
            int(row["id"]),
            row["kind"],
            row["key"],
            row["due_at"],
            row["payload"],
            int(row["attempts"]),
            row["created_at"],
        )


class TimerHandler(Protocol):
    """What firing the timers of one kind means."""

    def fire(self, conn: Connection, timer: Timer, now: dt.datetime) -> str:
        """Do it inside the open transaction and say what was done (``DROPPED``: nothing was
        due any more). Raise to fail: the work rolls back. May run twice for one timer."""

    def failed(self, conn: Connection, timer: Timer, now: dt.datetime, error: str) -> None:
        """After a failed fire was rolled back and the row marked failed (e.g. place the next slot)."""


# ---- placing timers (in the caller's transaction) ------------------------------------
def add(
    conn: Connection,
    kind: str,
    key: str,
    due: dt.datetime,
    *,
    now: dt.datetime,
    payload: Any = None,
    status: str = PENDING,
) -> None:
    """One more pending slot of ``(kind, key)`` at ``due`` (the same slot twice is kept once)."""
    conn.execute(
        insert_ignore(timers, conn).values(
            kind=kind, key=key, due_at=due, payload=payload, status=status, attempts=0, created_at=now
        )
    )


def schedule(
    conn: Connection, kind: str, key: str, due: Optional[dt.datetime], *, now: dt.datetime, payload: Any = None
) -> None:
    """Make ``due`` the one pending time of ``(kind, key)`` (``None``: no timer).

    Rows a worker is firing right now are locked; on PostgreSQL they are skipped rather than
    waited for (no deadlock with the worker's own writes), which is why handlers re-check.
    """
    t = timers.c
    stale = sa.select(t.id).where(t.kind == kind, t.key == key, t.status == PENDING)
    if due is not None:
        stale = stale.where(t.due_at != due)
    ids = list(conn.execute(for_update_skip_locked(stale, conn)).scalars())
    if ids:
        conn.execute(sa.delete(timers).where(t.id.in_(ids), t.status == PENDING))
    if due is not None:
        add(conn, kind, key, due, now=now, payload=payload)


def cancel(conn: Connection, kind: str, key: str, *, now: dt.datetime) -> None:
    """Remove the pending timer of ``(kind, key)``, if any."""
    schedule(conn, kind, key, None, now=now)


def note(conn: Connection, kind: str, key: str, payload: Any, *, now: dt.datetime) -> bool:
    """Remember once that ``(kind, key)`` was done with ``payload``; False when it already was."""
    t = timers.c
    rows = conn.execute(sa.select(t.payload).where(t.kind == kind, t.key == key, t.status == KEPT)).scalars()
    if any(p == payload for p in rows):
        return False
    conn.execute(sa.delete(timers).where(t.kind == kind, t.key == key, t.status == KEPT))
    add(conn, kind, key, NOTED_AT, now=now, payload=payload, status=KEPT)
    return True


def pending(conn: Connection, kind: Optional[str] = None, key: Optional[str] = None) -> list[dict[str, Any]]:
    """Pending rows (tests, admin screens, ``run.py``), soonest first."""
    t = timers.c
    q = sa.select(timers).where(t.status == PENDING).order_by(t.due_at, t.id)
    if kind is not None:
        q = q.where(t.kind == kind)
    if key is not None:
        q = q.where(t.key == key)
    return [dict(r) for r in conn.execute(q).mappings()]


def prune(db: Database, before: dt.datetime) -> int:
    """Delete fired, failed and dropped rows due before ``before``; returns how many."""
    t = timers.c
    with db.begin() as conn:
        return int(
            conn.execute(sa.delete(timers).where(t.status.in_((FIRED, FAILED, DROPPED)), t.due_at < before)).rowcount
        )


# ---- firing them (the worker) ---------------------------------------------------------
class TimerQueue:
    """The handlers by kind, and the firing of due rows of those kinds."""

    def __init__(self, db: Database, lease_seconds: float = 300) -> None:
        self.db = db
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.handlers: dict[str, TimerHandler] = {}

    def register(self, kind: str, handler: TimerHandler) -> None:
        """Fire the timers of ``kind`` with ``handler`` (one handler per kind)."""
        if kind in self.handlers and self.handlers[kind] is not handler:
            raise ValueError(f"a timer handler for kind {kind!r} is registered already")
        self.handlers[kind] = handler

    def claim(self, now: dt.datetime, worker_id: str, limit: int) -> list[Timer]:
        """Lease up to ``limit`` due rows of the registered kinds to ``worker_id``."""
        if not self.handlers:
            return []
        t = timers.c
        with self.db.begin() as conn:
            due = (
                sa.select(t.id)
                .where(
                    t.status == PENDING,
                    t.due_at <= now,
                    t.kind.in_(sorted(self.handlers)),
                    sa.or_(t.locked_until.is_(None), t.locked_until <= now),
                )
                .order_by(t.due_at, t.id)
                .limit(limit)
            )
            ids = list(conn.execute(for_update_skip_locked(due, conn)).scalars())
            if not ids:
                return []
            conn.execute(
                sa.update(timers)
                .where(t.id.in_(ids))
                .values(locked_until=now + self.lease, locked_by=worker_id[:64], attempts=t.attempts + 1)
            )
            rows = conn.execute(sa.select(timers).where(t.id.in_(ids)).order_by(t.due_at, t.id)).mappings()
            return [Timer.from_mapping(r) for r in rows]

    def fire(self, timer: Timer, clock: Clock, worker_id: str) -> Optional[str]:
        """Fire one claimed timer; its outcome, or None when it was no longer ours."""
        handler = self.handlers[timer.kind]
        now = clock.now()
        t = timers.c
        mine = sa.select(t.id).where(t.id == timer.id, t.status == PENDING, t.locked_by == worker_id[:64])
        try:
            with self.db.begin() as conn:
                if conn.execute(mine.with_for_update()).first() is None:
                    return None  # cancelled, or re-claimed after our lease ran out
                outcome = handler.fire(conn, timer, now)
                _finish(conn, timer.id, DROPPED if outcome == DROPPED else FIRED, now, worker_id, outcome)
                return outcome
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            log.warning("timer %s (%s %s) failed: %s", timer.id, timer.kind, timer.key, error)
            with self.db.begin() as conn:
                _finish(conn, timer.id, FAILED, now, worker_id, "failed", error)
                handler.failed(conn, timer, now, error)
            return FAILED

    def fire_due(self, clock: Clock, worker_id: str = "", limit: int = 100) -> int:
        """Claim and fire due rows until none is left or ``limit`` were handled; returns how many."""
        done = 0
        while done < limit:
            claimed = self.claim(clock.now(), worker_id, min(limit - done, 50))
            if not claimed:
                break
            for timer in claimed:
                self.fire(timer, clock, worker_id)
            done += len(claimed)
        return done

    def hook(self, before: Optional[Hook] = None) -> Hook:
        """A ``Worker.periodic`` hook firing due timers with the worker's clock and id
        (``before(worker)`` first, e.g. to place the rules' schedules)."""

        def run(worker: Worker) -> None:
            if before is not None:
                before(worker)
            self.fire_due(worker.clock, worker.worker_id)

        return run


def _finish(
    conn: Connection,
    timer_id: int,
    status: str,
    now: dt.datetime,
    worker_id: str,
    outcome: Optional[str],
    error: Optional[str] = None,
) -> None:
    conn.execute(
        sa.update(timers)
        .where(timers.c.id == timer_id, timers.c.status == PENDING)
        .values(
            status=status,
            fired_at=now,
            fired_by=worker_id[:64] or None,
            locked_until=None,
            outcome=(outcome or "")[:200] or None,
            error=error,
        )
    )


__all__ = [
    "DROPPED",
    "FAILED",
    "FIRED",
    "KEPT",
    "PENDING",
    "Timer",
    "TimerHandler",
    "TimerQueue",
    "add",
    "cancel",
    "note",
    "pending",
    "prune",
    "schedule",
    "timers",
]
