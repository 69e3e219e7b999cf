"""The outbox and its worker: after-commit sends, retries, dead letters, leases, sharing."""

from __future__ import annotations

import collections
import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from engine.context import FixedClock
from engine.store import outbox as ob
from engine.store.outbox import OutboxRow, PermanentFailure, enqueue, outbox
from engine.store.worker import Worker

T0 = dt.datetime(2026, 5, 17, 8, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


class Recorder:
    """A sender that records calls and fails the first ``fail`` of them."""

    def __init__(self, fail: int = 0, exc: type[Exception] = RuntimeError) -> None:
        self.calls: list[tuple[dict, OutboxRow]] = []
        self.fail = fail
        self.exc = exc

    def __call__(self, payload: dict, row: OutboxRow) -> None:
        self.calls.append((payload, row))
        if len(self.calls) <= self.fail:
            raise self.exc(f"boom {len(self.calls)}")


def put(db, kind="notify", payload=None, **kw) -> int:
    with db.begin() as conn:
        return enqueue(conn, kind, payload or {"to": "a@example.com"}, now=kw.pop("now", T0), **kw)


def row(db, outbox_id) -> dict:
    with db.begin() as conn:
        return ob.get(conn, outbox_id)


# --- enqueue ----------------------------------------------------------------------------


def test_enqueue_stores_a_pending_row(db):
    oid = put(db, "webhook", {"url": "http://x", "body": {"n": 1}}, channel="crm", key="k1")
    r = row(db, oid)
    assert r["kind"] == "webhook" and r["channel"] == "crm" and r["idempotency_key"] == "k1"
    assert r["payload"] == {"url": "http://x", "body": {"n": 1}}
    assert r["status"] == "pending" and r["attempts"] == 0
    assert r["next_attempt_at"] == T0 and r["created_at"] == T0
    assert r["locked_until"] is None and r["sent_at"] is None


def test_a_rolled_back_transaction_leaves_no_outbox_row(db):
    with pytest.raises(RuntimeError):
        with db.begin() as conn:
            enqueue(conn, "notify", {"to": "x"}, now=T0)
            raise RuntimeError("the order failed validation")
    with db.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 0


def test_a_duplicate_key_keeps_the_first_row(db):
    first = put(db, payload={"n": 1}, key="order-7-confirmed")
    again = put(db, payload={"n": 2}, key="order-7-confirmed")
    other = put(db, payload={"n": 3}, key="order-8-confirmed")
    assert again == first and other != first
    assert row(db, first)["payload"] == {"n": 1}
    # Rows without a key are never merged.
    assert put(db) != put(db)


def test_a_duplicate_key_in_the_same_transaction(db):
    with db.begin() as conn:
        a = enqueue(conn, "notify", {}, key="k", now=T0)
        b = enqueue(conn, "notify", {}, key="k", now=T0)
    assert a == b


# --- sending ----------------------------------------------------------------------------


def test_committed_rows_are_sent_once_and_marked_sent(db, clock):
    sender = Recorder()
    worker = Worker(db, {"notify": sender}, clock=clock, worker_id="w1")
    oid = put(db, payload={"to": "a@example.com"}, key="k1")
    clock.advance(seconds=5)
    assert worker.run_once() == 1
    [(payload, got)] = sender.calls
    assert payload == {"to": "a@example.com"}
    assert (got.id, got.kind, got.key, got.attempts) == (oid, "notify", "k1", 1)
    r = row(db, oid)
    assert r["status"] == "sent" and r["sent_at"] == T0 + dt.timedelta(seconds=5)
    assert r["attempts"] == 1 and r["locked_by"] is None and r["last_error"] is None
    assert worker.run_once() == 0
    assert len(sender.calls) == 1


def test_an_uncommitted_row_is_invisible_to_the_worker(db, clock):
    if not db.is_postgres:
        pytest.skip("SQLite's BEGIN IMMEDIATE makes the worker wait for the commit instead")
    sender = Recorder()
    worker = Worker(db, {"notify": sender}, clock=clock)
    with db.begin() as conn:
        oid = enqueue(conn, "notify", {"to": "x"}, now=T0)
        assert worker.run_once() == 0  # the order's transaction is still open
    assert worker.run_once() == 1
    assert [r.id for _, r in sender.calls] == [oid]


def test_the_key_defaults_to_the_outbox_id(db, clock):
    sender = Recorder()
    oid = put(db)
    Worker(db, {"notify": sender}, clock=clock).run_once()
    assert sender.calls[0][1].key == f"outbox-{oid}"


def test_rows_not_yet_due_wait(db, clock):
    sender = Recorder()
    put(db, now=T0 + dt.timedelta(minutes=1))
    worker = Worker(db, {"notify": sender}, clock=clock)
    assert worker.run_once() == 0
    clock.advance(minutes=1)
    assert worker.run_once() == 1


def test_kinds_without_a_sender_are_left_for_other_workers(db, clock):
    put(db, "webhook")
    notify = put(db, "notify")
    sender = Recorder()
    assert Worker(db, {"notify": sender}, clock=clock).run_once() == 1
    assert [r.id for _, r in sender.calls] == [notify]
    assert Worker(db, {}, clock=clock).run_once() == 0


def test_batches_are_oldest_first(db, clock):
    ids = [put(db, payload={"i": i}, now=T0 - dt.timedelta(seconds=i)) for i in range(5)]
    sender = Recorder()
    worker = Worker(db, {"notify": sender}, clock=clock, batch=2)
    assert worker.run_once() == 2
    assert [r.id for _, r in sender.calls] == [ids[4], ids[3]]
    assert worker.run_once() == 2
    assert worker.run_once() == 1
    assert worker.run_once() == 0


# --- retries ----------------------------------------------------------------------------


def test_failures_retry_with_exponential_backoff(db, clock):
    sender = Recorder(fail=2)
    worker = Worker(db, {"notify": sender}, clock=clock, worker_id="w1", backoff_base=2.0)
    oid = put(db)

    assert worker.run_once() == 1
    r = row(db, oid)
    assert (r["status"], r["attempts"], r["last_error"]) == ("pending", 1, "RuntimeError: boom 1")
    assert r["next_attempt_at"] == T0 + dt.timedelta(seconds=2)
    assert r["locked_until"] is None and r["locked_by"] is None

    clock.advance(seconds=1)
    assert worker.run_once() == 0  # not due yet
    clock.advance(seconds=1)
    assert worker.run_once() == 1
    r = row(db, oid)
    assert (r["status"], r["attempts"], r["last_error"]) == ("pending", 2, "RuntimeError: boom 2")
    assert r["next_attempt_at"] == T0 + dt.timedelta(seconds=2 + 4)

    clock.advance(seconds=4)
    assert worker.run_once() == 1
    r = row(db, oid)
    assert (r["status"], r["attempts"], r["last_error"]) == ("sent", 3, None)
    assert r["sent_at"] == T0 + dt.timedelta(seconds=6)
    assert [c[1].attempts for c in sender.calls] == [1, 2, 3]


def test_a_row_goes_dead_after_max_attempts(db, clock):
    sender = Recorder(fail=100)
    worker = Worker(db, {"notify": sender}, clock=clock, max_attempts=3)
    oid = put(db)
    for _ in range(3):
        assert worker.run_once() == 1
        clock.advance(hours=1)
    r = row(db, oid)
    assert (r["status"], r["attempts"], r["last_error"]) == ("dead", 3, "RuntimeError: boom 3")
    clock.advance(days=1)
    assert worker.run_once() == 0
    assert len(sender.calls) == 3


def test_permanent_failures_go_dead_at_once(db, clock):
    sender = Recorder(fail=1, exc=PermanentFailure)
    oid = put(db)
    Worker(db, {"notify": sender}, clock=clock).run_once()
    r = row(db, oid)
    assert (r["status"], r["attempts"], r["last_error"]) == ("dead", 1, "PermanentFailure: boom 1")


def test_dead_rows_can_be_requeued(db, clock):
    oid = put(db)
    Worker(db, {"notify": Recorder(fail=1, exc=PermanentFailure)}, clock=clock).run_once()
    with db.begin() as conn:
        assert ob.requeue(conn, [oid], now=clock.now()) == 1
    sender = Recorder()
    assert Worker(db, {"notify": sender}, clock=clock).run_once() == 1
    assert row(db, oid)["status"] == "sent" and sender.calls[0][1].attempts == 1


def test_backoff_is_capped():
    worker = Worker(None, {}, backoff_base=2.0, max_backoff=3600)  # type: ignore[arg-type]
    assert [worker.backoff(n) for n in (1, 2, 3, 11, 12, 5000)] == [2, 4, 8, 2048, 3600, 3600]


def test_purge_sent_deletes_only_old_sent_rows(db, clock):
    old, pending = put(db), put(db, "webhook")
    Worker(db, {"notify": Recorder()}, clock=clock).run_once()
    with db.begin() as conn:
        assert ob.purge_sent(conn, before=T0) == 0
        assert ob.purge_sent(conn, before=T0 + dt.timedelta(seconds=1)) == 1
    assert row(db, old) is None and row(db, pending) is not None


# --- leases -----------------------------------------------------------------------------


def test_rows_of_a_crashed_worker_come_back_when_the_lease_expires(db, clock):
    oid = put(db, key="k")
    crashed = Worker(db, {"notify": Recorder()}, clock=clock, worker_id="dead", lease_seconds=60)
    [claimed] = crashed.claim()  # claimed, then the process died before sending
    r = row(db, oid)
    assert r["locked_by"] == "dead" and r["locked_until"] == T0 + dt.timedelta(seconds=60)

    sender = Recorder()
    other = Worker(db, {"notify": sender}, clock=clock, worker_id="alive")
    clock.advance(seconds=59)
    assert other.run_once() == 0
    clock.advance(seconds=1)
    assert other.run_once() == 1
    [(_, again)] = sender.calls
    assert (again.id, again.key, again.attempts) == (claimed.id, "k", 2)
    assert row(db, oid)["status"] == "sent"


def test_a_late_failure_report_does_not_undo_the_new_owners_work(db, clock):
    oid = put(db)
    slow = Worker(db, {"notify": Recorder(fail=1)}, clock=clock, worker_id="slow", lease_seconds=10)
    [claimed] = slow.claim()
    clock.advance(seconds=10)
    fast = Worker(db, {"notify": Recorder()}, clock=clock, worker_id="fast", lease_seconds=10)
    [taken] = fast.claim()
    slow._deliver(claimed)  # the slow worker's send finally fails: the row is not its any more
    r = row(db, oid)
    assert (r["status"], r["locked_by"], r["last_error"]) == ("pending", "fast", None)
    fast._deliver(taken)
    assert row(db, oid)["status"] == "sent"


def test_a_row_whose_lease_keeps_expiring_goes_dead_unsent(db, clock):
    oid = put(db)
    sender = Recorder()
    worker = Worker(db, {"notify": sender}, clock=clock, max_attempts=2, lease_seconds=10)
    for _ in range(2):
        worker.claim()  # a send that kills the worker every time
        clock.advance(seconds=10)
    assert worker.run_once() == 1
    r = row(db, oid)
    assert (r["status"], r["attempts"]) == ("dead", 3)
    assert r["last_error"] == "lease expired on every attempt (worker crashed?)"
    assert sender.calls == []


# --- hooks and the loop -----------------------------------------------------------------


def test_periodic_hooks_run_every_round_and_a_failing_hook_is_contained(db, clock):
    seen: list[str] = []

    def failing(worker: Worker) -> None:
        raise RuntimeError("timer scan broke")

    def scan(worker: Worker) -> None:
        seen.append(worker.worker_id)
        with worker.db.begin() as conn:  # hooks may enqueue work for this same round
            enqueue(conn, "notify", {"from": "timer"}, now=worker.clock.now())

    sender = Recorder()
    worker = Worker(db, {"notify": sender}, clock=clock, worker_id="w")
    worker.periodic += [failing, scan]
    assert worker.run_once() == 1
    assert worker.run_once() == 1
    assert seen == ["w", "w"] and [p for p, _ in sender.calls] == [{"from": "timer"}] * 2


def test_run_forever_stops_when_told(db, clock):
    stop = threading.Event()
    sent: list[int] = []

    def sender(payload: dict, r: OutboxRow) -> None:
        sent.append(r.id)
        stop.set()

    oid = put(db)
    Worker(db, {"notify": sender}, clock=clock).run_forever(stop, poll_seconds=30)
    assert sent == [oid] and row(db, oid)["status"] == "sent"


# --- several workers --------------------------------------------------------------------


def test_two_workers_in_two_threads_send_every_row_exactly_once(db, clock):
    with db.begin() as conn:
        ids = [enqueue(conn, "notify", {"i": i}, now=T0) for i in range(200)]
    sends: collections.Counter[int] = collections.Counter()
    by_worker: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(name: str) -> None:
        def sender(payload: dict, r: OutboxRow) -> None:
            with lock:
                sends[r.id] += 1
                by_worker[name] += 1

        worker = Worker(db, {"notify": sender}, clock=clock, worker_id=name, batch=7)
        try:
            start.wait(timeout=10)
            while worker.run_once():
                pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in ("w1", "w2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sends == collections.Counter({i: 1 for i in ids})
    assert sum(by_worker.values()) == 200
    with db.begin() as conn:
        statuses = conn.execute(sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status))
        assert dict(statuses.all()) == {"sent": 200}


def test_claim_skips_rows_locked_by_another_transaction(db, clock):
    if not db.is_postgres:
        pytest.skip("row locks: PostgreSQL only (SQLite serialises whole transactions)")
    first, second = put(db), put(db)
    worker = Worker(db, {"notify": Recorder()}, clock=clock)
    with db.connect() as other:
        with other.begin():
            other.execute(sa.select(outbox.c.id).where(outbox.c.id == first).with_for_update())
            claimed = worker.claim()  # must neither wait for the lock nor take the row
            assert [r.id for r in claimed] == [second]
