"""What the rule layer is handed by the composition root (:mod:`engine.platform`): typed views
of the parts above it, so that no rule code takes ``Any`` for a platform or imports upward.

- :class:`Compiled`: what rule code reads of compiled definitions
  (:class:`engine.runtime.Definitions` is one);
- :class:`Running`: what the rule engine runs by, for a write under way;
- :class:`RulePlatform`: what the rule tools, the log pruner, timers and webhooks ask of the
  platform (:class:`engine.platform.Platform` is one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Optional, Protocol

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from engine.context import Clock, RunContext
    from engine.definitions.model import FormSpec
    from engine.forms.compute import FormLogic
    from engine.forms.validate import FormValidator
    from engine.rules.spec import RuleSet, RuleSpec
    from engine.security.policy import Policy
    from engine.store.db import Database
    from engine.store.records import RecordStore
    from engine.store.tables import FormTables


class Compiled(Protocol):
    """Compiled definitions as rule code reads them: forms, tables, roles' policy, the rules
    and decision tables, and each form's write-time logic."""

    @property
    def forms(self) -> Mapping[str, "FormSpec"]: ...

    @property
    def tables(self) -> "FormTables": ...

    @property
    def policy(self) -> "Policy": ...

    @property
    def rules(self) -> "RuleSet": ...

    @property
    def decisions(self) -> Mapping[str, Any]: ...

    @property
    def validators(self) -> Mapping[str, "FormValidator"]: ...

    @property
    def timezone(self) -> str: ...

    def logic(self, form: str) -> "FormLogic": ...


class Running(Protocol):
    """What the rule engine runs by: the definitions a write under way uses (no reload check
    per event) and their record store."""

    def current(self) -> Compiled: ...

    def current_store(self) -> "RecordStore": ...


class RuleRunner(Protocol):
    """What the rule tools, timers and inbound hooks call on the rule engine
    (:class:`engine.rules.engine.RuleEngine` is one): run a rule on a record now."""

    def run(
        self,
        conn: "Connection",
        ctx: "RunContext",
        rule: "RuleSpec",
        record: dict[str, Any],
        old: Optional[Mapping[str, Any]],
        event: str,
        depth: int,
        *,
        source: str = "api",
        guard: bool = True,
        holds: bool = False,
    ) -> str: ...

    def fire(
        self,
        conn: "Connection",
        ctx: "RunContext",
        rule: "RuleSpec",
        record: Mapping[str, Any],
        event: str = "timer",
        depth: int = 0,
    ) -> str: ...


class RulePlatform(Protocol):
    """What the rule tools (rerun, the visible runs), the log pruner, timers and webhooks ask
    of the platform: the database, the clock, the active definitions and their store, the
    rule engine and the system's run context."""

    @property
    def db(self) -> "Database": ...

    @property
    def clock(self) -> "Clock": ...

    @property
    def rules(self) -> RuleRunner: ...

    def definitions(self) -> Compiled: ...

    def store(self) -> "RecordStore": ...

    def system_context(self) -> "RunContext": ...
