"""The frozen run context that enters every evaluation, and the injectable clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import FrozenSet


class Clock:
    """Wall clock; tests pass a :class:`FixedClock` instead so nothing sleeps."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware UTC."""
        return dt.datetime.now(dt.timezone.utc)


class FixedClock(Clock):
    """A clock that only moves when told to."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, **kwargs: float) -> dt.datetime:
        """Move forward by a ``timedelta(**kwargs)``."""
        self._now += dt.timedelta(**kwargs)
        return self._now

    def set(self, when: dt.datetime) -> None:
        self._now = when


@dataclass(frozen=True)
class RunContext:
    """Who acts, when and where: passed explicitly, never ambient."""

    user_id: int | None = None
    username: str | None = None
    roles: FrozenSet[str] = frozenset()
    customer_id: int | None = None  # for portal users tied to a customer record
    clock: Clock = field(default_factory=Clock)
    timezone: str = "Asia/Shanghai"
    locale: str = "zh-CN"
    superuser: bool = False

    def now(self) -> dt.datetime:
        return self.clock.now()

    @classmethod
    def system(cls, clock: Clock | None = None) -> "RunContext":
        """The context for the platform itself (worker, demo install, migrations)."""
        return cls(username="system", roles=frozenset({"system"}), clock=clock or Clock(), superuser=True)
