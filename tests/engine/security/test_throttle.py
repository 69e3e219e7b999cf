"""The throttle engine module on a real database, with a fixed clock (no web server, no sleeps)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from engine.context import FixedClock
from engine.errors import AuthError, Throttled
from engine.security.throttle import Limits, Throttle, address_key, purge
from engine.store.system import login_counters
from tests.docs_example import check_example

LIMITS = Limits(per_name=2, per_address=3, window=dt.timedelta(minutes=10), lock=dt.timedelta(minutes=5))


def wrong() -> None:
    raise AuthError("wrong username or password")


def outcome(throttle: Throttle, name: str, address: str = "192.0.2.1", check: Any = wrong) -> str:
    try:
        throttle.guard(name, address, check)
    except Throttled as exc:
        return f"throttled {exc.retry_after}"
    except AuthError:
        return "wrong"
    return "ok"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc))


def test_scopes_count_apart_and_a_check_that_breaks_gives_its_count_back(db: Any, clock: FixedClock) -> None:
    login, otp = Throttle(db, clock, "login", LIMITS), Throttle(db, clock, "otp", LIMITS)
    assert [outcome(login, "li") for _ in range(3)] == ["wrong", "wrong", "throttled 300"]
    assert outcome(otp, "li") == "wrong"  # the portal's codes have their own counters

    def broken() -> None:
        raise RuntimeError("database went away")

    for _ in range(5):
        with pytest.raises(RuntimeError):
            otp.guard("wu", "192.0.2.9", broken)  # not an answer about the credentials
    assert outcome(otp, "wu", "192.0.2.9") == "wrong"
    assert outcome(otp, "wu", "192.0.2.9", check=lambda: 42) == "ok"
    assert otp.guard("wu", "192.0.2.9", lambda: 42) == 42


def test_failures_spread_over_more_than_the_window_never_lock(db: Any, clock: FixedClock) -> None:
    throttle = Throttle(db, clock, "login", LIMITS)
    for _ in range(4):
        assert outcome(throttle, "li", f"192.0.2.{clock.now().minute}") == "wrong"
        clock.advance(minutes=10)


def test_purge_drops_counters_that_would_start_over_and_keeps_live_ones(db: Any, clock: FixedClock) -> None:
    throttle = Throttle(db, clock, "login", LIMITS)

    def counters() -> dict[str, int]:
        with db.connect() as conn:
            return {row.key: row.failures for row in conn.execute(sa.select(login_counters))}

    outcome(throttle, "old", "192.0.2.1")
    clock.advance(minutes=6)
    assert [outcome(throttle, "locked", "192.0.2.2") for _ in range(3)] == ["wrong", "wrong", "throttled 300"]
    clock.advance(minutes=5)  # "old" and its address: window passed; "locked": lock ended, window not
    with db.begin() as conn:
        assert purge(conn, "login", clock.now(), LIMITS.window) == 2
    assert counters() == {"192.0.2.2": 2, "locked": 2}
    clock.advance(minutes=6)  # now both have passed: any guard's own purge (now and then) drops them
    assert outcome(throttle, "new", "192.0.2.4") == "wrong"
    assert counters() == {"192.0.2.4": 1, "new": 1}


@pytest.mark.parametrize(
    "address, key",
    [
        ("192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("", "unknown"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_addresses_are_counted_by_subscriber(address: str, key: str) -> None:
    assert address_key(address) == key


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"the login window \(0:00:00\) and lock \(0:15:00\) must be longer than 0"):
        Limits(window=dt.timedelta(0))


def test_the_docs_example_runs() -> None:
    check_example("api.md", "Security: login throttling, the login audit, headers")
