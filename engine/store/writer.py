"""Who writes, and what they ask: the values every write guard decides on.

Every write goes through :class:`~engine.store.records.RecordStore` with a :class:`Writer`:
a person through the API, the workspace or a batch (kind ``user``), an import, a rule, a flow
(later) or the platform itself (rollups, the demo). Before the write, each guard registered
with :meth:`engine.store.events.EventBus.add_guard` sees a :class:`WriteRequest` and may
refuse it by raising, e.g. :class:`WriteRefused` (a flow owns a status field; a change
request freezes linked records); the whole change then rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping, Optional, Protocol

from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.errors import PermissionDenied

WriterKind = Literal["user", "rule", "flow", "import", "system"]


@dataclass(frozen=True)
class Writer:
    """The writer of one change: its kind, the path it came through, and who or what it is.

    ``source`` is what the journal records (``api``, ``web``, ``batch``, ``import``, ``rule``,
    ``rollup``, ``demo``, ...); ``name`` is the rule's or the flow's name."""

    kind: WriterKind
    source: str
    user_id: Optional[int] = None
    username: Optional[str] = None
    name: Optional[str] = None

    @classmethod
    def user(cls, ctx: RunContext, source: str = "api") -> "Writer":
        """A person, through the API (``api``), the workspace (``web``) or a batch (``batch``)."""
        return cls("user", source, ctx.user_id, ctx.username)

    @classmethod
    def importer(cls, ctx: RunContext, source: str = "import") -> "Writer":
        """A spreadsheet import, on behalf of ``ctx``'s user."""
        return cls("import", source, ctx.user_id, ctx.username)

    @classmethod
    def rule(cls, ctx: RunContext, rule: str) -> "Writer":
        """A rule's action (``set``, ``update ... set``, ``create``, ...), in ``ctx``'s change."""
        return cls("rule", "rule", ctx.user_id, ctx.username, rule)

    @classmethod
    def flow(cls, ctx: RunContext, flow: str) -> "Writer":
        """A step of a flow instance."""
        return cls("flow", "flow", ctx.user_id, ctx.username, flow)

    @classmethod
    def system(cls, ctx: RunContext, source: str) -> "Writer":
        """The platform itself: a stored aggregate recomputed (``rollup``), the demo data."""
        return cls("system", source, ctx.user_id, ctx.username)


@dataclass(frozen=True)
class WriteRequest:
    """One record about to be written: what a guard sees (after validation, before formulas).

    ``changes`` holds the validated values asked for (for a set-based update, the values the
    statement is about to write into this row); ``old`` the record before (None on create)."""

    action: Literal["create", "update", "delete"]
    form: str
    writer: Writer
    ctx: RunContext
    changes: Mapping[str, Any]
    old: Optional[Mapping[str, Any]] = None
    record_id: Optional[int] = None

    def changes_field(self, name: str) -> bool:
        """Whether the write gives ``name`` a new value (on create: any value but an empty one;
        a deleted record changes every field it had a value in)."""
        if self.action == "delete":
            return self.old is not None and self.old.get(name) not in (None, "", [])
        if name not in self.changes:
            return False
        new = self.changes[name]
        if self.old is None:
            return new not in (None, "", [])
        before = self.old.get(name)
        return bool(before != new) and not same_rows(before, new)


class WriteGuard(Protocol):
    """May refuse a write before it happens: raise a :class:`~engine.errors.LowcodeError`."""

    def __call__(self, conn: Connection, request: WriteRequest) -> None: ...


class WriteRefused(PermissionDenied):
    """A write guard refused the write (HTTP 403); ``fields`` names the fields it refused."""


def same_rows(old: Any, new: Any) -> bool:
    """Sub-table rows are unchanged when every given value matches, row by row (ids aside)."""
    if not isinstance(old, list) or not isinstance(new, list) or len(old) != len(new):
        return False
    if not all(isinstance(o, Mapping) and isinstance(n, Mapping) for o, n in zip(old, new)):
        return False  # a list value (tags, file ids), not rows: compared as a whole
    return all(all(o.get(k) == v for k, v in n.items() if k != "id") for o, n in zip(old, new))
