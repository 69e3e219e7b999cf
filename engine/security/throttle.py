"""Login throttling: failed attempts counted per user name and per client address, in the database.

A :class:`Throttle` guards one kind of login (its *scope*: ``login`` for passwords, ``otp`` for
the portal's one-time codes, ...). :meth:`Throttle.guard` runs the credential check only when
neither the user name nor the address is locked; otherwise it raises
:class:`~engine.errors.Throttled` without checking, so the answer is the same whether or not the
user exists (the name is counted as typed, never looked up).

Each attempt first *reserves* a count on both counters in a short transaction, then the check
runs outside any transaction, then a second short transaction settles it: a failure keeps the
count (and locks a counter that reached its limit), a success clears the name's counter and gives
the address its count back. Reserving first is what makes the limit hold under concurrency: on
PostgreSQL the two counter rows are locked (``SELECT ... FOR UPDATE``, always the address before
the name, so two attempts never deadlock); on SQLite ``BEGIN IMMEDIATE`` lets one writer in at a
time. However many requests arrive at once, at most ``limit`` checks run per window.

Windows are fixed: the first failure starts one, and it starts over once it (or a lock) has
passed. Every checked attempt writes a ``lc_login_audit`` row (name as typed, address, time,
outcome; never the password); a refused attempt writes nothing, so a flood cannot grow the table.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from dataclasses import dataclass
from typing import Any, Callable, Optional, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine import i18n
from engine.context import Clock
from engine.errors import AuthError, Throttled
from engine.store.db import Database
from engine.store.dialect import for_update_skip_locked, insert_ignore
from engine.store.system import login_audit, login_counters

T = TypeVar("T")
NAME, ADDRESS = "name", "address"
KEY_LENGTH = 128  # longer names and addresses are counted by their first 128 characters
PURGE_EVERY = dt.timedelta(minutes=10)

MESSAGES = {
    "throttled": {
        "zh-CN": "失败次数过多, 请 {minutes} 分钟后再试",
        "en": "Too many failed attempts; try again in {minutes} min",
    },
}


def refusal(exc: Throttled, locale: str) -> str:
    """The words for a refused attempt, in ``locale`` (the same for every user name)."""
    return i18n.render(MESSAGES, "throttled", locale, minutes=max(1, math.ceil(exc.retry_after / 60)))


@dataclass(frozen=True)
class Limits:
    """How many failures in ``window`` lock a user name or an address, and for how long."""

    per_name: int = 5
    per_address: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)
    lock: dt.timedelta = dt.timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.per_name < 1 or self.per_address < 1:
            raise ValueError(
                f"login limits must be at least 1 (per name {self.per_name}, per address {self.per_address})"
            )
        if self.window <= dt.timedelta(0) or self.lock <= dt.timedelta(0):
            raise ValueError(f"the login window ({self.window}) and lock ({self.lock}) must be longer than 0")

    def of(self, kind: str) -> int:
        return self.per_name if kind == NAME else self.per_address


@dataclass(frozen=True)
class Counter:
    """One counter row as it stands at a moment."""

    failures: int
    window_start: dt.datetime
    locked_until: Optional[dt.datetime]

    def at(self, now: dt.datetime, window: dt.timedelta) -> "Counter":
        """The counter at ``now``: a lock or a window that has passed starts over."""
        if self.locked_until is not None:
            return self if self.locked_until > now else Counter(0, now, None)
        return self if self.window_start + window > now else Counter(0, now, None)

    def locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


def address_key(address: str) -> str:
    """What an address is counted under: IPv4 as is, IPv6 by its /64 (one subscriber's block)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:KEY_LENGTH] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _seconds(until: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


class Throttle:
    """Counts failed attempts of one scope per user name and per address; refuses locked ones."""

    def __init__(self, db: Database, clock: Clock, scope: str = "login", limits: Limits = Limits()) -> None:
        self.db = db
        self.clock = clock
        self.scope = scope
        self.limits = limits
        self._next_purge: Optional[dt.datetime] = None

    def guard(self, name: str, address: str, check: Callable[[], T]) -> T:
        """``check()`` (which raises :class:`AuthError` for bad credentials) unless ``name`` or
        ``address`` is locked; raises :class:`Throttled` without calling it when one is."""
        keys = ((ADDRESS, address_key(address)), (NAME, name[:KEY_LENGTH]))
        self._purge_now_and_then()
        self._reserve(keys)
        try:
            result = check()
        except AuthError:
            self._settle(keys, name, address, ok=False)
            raise
        except BaseException:
            self._release(keys)  # not an answer about the credentials: give the count back
            raise
        self._settle(keys, name, address, ok=True)
        return result

    # ---- the three short transactions ------------------------------------------------------

    def _reserve(self, keys: tuple[tuple[str, str], ...]) -> None:
        refuse: Optional[int] = None
        with self.db.begin() as conn:
            now = self.clock.now()
            counters = [self._row(conn, kind, key, now) for kind, key in keys]
            locks = [c.locked_until for c in counters if c.locked_until is not None and c.locked(now)]
            if locks:
                refuse = _seconds(max(locks), now)
            elif any(c.failures >= self.limits.of(kind) for (kind, _), c in zip(keys, counters)):
                # the limit's worth of attempts are being checked right now; the last to fail locks
                refuse = _seconds(now + self.limits.lock, now)
            else:
                for (kind, key), c in zip(keys, counters):
                    conn.execute(
                        login_counters.update()
                        .where(*self._pk(kind, key))
                        .values(failures=c.failures + 1, window_start=c.window_start, locked_until=None)
                    )
        if refuse is not None:
            raise Throttled(refuse)

    def _settle(self, keys: tuple[tuple[str, str], ...], name: str, address: str, *, ok: bool) -> None:
        with self.db.begin() as conn:
            now = self.clock.now()
            until: Optional[dt.datetime] = None
            locked = []
            for kind, key in keys:
                if ok and kind == NAME:
                    conn.execute(login_counters.delete().where(*self._pk(kind, key)))
                elif ok:
                    self._give_back(conn, kind, key)
                else:
                    c = self._row(conn, kind, key, now)
                    if not c.locked(now) and c.failures >= self.limits.of(kind):
                        until = now + self.limits.lock
                        conn.execute(login_counters.update().where(*self._pk(kind, key)).values(locked_until=until))
                        locked.append(kind)
            conn.execute(
                login_audit.insert().values(
                    at=now,
                    scope=self.scope,
                    username=name[:KEY_LENGTH],
                    address=address[:64],
                    outcome="succeeded" if ok else "failed",
                    locked_until=until,
                    locked="+".join(sorted(locked, reverse=True)) or None,
                )
            )

    def _release(self, keys: tuple[tuple[str, str], ...]) -> None:
        with self.db.begin() as conn:
            for kind, key in keys:
                self._give_back(conn, kind, key)

    # ---- rows ------------------------------------------------------------------------------

    def _pk(self, kind: str, key: str) -> tuple[Any, ...]:
        c = login_counters.c
        return c.scope == self.scope, c.kind == kind, c.key == key

    def _row(self, conn: Connection, kind: str, key: str, now: dt.datetime) -> Counter:
        """The counter, created if missing and locked until the transaction ends, as at ``now``."""
        c = login_counters.c
        for _ in range(3):  # a purge may delete a stale row between the insert and the select
            conn.execute(
                insert_ignore(login_counters, conn).values(
                    scope=self.scope, kind=kind, key=key, failures=0, window_start=now, locked_until=None
                )
            )
            row = conn.execute(
                sa.select(c.failures, c.window_start, c.locked_until).where(*self._pk(kind, key)).with_for_update()
            ).first()
            if row is not None:
                return Counter(row.failures, row.window_start, row.locked_until).at(now, self.limits.window)
        raise RuntimeError(f"the login counter {self.scope}/{kind}/{key} keeps vanishing")

    def _give_back(self, conn: Connection, kind: str, key: str) -> None:
        c = login_counters.c
        conn.execute(
            login_counters.update().where(*self._pk(kind, key), c.failures > 0).values(failures=c.failures - 1)
        )

    def _purge_now_and_then(self) -> None:
        now = self.clock.now()
        if self._next_purge is not None and now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY
        with self.db.begin() as conn:
            purge(conn, self.scope, now, self.limits.window)


def purge(conn: Connection, scope: str, now: dt.datetime, window: dt.timedelta) -> int:
    """Delete the counters of ``scope`` whose window and lock have both passed (they would start
    over anyway); rows another transaction holds are skipped, so a purge never waits on a login."""
    c = login_counters.c
    stale = for_update_skip_locked(
        sa.select(c.scope, c.kind, c.key)
        .where(
            c.scope == scope, c.window_start <= now - window, sa.or_(c.locked_until.is_(None), c.locked_until <= now)
        )
        .limit(1000),
        conn,
    )
    return int(conn.execute(login_counters.delete().where(sa.tuple_(c.scope, c.kind, c.key).in_(stale))).rowcount)


def unlock(conn: Connection, name: str, scope: Optional[str] = None) -> int:
    """Clear the failures and any lock of user name ``name`` (in ``scope``, or in all); how many counters."""
    c = login_counters.c
    where = [c.kind == NAME, c.key == name[:KEY_LENGTH]] + ([c.scope == scope] if scope else [])
    return int(conn.execute(login_counters.delete().where(*where)).rowcount)


def attempts(conn: Connection, *, username: Optional[str] = None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest checked attempts, newest first (optionally of one user name)."""
    query = sa.select(login_audit).order_by(login_audit.c.at.desc(), login_audit.c.id.desc()).limit(limit)
    if username is not None:
        query = query.where(login_audit.c.username == username)
    return [dict(row._mapping) for row in conn.execute(query)]
