"""Auto numbers: patterns, periods, padding, and uniqueness under concurrent takers."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from engine.errors import DefinitionError
from engine.store.db import Database
from engine.store.sequences import compile_pattern, next_number, parse_pattern, sequences

UTC = dt.timezone.utc
MAY = dt.datetime(2026, 5, 17, 3, 0, tzinfo=UTC)


def take(
    db: Database,
    pattern: str = "SO-{YYYY}{MM}-{seq:05}",
    now: dt.datetime = MAY,
    name: str = "so",
    tz: str = "Asia/Shanghai",
) -> str:
    with db.begin() as conn:
        return next_number(conn, name, pattern, now, tz)


def test_first_numbers_are_consecutive_and_padded(db):
    assert [take(db) for _ in range(3)] == ["SO-202605-00001", "SO-202605-00002", "SO-202605-00003"]


def test_padding_widens_when_the_counter_outgrows_it(db):
    with db.begin() as conn:
        conn.execute(sa.insert(sequences).values(name="so", period="", value=99))
    assert take(db, "N{seq:02}") == "N100"
    assert take(db, "N{seq}") == "N101"


def test_monthly_pattern_resets_each_month(db):
    assert take(db) == "SO-202605-00001"
    assert take(db) == "SO-202605-00002"
    june = dt.datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    assert take(db, now=june) == "SO-202606-00001"
    assert take(db, now=MAY) == "SO-202605-00003"  # a late May number continues May


def test_daily_yearly_and_never(db):
    day2 = MAY + dt.timedelta(days=1)
    assert take(db, "D{YY}{MM}{DD}-{seq:03}", name="d") == "D260517-001"
    assert take(db, "D{YY}{MM}{DD}-{seq:03}", name="d") == "D260517-002"
    assert take(db, "D{YY}{MM}{DD}-{seq:03}", day2, name="d") == "D260518-001"
    next_year = dt.datetime(2027, 1, 2, tzinfo=UTC)
    assert take(db, "Y{YYYY}-{seq}", name="y") == "Y2026-1"
    assert take(db, "Y{YYYY}-{seq}", next_year, name="y") == "Y2027-1"
    assert take(db, "C{seq:04}", name="c") == "C0001"
    assert take(db, "C{seq:04}", next_year, name="c") == "C0002"


def test_dates_are_taken_in_the_time_zone(db):
    # 2026-05-31 17:00 UTC is already June 1st in Shanghai, still May 31st in London.
    late = dt.datetime(2026, 5, 31, 17, 0, tzinfo=UTC)
    assert take(db, "{YYYY}{MM}{DD}-{seq}", late, name="a") == "20260601-1"
    assert take(db, "{YYYY}{MM}{DD}-{seq}", late, name="b", tz="Europe/London") == "20260531-1"
    naive = dt.datetime(2026, 5, 31, 17, 0)  # read as UTC
    assert take(db, "{YYYY}{MM}{DD}-{seq}", naive, name="a") == "20260601-2"


def test_sequences_are_independent_by_name(db):
    assert take(db, name="a") == "SO-202605-00001"
    assert take(db, name="b") == "SO-202605-00001"
    assert take(db, name="a") == "SO-202605-00002"


def test_a_rolled_back_transaction_gives_its_number_back(db):
    assert take(db) == "SO-202605-00001"
    with pytest.raises(RuntimeError):
        with db.begin() as conn:
            assert next_number(conn, "so", "SO-{YYYY}{MM}-{seq:05}", MAY) == "SO-202605-00002"
            raise RuntimeError("business rule failed")
    assert take(db) == "SO-202605-00002"


def test_twenty_concurrent_transactions_get_unique_consecutive_numbers(db_url):
    database = Database(db_url, pool_size=20, max_overflow=0)
    database.create_system_tables()
    start = threading.Barrier(20)
    inside = threading.Barrier(20)
    got: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            start.wait(timeout=10)
            with database.begin() as conn:
                if database.is_postgres:
                    # All 20 transactions are open before any takes a number. (On SQLite
                    # BEGIN IMMEDIATE admits one writer at a time, so they queue at BEGIN.)
                    conn.execute(sa.select(1))
                    inside.wait(timeout=10)
                number = next_number(conn, "so", "{seq}", MAY)
                conn.execute(sa.select(1))  # hold the row lock a little longer
            with lock:
                got.append(int(number))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        database.dispose()
    assert not errors
    assert sorted(got) == list(range(1, 21))


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("SO-{YYYY}", "pattern 'SO-{YYYY}' has no {seq}"),
        ("SO-{seq}-{seq:03}", "{seq} appears twice in pattern 'SO-{seq}-{seq:03}' (column 10)"),
        ("SO-{YYYYY}-{seq}", "unknown placeholder {YYYYY} in pattern 'SO-{YYYYY}-{seq}' (column 4)"),
        ("SO-{seq:5}", "unknown placeholder {seq:5} in pattern 'SO-{seq:5}' (column 4)"),
        ("SO-{seq:00}", "unknown placeholder {seq:00} in pattern 'SO-{seq:00}' (column 4)"),
        ("SO-{seq", "unmatched '{' in pattern 'SO-{seq' (column 4)"),
        ("SO}-{seq}", "unmatched '}' in pattern 'SO}-{seq}' (column 3)"),
        ("SO-{MM}-{seq}", "pattern 'SO-{MM}-{seq}' has {MM} but no year, so numbers would repeat every year"),
        (
            "SO-{YYYY}{DD}-{seq}",
            "pattern 'SO-{YYYY}{DD}-{seq}' has {DD} but no {MM}, so numbers would repeat every month",
        ),
    ],
)
def test_pattern_errors(pattern, message):
    assert parse_pattern(pattern) == message


def test_invalid_pattern_raises_with_a_hint(db):
    with pytest.raises(DefinitionError) as info:
        take(db, "SO-{N}")
    assert str(info.value) == (
        "unknown placeholder {N} in pattern 'SO-{N}' (column 4) (use {YYYY}, {YY}, {MM}, {DD}, {seq} or {seq:0N})"
    )


@pytest.mark.parametrize(
    "pattern, period",
    [
        ("SO-{YYYY}{MM}-{seq:05}", "2026-05"),
        ("{YY}{MM}{DD}{seq}", "2026-05-17"),
        ("{YY}-{seq}", "2026"),
        ("{seq}", ""),
    ],
)
def test_valid_patterns_and_their_periods(pattern, period):
    assert parse_pattern(pattern) is None
    assert compile_pattern(pattern).period(MAY) == period
