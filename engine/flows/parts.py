"""What the flow engine needs from the parts below it, as Protocols (never the platform).

:func:`engine.platform.compose` hands the engine the active definitions (with their stores and
the revisions instances are pinned to), the database, the event bus, the timer queue, the users,
the rule engine, and the organisation chart (``engine.security.org``: department heads and
delegation) when it is installed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping, Optional, Protocol, TypeVar

from sqlalchemy.engine import Connection

from engine.context import Clock, RunContext
from engine.definitions.model import FormSpec, PackSpec
from engine.expr.scope import Scope
from engine.flows.model import FlowSpec
from engine.rules.spec import RuleSpec
from engine.security.policy import Policy
from engine.security.users import User
from engine.store.records import RecordStore
from engine.store.timers import TimerHandler

#: a rule's ``start flow X``: (conn, ctx, flow, form, record_id)
FlowStarter = Callable[[Connection, RunContext, str, str, int], None]


T = TypeVar("T")


class Definitions(Protocol):
    """Compiled definitions (:class:`engine.runtime.Definitions`) as the flow engine reads them."""

    @property
    def flows(self) -> Mapping[str, FlowSpec]: ...

    @property
    def forms(self) -> Mapping[str, FormSpec]: ...

    @property
    def packs(self) -> Mapping[str, PackSpec]: ...

    @property
    def scopes(self) -> Mapping[str, Scope]: ...

    @property
    def policy(self) -> Policy: ...

    @property
    def timezone(self) -> str: ...

    def pack_of(self, form: str) -> Optional[str]: ...

    def revision(self, pack: str) -> Optional[int]: ...

    def memo(self, key: Any, build: Callable[[], T]) -> T: ...


class FlowDefinitions(Protocol):
    """The compiled definitions: the active ones, those of a pinned revision, their stores."""

    def definitions(self) -> Definitions: ...

    def current(self) -> Definitions: ...

    def definitions_at(self, pack: str, revision: int) -> Definitions: ...

    def store_of(self, defs: Definitions) -> RecordStore: ...


class FlowRules(Protocol):
    """The rule engine: its ``start flow`` hooks and its ``on flow ... enter|leave`` triggers."""

    flow_starters: list[FlowStarter]

    def on_flow(
        self,
        conn: Connection,
        ctx: RunContext,
        flow: str,
        node: str,
        transition: str,
        record: Mapping[str, Any],
        form: Optional[str] = None,
        depth: int = 0,
    ) -> list[str]: ...

    def run(
        self,
        conn: Connection,
        ctx: RunContext,
        rule: RuleSpec,
        record: dict[str, Any],
        old: Optional[Mapping[str, Any]],
        event: str,
        depth: int,
        state: Any = None,
        *,
        source: str = "api",
        guard: bool = True,
        holds: bool = False,
    ) -> str: ...


class FlowUsers(Protocol):
    def get(self, conn: Connection, user_id: int) -> User: ...

    def by_name(self, conn: Connection, username: str) -> Optional[User]: ...

    def all(self, conn: Connection) -> list[User]: ...


class FlowTimers(Protocol):
    def register(self, kind: str, handler: TimerHandler) -> None: ...


class OrgChart(Protocol):
    """Department heads and delegation (``engine.security.org``, the module itself)."""

    def heads_above(self, conn: Connection, user_id: int, levels: int) -> list[int]: ...

    def delegate_for(self, conn: Connection, user_id: int, flow: str, at: dt.datetime) -> Optional[int]: ...


class FlowClock(Protocol):
    def now(self) -> dt.datetime: ...


__all__ = [
    "Clock",
    "Definitions",
    "FlowClock",
    "FlowDefinitions",
    "FlowRules",
    "FlowStarter",
    "FlowTimers",
    "FlowUsers",
    "OrgChart",
]
