"""bench_flows (d): the timer scan of 100 due rows among few or many pending ones.

A waiting task with a due time has one pending ``lc_timer`` row (kind ``flow.due``, key
``<task id>:due``, as engine/flows/steps.py places it; engine/store/timers.py). The worker's ``TimerQueue.fire_due`` claims the due
ones through the ``(status, due_at)`` index and fires each in its own transaction. Here two
SQLite files (the platform's ``Database``, WAL) hold ``small`` and ``large`` pending rows of
which 100 are due; the handler only counts (what a flow's handler does is the runtime's cost,
the same in both). Each repeat puts the 100 fired rows back to pending.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import FixedClock
from engine.store.db import Database
from engine.store.timers import PENDING, Timer, TimerQueue, timers

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)
KIND = "flow.due"


class Counting:
    """A timer handler that only counts what it fired."""

    def __init__(self) -> None:
        self.fired = 0

    def fire(self, conn: Connection, timer: Timer, now: dt.datetime) -> str:
        self.fired += 1
        return "fired"

    def failed(self, conn: Connection, timer: Timer, now: dt.datetime, error: str) -> None:
        raise AssertionError(error)


def fill(db: Database, pending: int, due: int) -> None:
    """``pending`` pending rows, ``due`` of them due at T0 or before, the rest over the next weeks."""
    timers.create(db.engine)
    rows: list[dict[str, Any]] = []
    for i in range(pending):
        at = T0 - dt.timedelta(seconds=i + 1) if i < due else T0 + dt.timedelta(seconds=60 * (i + 1))
        rows.append(
            {
                "kind": KIND,
                "key": f"{i + 1}:due",
                "due_at": at,
                "payload": {"task": i + 1},
                "status": PENDING,
                "attempts": 0,
                "created_at": T0 - dt.timedelta(days=2),
            }
        )
        if len(rows) == 10_000:
            with db.begin() as conn:
                conn.execute(timers.insert(), rows)
            rows = []
    if rows:
        with db.begin() as conn:
            conn.execute(timers.insert(), rows)


def due_ids(db: Database) -> list[int]:
    """The ids of the due rows (read once: a reset by id leaves SQLite's page cache alone,
    where a scan of the whole table before each measurement would evict the index pages)."""
    t = timers.c
    with db.connect() as conn:
        return list(conn.execute(sa.select(t.id).where(t.due_at <= T0)).scalars())


def reset(db: Database, ids: list[int]) -> None:
    t = timers.c
    with db.begin() as conn:
        conn.execute(
            sa.update(timers)
            .where(t.id.in_(ids))
            .values(status=PENDING, locked_until=None, locked_by=None, fired_at=None, fired_by=None, outcome=None)
        )


def plan(db: Database) -> str:
    """SQLite's plan for the claim query (it should search the (status, due_at) index)."""
    t = timers.c
    q = (
        sa.select(t.id)
        .where(
            t.status == PENDING,
            t.due_at <= T0,
            t.kind.in_([KIND]),
            sa.or_(t.locked_until.is_(None), t.locked_until <= T0),
        )
        .order_by(t.due_at, t.id)
        .limit(50)
    )
    sql = str(q.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.connect() as conn:
        return "; ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


def scan(small: int, large: int, due: int = 100, repeat: int = 5) -> dict[str, Any]:
    """Best seconds of fire_due and of the claim alone, per table size (the two sizes measured
    in turn within each repeat, so that both see the same machine load); their ratios."""
    fire = {small: float("inf"), large: float("inf")}
    claim = dict(fire)
    fired: dict[int, int] = {}
    query_plan = ""
    with tempfile.TemporaryDirectory() as work:
        setups = []
        try:
            for size in (small, large):
                db = Database("sqlite:///" + str(Path(work) / f"timers-{size}.db"))
                setups.append((size, db))
                fill(db, size, due)
            queues = []
            for size, db in setups:
                handler = Counting()
                queue = TimerQueue(db)
                queue.register(KIND, handler)
                queues.append((size, db, queue, handler, due_ids(db)))
            clock = FixedClock(T0)
            for _ in range(repeat):
                for size, db, queue, handler, ids in queues:
                    t0 = time.perf_counter()
                    queue.claim(T0, "bench", due)
                    claim[size] = min(claim[size], time.perf_counter() - t0)
                    reset(db, ids)
                    handler.fired = 0
                    t0 = time.perf_counter()
                    done = queue.fire_due(clock, "bench", limit=due)
                    fire[size] = min(fire[size], time.perf_counter() - t0)
                    fired[size] = min(done, handler.fired)
                    reset(db, ids)
            query_plan = plan(setups[-1][1])
        finally:
            for _, db in setups:
                db.dispose()
    return {
        "small": small,
        "large": large,
        "fire": fire,
        "claim": claim,
        "fire_ratio": fire[large] / fire[small],
        "claim_ratio": claim[large] / claim[small],
        "fired": fired,
        "agree": fired[small] == fired[large] == due,
        "plan": query_plan,
    }
