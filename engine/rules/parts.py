"""What the rules' worker-side and hook-side code needs of the platform, as typed Protocols.

The timer handler (:mod:`engine.rules.timers_fire`) and inbound hooks
(:mod:`engine.rules.webhooks`) take a :class:`RulePlatform`, not the platform class: the
compiled rules and tables, a record store, the rule engine's ``fire``, the database, the clock
and the system's run context.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional, Protocol

from sqlalchemy.engine import Connection

from engine.context import Clock, RunContext
from engine.expr.scope import SqlTables
from engine.rules.spec import RuleSet, RuleSpec
from engine.rules.timers import RecordReader
from engine.store.db import Database


class RuleFirer(Protocol):
    def fire(self, conn: Connection, ctx: RunContext, rule: RuleSpec, record: Mapping[str, Any],
             event: str = "timer", depth: int = 0) -> str: ...


class CompiledRules(Protocol):
    """What of the compiled definitions the rules read here."""

    @property
    def rules(self) -> RuleSet: ...

    @property
    def tables(self) -> SqlTables: ...


class Selecting(RecordReader, Protocol):
    def select(self, conn: Connection, form: str, *, where: Any = None, limit: Optional[int] = 50,
               with_total: bool = True) -> tuple[list[dict[str, Any]], int]: ...


class RulePlatform(Protocol):
    """The platform as timers and inbound hooks use it."""

    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def rules(self) -> RuleFirer: ...

    def definitions(self) -> CompiledRules: ...

    def store(self) -> Selecting: ...

    def system_context(self) -> RunContext: ...
