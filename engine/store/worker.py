"""The worker: claims due outbox rows, sends them outside any transaction, records results.

One round (:meth:`Worker.run_once`):

1. run the ``periodic`` hooks (timer scans and the like);
2. claim up to ``batch`` due rows in one short transaction: pending, due, not leased by a
   live worker, of a kind this worker has a sender for. On PostgreSQL the select uses
   ``FOR UPDATE SKIP LOCKED``, so any number of workers share the queue and never claim the
   same row; on SQLite ``BEGIN IMMEDIATE`` serialises the claim. Claiming sets a lease
   (``locked_until``, ``locked_by``) and counts the attempt;
3. call each row's sender with no transaction open;
4. mark the row sent, or after an exception schedule a retry ``backoff_base ** attempts``
   seconds later (capped by ``max_backoff``), or mark it dead after ``max_attempts``.

A worker that dies after claiming leaves leased rows behind; they are claimed again once
the lease expires, so a row can be sent twice and senders must be safe to repeat.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from typing import Callable, Mapping

import sqlalchemy as sa

from engine.context import Clock
from engine.store.db import Database
from engine.store.dialect import for_update_skip_locked
from engine.store.outbox import DEAD, PENDING, SENT, OutboxRow, PermanentFailure, outbox

log = logging.getLogger("lowcode.worker")

Sender = Callable[[dict, OutboxRow], None]
Hook = Callable[["Worker"], None]

MAX_ERROR_CHARS = 2000


def default_worker_id() -> str:
    """``host:pid:random``, unique enough to tell workers apart in ``locked_by``."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Sends outbox rows through ``senders`` (kind -> callable) with retries and leases."""

    def __init__(
        self,
        db: Database,
        senders: Mapping[str, Sender],
        clock: Clock | None = None,
        worker_id: str | None = None,
        batch: int = 50,
        lease_seconds: float = 60,
        max_attempts: int = 8,
        backoff_base: float = 2.0,
        max_backoff: float = 3600.0,
    ) -> None:
        self.db = db
        self.senders = dict(senders)
        self.clock = clock or Clock()
        self.worker_id = worker_id or default_worker_id()
        self.batch = batch
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.periodic: list[Hook] = []

    def run_once(self) -> int:
        """One round: hooks, then claim, send and record; returns the number of rows claimed."""
        for hook in list(self.periodic):
            try:
                hook(self)
            except Exception:
                log.exception("periodic hook %r failed", hook)
        rows = self.claim()
        for row in rows:
            self._deliver(row)
        return len(rows)

    def run_forever(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Run rounds until ``stop`` is set; wait ``poll_seconds`` when a round finds little."""
        log.info("worker %s started (kinds: %s)", self.worker_id, ", ".join(sorted(self.senders)))
        while not stop.is_set():
            try:
                claimed = self.run_once()
            except Exception:  # the database may be away for a while: keep trying
                log.exception("worker round failed")
                claimed = 0
            if claimed < self.batch:
                stop.wait(poll_seconds)
        log.info("worker %s stopped", self.worker_id)

    def claim(self) -> list[OutboxRow]:
        """Lease up to ``batch`` due rows to this worker in one short transaction."""
        if not self.senders:
            return []
        now = self.clock.now()
        c = outbox.c
        with self.db.begin() as conn:
            due = (
                sa.select(c.id)
                .where(
                    c.status == PENDING,
                    c.next_attempt_at <= now,
                    sa.or_(c.locked_until.is_(None), c.locked_until <= now),
                    c.kind.in_(sorted(self.senders)),
                )
                .order_by(c.next_attempt_at, c.id)
                .limit(self.batch)
            )
            ids = list(conn.execute(for_update_skip_locked(due, conn)).scalars())
            if not ids:
                return []
            conn.execute(
                sa.update(outbox)
                .where(c.id.in_(ids))
                .values(locked_until=now + self.lease, locked_by=self.worker_id, attempts=c.attempts + 1)
            )
            got = conn.execute(sa.select(outbox).where(c.id.in_(ids)).order_by(c.next_attempt_at, c.id)).mappings()
            return [OutboxRow.from_mapping(r) for r in got]

    def _deliver(self, row: OutboxRow) -> None:
        if row.attempts > self.max_attempts:
            # Leased max_attempts times without an outcome: its sends keep killing workers.
            self._failed(row, "lease expired on every attempt (worker crashed?)", permanent=True)
            return
        try:
            self.senders[row.kind](row.payload, row)
        except PermanentFailure as exc:
            log.warning("outbox %s (%s) failed permanently: %s", row.id, row.kind, exc)
            self._failed(row, _describe(exc), permanent=True)
        except Exception as exc:
            log.warning("outbox %s (%s) attempt %s failed: %s", row.id, row.kind, row.attempts, exc)
            self._failed(row, _describe(exc), permanent=False)
        else:
            self._sent(row)

    def _sent(self, row: OutboxRow) -> None:
        # Recorded even if our lease ran out meanwhile: the effect did happen.
        with self.db.begin() as conn:
            conn.execute(
                sa.update(outbox)
                .where(outbox.c.id == row.id, outbox.c.status == PENDING)
                .values(status=SENT, sent_at=self.clock.now(), locked_until=None, locked_by=None, last_error=None)
            )

    def _failed(self, row: OutboxRow, error: str, *, permanent: bool) -> None:
        now = self.clock.now()
        dead = permanent or row.attempts >= self.max_attempts
        values: dict[str, object] = dict(locked_until=None, locked_by=None, last_error=error)
        if dead:
            values["status"] = DEAD
            log.error("outbox %s (%s) is dead after %s attempts: %s", row.id, row.kind, row.attempts, error)
        else:
            values["next_attempt_at"] = now + dt.timedelta(seconds=self.backoff(row.attempts))
        with self.db.begin() as conn:
            # Only while we still hold the lease: otherwise another worker owns the row now.
            conn.execute(
                sa.update(outbox)
                .where(outbox.c.id == row.id, outbox.c.status == PENDING, outbox.c.locked_by == self.worker_id)
                .values(**values)
            )

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt."""
        try:
            delay = self.backoff_base**attempts
        except OverflowError:
            return self.max_backoff
        return min(float(delay), self.max_backoff)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
