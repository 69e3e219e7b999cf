"""The one event pipeline that every write goes through, inside its transaction."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterator, Mapping, Optional, Protocol

from sqlalchemy.engine import Connection

from engine.context import RunContext


@dataclass(frozen=True)
class RecordEvent:
    """A record was created, updated or deleted (``kind``), by whom and through which path."""

    kind: str                              # created | updated | deleted
    form: str
    record_id: int
    ctx: RunContext
    new: Optional[Mapping[str, Any]]       # the record after the change (None when deleted)
    old: Optional[Mapping[str, Any]]       # the record before (None when created)
    changed: frozenset[str] = frozenset()  # field names whose value changed
    source: str = "api"                    # api | form | import | batch | webhook | rule | ...
    depth: int = 0                         # how deep in a chain of rule-triggered writes


class EventHandler(Protocol):
    def __call__(self, conn: Connection, event: RecordEvent) -> None: ...


class WriteGuard(Protocol):
    """May refuse a write before it happens (raise a LowcodeError), e.g. a flow owning a status."""

    def __call__(self, conn: Connection, action: str, form: str,
                 old: Optional[Mapping[str, Any]], changes: Mapping[str, Any], ctx: RunContext) -> None: ...


@dataclass
class EventBus:
    """Handlers run in registration order inside the writing transaction.

    A handler that raises rolls back the whole change. Handlers may write through the
    store again; those writes emit their own events (``depth`` + 1).
    """

    handlers: list[EventHandler] = field(default_factory=list)
    guards: list[WriteGuard] = field(default_factory=list)

    def subscribe(self, handler: EventHandler) -> EventHandler:
        self.handlers.append(handler)
        return handler

    def add_guard(self, guard: WriteGuard) -> WriteGuard:
        self.guards.append(guard)
        return guard

    def guard(self, conn: Connection, action: str, form: str, old: Optional[Mapping[str, Any]],
              changes: Mapping[str, Any], ctx: RunContext) -> None:
        for g in self.guards:
            g(conn, action, form, old, changes, ctx)

    def emit(self, conn: Connection, event: RecordEvent) -> None:
        for handler in self.handlers:
            handler(conn, event)

    @contextlib.contextmanager
    def deferring(self, conn: Connection) -> Iterator[None]:
        """A batch of writes (an import chunk, a batch request): work that handlers put off
        with :meth:`later` runs once per key at its end, still inside the transaction.
        Nothing put off runs when the batch fails."""
        if _LATER in conn.info:      # already inside a batch: its end runs the work
            yield
            return
        pending: dict[Hashable, Callable[[], None]] = {}
        conn.info[_LATER] = pending
        try:
            yield
        finally:
            conn.info.pop(_LATER, None)
        for work in pending.values():
            work()

    def later(self, conn: Connection, key: Hashable, work: Callable[[], None]) -> bool:
        """Put ``work`` off to the end of the batch under way (the last one given per ``key``
        runs); False when no batch is under way (the caller then does the work now)."""
        pending = conn.info.get(_LATER)
        if pending is None:
            return False
        pending.pop(key, None)       # keep the order of the latest request
        pending[key] = work
        return True


_LATER = "lc_deferred_work"


Subscriber = Callable[[Connection, RecordEvent], None]
