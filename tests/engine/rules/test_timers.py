"""Timers: schedules and date-relative rules as rows indexed by due time, fired by the worker."""

from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy as sa

import run as cli
from apps.cli import common
from engine.context import FixedClock
from engine.platform import Platform
from engine.rules.log import flags_of
from engine.rules.timers import FIRED, PENDING, pending, slot_after, timers
from engine.rules.timers_fire import fire_due, prune_timers, timer_hook
from engine.store.db import Database
from engine.store.worker import Worker
from tests.engine.rules.conftest import PACK

UTC = dt.timezone.utc
DAILY = 'on material\nrule "daily" when every day at 08:00 then notify role buyer "daily check"\n'
REMIND = 'on node\nrule "remind" when 2h before due then set hits = hits + 1\n'


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def _rows(platform: Platform, rule: str) -> list[dict]:
    with platform.db.connect() as conn:
        q = sa.select(timers).where(timers.c.kind == "rule").order_by(timers.c.id)
        return [dict(r) for r in conn.execute(q).mappings() if r["payload"].get("rule") == rule]


def _pending(platform: Platform, rule: str, record_id: int | None = None) -> list[dt.datetime]:
    with platform.db.connect() as conn:
        return [r["due_at"] for r in pending(conn, rule, record_id)]


# ---- schedules ------------------------------------------------------------------------


def test_schedule_fires_at_its_slot_in_the_pack_time_zone(platform, publish, clock, runs):
    publish(DAILY)
    assert fire_due(platform) == 0  # 16:00 in Shanghai: next slot 08:00 tomorrow
    assert _pending(platform, "material:daily") == [_at(2026, 11, 3, 0, 0)]
    clock.set(_at(2026, 11, 2, 23, 59, 59))
    assert fire_due(platform) == 0 and runs("daily") == []
    clock.set(_at(2026, 11, 3, 0, 0))
    assert fire_due(platform) == 1
    (run,) = runs("daily")
    assert (run["outcome"], run["event"], run["source"], run["record_id"]) == ("fired", "timer", "timer", None)
    assert run["trigger"] == "every day at 08:00"
    assert _pending(platform, "material:daily") == [_at(2026, 11, 4, 0, 0)]
    assert [r["status"] for r in _rows(platform, "material:daily")] == [FIRED, PENDING]


def test_a_missed_schedule_fires_once_when_the_worker_comes_back(platform, publish, clock, runs):
    publish(DAILY)
    fire_due(platform)
    clock.set(_at(2026, 11, 5, 3, 0))  # down for three slots
    assert fire_due(platform) == 1
    assert fire_due(platform) == 0
    assert [r["outcome"] for r in runs("daily")] == ["fired"]
    assert _pending(platform, "material:daily") == [_at(2026, 11, 6, 0, 0)]  # the next slot after now


def test_interval_schedules_use_aligned_slots():
    from engine.rules.spec import TimerTrigger

    every30 = TimerTrigger("schedule", interval=dt.timedelta(minutes=30))
    assert slot_after(every30, _at(2026, 11, 2, 8, 7, 13)) == _at(2026, 11, 2, 8, 30)
    assert slot_after(every30, _at(2026, 11, 2, 8, 30)) == _at(2026, 11, 2, 9, 0)


def test_schedule_with_a_condition_runs_on_each_matching_record(platform, publish, records, ctx, clock, runs):
    publish('on material\nrule "low" when every 1h if stock < safety_stock then flag red "low {name}"\n')
    low = records.create(ctx, "material", {"name": "钢板", "stock": 1, "safety_stock": 5})
    records.create(ctx, "material", {"name": "螺丝", "stock": 50, "safety_stock": 5})
    fire_due(platform)
    clock.advance(hours=1)
    assert fire_due(platform) == 1
    assert [(r["record_id"], r["outcome"]) for r in runs("low")] == [(low["id"], "fired")]
    with platform.db.connect() as conn:
        assert [f["tag"] for f in flags_of(conn, "material", low["id"])] == ["low 钢板"]
        (row,) = [r for r in _rows(platform, "material:low") if r["status"] == FIRED]
        assert row["outcome"] == "1 fired"


def test_a_republished_schedule_moves_its_pending_row(platform, publish, clock):
    publish(DAILY)
    fire_due(platform)
    publish(DAILY.replace("08:00", "09:30"))
    fire_due(platform)
    assert _pending(platform, "material:daily") == [_at(2026, 11, 3, 1, 30)]


def test_a_failing_schedule_is_marked_failed_and_rescheduled(platform, publish, clock, runs):
    publish('on material\nrule "bad" when every day at 08:00 then create purchase_request {material: 999, qty: 1}\n')
    fire_due(platform)
    clock.set(_at(2026, 11, 3, 0, 0, 5))
    assert fire_due(platform) == 1
    rows = _rows(platform, "material:bad")
    assert [r["status"] for r in rows] == ["failed", PENDING]
    assert rows[0]["error"] and rows[1]["due_at"] == _at(2026, 11, 4, 0, 0)
    assert [r["outcome"] for r in runs("bad")] == ["failed"]


# ---- date-relative ----------------------------------------------------------------


def test_date_relative_rows_follow_the_record(platform, publish, records, ctx):
    publish(REMIND)
    n = records.create(ctx, "node", {"n": 1, "due": "2026-11-05T10:00:00Z"})
    assert _pending(platform, "node:remind", n["id"]) == [_at(2026, 11, 5, 8, 0)]
    records.update(ctx, "node", n["id"], {"n": 2}, version=None)  # date untouched
    assert _pending(platform, "node:remind", n["id"]) == [_at(2026, 11, 5, 8, 0)]
    records.update(ctx, "node", n["id"], {"due": "2026-11-06T10:00:00Z"}, version=None)
    assert _pending(platform, "node:remind", n["id"]) == [_at(2026, 11, 6, 8, 0)]
    records.update(ctx, "node", n["id"], {"due": None}, version=None)
    assert _pending(platform, "node:remind", n["id"]) == []
    records.update(ctx, "node", n["id"], {"due": "2026-11-07T10:00:00Z"}, version=None)
    records.delete(ctx, "node", n["id"], version=None)
    assert _pending(platform, "node:remind") == []


def test_date_relative_fires_at_due_with_the_record(platform, publish, records, ctx, clock, runs):
    publish(REMIND)
    n = records.create(ctx, "node", {"n": 1, "due": "2026-11-05T10:00:00Z"})
    other = records.create(ctx, "node", {"n": 2, "due": "2026-11-09T10:00:00Z"})
    clock.set(_at(2026, 11, 5, 7, 59))
    assert fire_due(platform) == 0
    clock.set(_at(2026, 11, 5, 8, 0))
    assert fire_due(platform) == 1
    assert records.get(ctx, "node", n["id"])["hits"] == 1
    assert records.get(ctx, "node", other["id"])["hits"] == 0
    (run,) = runs("remind")
    assert (run["record_id"], run["event"], run["trigger"]) == (n["id"], "timer", "2h before due")
    assert fire_due(platform) == 0


def test_a_due_time_already_past_fires_on_the_next_run(platform, publish, records, ctx, clock):
    publish(REMIND)
    n = records.create(ctx, "node", {"n": 1, "due": "2026-11-02T09:00:00Z"})  # due 07:00, now 08:00
    assert fire_due(platform) == 1
    assert records.get(ctx, "node", n["id"])["hits"] == 1


def test_publishing_a_relative_rule_schedules_existing_records(platform, publish, records, ctx):
    n = records.create(ctx, "node", {"n": 1, "due": "2026-11-05T10:00:00Z"})
    old = records.create(ctx, "node", {"n": 2, "due": "2026-10-01T10:00:00Z"})
    publish(REMIND)
    fire_due(platform)
    assert _pending(platform, "node:remind", n["id"]) == [_at(2026, 11, 5, 8, 0)]
    assert _pending(platform, "node:remind", old["id"]) == []  # long past: not fired on publish
    assert records.get(ctx, "node", old["id"])["hits"] == 0


def test_finished_rows_are_pruned(platform, publish, clock):
    publish(DAILY)
    fire_due(platform)
    clock.set(_at(2026, 11, 3, 0, 0))
    fire_due(platform)
    assert prune_timers(platform.db, _at(2026, 11, 3, 0, 1)) == 1
    assert [r["status"] for r in _rows(platform, "material:daily")] == [PENDING]


# ---- workers --------------------------------------------------------------------


def test_two_workers_fire_each_row_once(db_url, publish, records, ctx, clock, runs):
    """PostgreSQL: FOR UPDATE SKIP LOCKED shares the rows; SQLite: BEGIN IMMEDIATE serialises."""
    publish(DAILY + REMIND)
    nodes = [records.create(ctx, "node", {"n": i, "due": "2026-11-03T02:00:00Z"}) for i in range(20)]
    platforms = [Platform(Database(db_url), clock, reload_seconds=0) for _ in range(2)]
    workers = []
    for i, p in enumerate(platforms):
        w = Worker(p.db, {}, clock=clock, worker_id=f"w{i}")
        w.periodic.append(timer_hook(p))
        workers.append(w)
    workers[0].run_once()  # places the schedule row
    clock.set(_at(2026, 11, 3, 1, 0))
    start = threading.Barrier(2)

    def go(w: Worker) -> None:
        start.wait()
        w.run_once()

    threads = [threading.Thread(target=go, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in platforms:
        p.db.dispose()
    assert [r["outcome"] for r in runs("daily")] == ["fired"]
    assert len(runs("remind")) == 20
    assert all(records.get(ctx, "node", n["id"])["hits"] == 1 for n in nodes)
    fired = [r for r in _rows(platforms[0], "node:remind") if r["status"] == FIRED]
    assert len(fired) == 20 and {r["fired_by"] for r in fired} <= {"w0", "w1"}


def test_run_py_worker_once_fires_due_timers(platform, publish, records, ctx, clock, monkeypatch, capsys):
    publish(REMIND)
    n = records.create(ctx, "node", {"n": 1, "due": "2026-11-03T10:00:00Z"})
    clock.set(_at(2026, 11, 3, 8, 0))
    monkeypatch.setattr(common, "platform", lambda: platform)
    assert cli.main(["worker", "--once"]) == 0
    assert records.get(ctx, "node", n["id"])["hits"] == 1
    assert _pending(platform, "node:remind") == []


def test_fixed_clock_everywhere(db_url):
    """A platform built on a fixed clock never reads the wall clock for timers."""
    clock = FixedClock(_at(2030, 1, 1, 0, 0))
    p = Platform(Database(db_url), clock, reload_seconds=0)
    try:
        p.publish(
            PACK,
            {
                **__import__("engine.definitions.loader", fromlist=["x"]).read_pack_files(PACK),
                "rules/stock.rules": DAILY,
            },
        )
        fire_due(p)
        assert _pending(p, "material:daily") == [_at(2030, 1, 2, 0, 0)]
    finally:
        p.db.dispose()


def test_docs_schedule_without_a_condition_runs_once_on_no_record(platform, publish, records, ctx, clock, runs):
    publish(
        'on material\nrule "release stale reservations"\n  when every 30m\n'
        "  then update material where reserved > on_hand set reserved = on_hand\n"
    )
    a = records.create(ctx, "material", {"name": "a", "on_hand": 2, "reserved": 5})
    b = records.create(ctx, "material", {"name": "b", "on_hand": 9, "reserved": 1})
    fire_due(platform)
    assert _pending(platform, "material:release stale reservations") == [_at(2026, 11, 2, 8, 30)]
    clock.set(_at(2026, 11, 2, 8, 30))
    assert fire_due(platform) == 1
    assert records.get(ctx, "material", a["id"])["reserved"] == 2
    assert records.get(ctx, "material", b["id"])["reserved"] == 1
    assert [(r["record_id"], r["outcome"]) for r in runs("release stale reservations")] == [(None, "fired")]


def test_a_slot_placed_by_a_worker_with_older_rules_is_replaced(platform, publish, clock, runs):
    publish(DAILY)
    fire_due(platform)
    with platform.db.begin() as conn:
        for row in conn.execute(sa.select(timers.c.id, timers.c.payload)).all():
            conn.execute(
                sa.update(timers)
                .where(timers.c.id == row.id)
                .values(payload={**row.payload, "trigger": "every day at 07:00"})
            )
    clock.set(_at(2026, 11, 3, 0, 0))
    assert fire_due(platform, prepare=False) == 1
    assert runs("daily") == []
    assert [r["status"] for r in _rows(platform, "material:daily")] == ["dropped", PENDING]
    assert _pending(platform, "material:daily") == [_at(2026, 11, 4, 0, 0)]


def test_the_hook_places_schedules_when_the_rules_change(platform, publish, clock):
    hook = timer_hook(platform)
    worker = Worker(platform.db, {}, clock=clock)
    hook(worker)
    assert _pending(platform, "material:daily") == []
    publish(DAILY)
    hook(worker)
    assert _pending(platform, "material:daily") == [_at(2026, 11, 3, 0, 0)]
