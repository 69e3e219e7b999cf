"""The events and write guards of the one write pipeline, inside its transaction.

Guards are registered with :meth:`EventBus.add_guard` (the platform also registers every
``lowcode.guards`` entry point); handlers with :meth:`EventBus.subscribe`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterator, Mapping, Optional, Protocol

from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.store.writer import WriteGuard, Writer, WriteRequest


@dataclass(frozen=True)
class RecordEvent:
    """A record was created, updated or deleted (``kind``), by whom and through which path."""

    kind: str  # created | updated | deleted
    form: str
    record_id: int
    ctx: RunContext
    new: Optional[Mapping[str, Any]]  # the record after the change (None when deleted)
    old: Optional[Mapping[str, Any]]  # the record before (None when created)
    changed: frozenset[str] = frozenset()  # field names whose value changed
    writer: Writer = Writer("system", "api")  # who wrote it, through which path
    depth: int = 0  # how deep in a chain of rule-triggered writes

    @property
    def source(self) -> str:
        """The path of the write, as the journal records it (api | web | import | batch | rule | ...)."""
        return self.writer.source


class EventHandler(Protocol):
    def __call__(self, conn: Connection, event: RecordEvent) -> None: ...


@dataclass
class EventBus:
    """Handlers run in registration order inside the writing transaction.

    A handler that raises rolls back the whole change. Handlers may write through the
    store again; those writes emit their own events (``depth`` + 1).
    """

    handlers: list[EventHandler] = field(default_factory=list)
    guards: dict[str, WriteGuard] = field(default_factory=dict)

    def subscribe(self, handler: EventHandler) -> EventHandler:
        self.handlers.append(handler)
        return handler

    def add_guard(self, guard: WriteGuard, name: Optional[str] = None) -> WriteGuard:
        """Register a write guard: it sees every :class:`WriteRequest` of every writer (API,
        workspace, batch, import, rules, flows) before the write, in registration order, and
        refuses one by raising. A guard registered again (the same object, or another under
        the same ``name``) replaces the one before."""
        kind = getattr(guard, "__qualname__", type(guard).__qualname__)
        self.guards[name or f"{getattr(guard, '__module__', '?')}.{kind}@{id(guard):x}"] = guard
        return guard

    def remove_guard(self, name: str) -> None:
        """Unregister the guard registered under ``name`` (nothing when there is none)."""
        self.guards.pop(name, None)

    def guard(self, conn: Connection, request: WriteRequest) -> None:
        """Ask every guard about ``request``; the first that raises refuses it."""
        for g in self.guards.values():
            g(conn, request)

    def emit(self, conn: Connection, event: RecordEvent) -> None:
        for handler in self.handlers:
            handler(conn, event)

    @contextlib.contextmanager
    def deferring(self, conn: Connection) -> Iterator[None]:
        """A batch of writes (an import chunk, a batch request): work that handlers put off
        with :meth:`later` runs once per key at its end, still inside the transaction.
        Nothing put off runs when the batch fails."""
        if _LATER in conn.info:  # already inside a batch: its end runs the work
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
        pending.pop(key, None)  # keep the order of the latest request
        pending[key] = work
        return True


_LATER = "lc_deferred_work"


Subscriber = Callable[[Connection, RecordEvent], None]
