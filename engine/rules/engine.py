"""The rule engine: subscribed to the store's EventBus, runs matching rules in the transaction.

For each :class:`~engine.store.events.RecordEvent` it looks up only the rules indexed under
(form, event kind) and (form, changed field), evaluates their conditions (with the old
record for ``changed()``/``old.x`` and a :class:`~engine.store.access.ConnAccess` for links
and aggregates) and runs their actions in the same transaction. Within one originating
change a rule runs again on a record only when a later write changed a field it reads
(:attr:`RuleSpec.reads`), and fires at most once per record: a rule that fired and is
triggered again that way is in a real cycle, which the loop guard stops (and logs). A chain
of rule-triggered writes deeper than the pack's limit fails the change naming the chain.
Every run is logged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.errors import LowcodeError
from engine.rules import log as runlog
from engine.rules import said
from engine.rules.errors import RuleChainTooDeep, RuleFailed, describe
from engine.rules.flow_ended import ENDED, FIELD
from engine.rules.parts import Compiled, Running
from engine.rules.spec import RuleSet, RuleSpec
from engine.store.access import ConnAccess
from engine.store.db import Database
from engine.store.events import EventBus, RecordEvent
from engine.store.records import RecordStore
from engine.store.writer import Writer

CHANGE = "lc_rules_change"  # key in the DBAPI connection's info: the originating change's state

#: start-flow hooks: (conn, ctx, flow name, form, record_id) -> None; the flow engine adds one
FlowStarter = Callable[[Connection, RunContext, str, str, int], None]


@dataclass
class ChangeState:
    """What one originating change has run and fired so far (the loop guard) and the current chain."""

    seen: set[tuple[str, str, int]] = field(default_factory=set)  # (rule, form, record) run
    pending: set[tuple[str, str, int]] = field(default_factory=set)  # due in a dispatch under way
    fired: set[tuple[str, str, int]] = field(default_factory=set)
    chain: list[str] = field(default_factory=list)


@dataclass
class RunState:
    """One rule run: what actions see and change."""

    engine: "RuleEngine"
    conn: Connection
    ctx: RunContext
    rule: RuleSpec
    form: str
    record: dict[str, Any]
    old: Optional[Mapping[str, Any]]
    event: str
    depth: int
    data: ConnAccess
    vars: dict[str, Any] = field(default_factory=dict)  # loop rows flattened: line__qty
    given: Mapping[str, Any] = field(default_factory=dict)  # names the trigger gives: flow_outcome
    summaries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def defs(self) -> Compiled:
        return self.engine.definitions()

    @property
    def store(self) -> RecordStore:
        return self.engine.store()

    @property
    def writer(self) -> Writer:
        """Who the rule's writes are by: the rule, on behalf of the change's user."""
        return Writer.rule(self.ctx, self.rule.name)

    def values(self) -> Mapping[str, Any]:
        """The record as expressions see it (with the loop row's fields when inside a loop)."""
        if self.given:
            return {**self.record, **self.given, **self.vars}
        return {**self.record, **self.vars} if self.vars else self.record

    def evaluate(self, expr: Any) -> Any:
        return expr.evaluate(self.values(), self.ctx, old=self.old, data=self.data)


class RuleEngine:
    """One per platform. ``__call__`` is the EventBus handler.

    ``running`` gives the definitions and store a write under way uses; with ``db`` the run
    log is installed on it, with ``bus`` the date-relative timers follow the writes."""

    def __init__(self, running: Running, db: Optional[Database] = None, bus: Optional[EventBus] = None) -> None:
        self.running = running
        self.flow_starters: list[FlowStarter] = []
        if db is not None:
            runlog.install(db.engine)
        from engine.rules.timers import TimerScheduler

        self.timers = TimerScheduler(self)  # date-relative timer rows, kept in step with writes
        if bus is not None:
            bus.subscribe(self.timers)

    # ---- what the platform currently runs --------------------------------------------
    def definitions(self) -> Compiled:
        """The definitions the writing store was built from (no reload check per event)."""
        return self.running.current()

    def store(self) -> RecordStore:
        return self.running.current_store()

    def rules(self) -> RuleSet:
        return self.definitions().rules

    # ---- dispatch ------------------------------------------------------------------
    def matching(self, event: RecordEvent) -> list[RuleSpec]:
        """The rules whose trigger matches ``event``: looked up by index, never scanned."""
        ruleset = self.rules()
        found = list(ruleset.by_event.get((event.form, event.kind), ()))
        if event.kind == "updated":
            watched = ruleset.watched.get(event.form)
            if watched:
                new, old = event.new or {}, event.old or {}
                for name in watched:
                    if name in event.changed or new.get(name) != old.get(name):
                        for rule in ruleset.by_field[(event.form, name)]:
                            if rule not in found:
                                found.append(rule)
        return found

    def __call__(self, conn: Connection, event: RecordEvent) -> None:
        rules = self.matching(event)
        if not rules:
            return
        state = self._change(conn, event.depth)
        rid = event.record_id
        # A rule that ran on this record in this change runs again only if a field it reads
        # changed; one that a dispatch under way will still run (on the record as it is by
        # then) is left to it.
        rules = [
            r
            for r in rules
            if (r.key, r.form, rid) not in state.pending
            and ((r.key, r.form, rid) not in state.seen or r.reads & event.changed)
        ]
        if not rules:
            return
        limit = self.rules().max_depth
        if event.depth >= limit:
            raise RuleChainTooDeep(state.chain + [f"{rules[0].name} on {event.form} {event.record_id}"], limit)
        record = dict(event.new if event.new is not None else event.old or {})
        data: Optional[ConnAccess] = None
        info = conn.connection.info
        state.pending.update((r.key, r.form, rid) for r in rules)
        for rule in rules:
            key = (rule.key, rule.form, rid)
            state.pending.discard(key)
            state.seen.add(key)
            holds = False
            if rule.condition is not None and key not in state.fired:
                t0 = time.perf_counter()  # the common case of a bulk write: the condition is false
                data = data or ConnAccess(conn, self.store())
                try:
                    holds = bool(rule.condition.evaluate(record, event.ctx, old=event.old, data=data))
                except Exception:
                    pass  # run() evaluates it again and logs the failure
                else:
                    if not holds:
                        runlog.skipped(
                            info, rule, event.ctx, event.kind, rid, time.perf_counter() - t0, event.source, event.depth
                        )
                        continue
            outcome = self.run(
                conn,
                event.ctx,
                rule,
                record,
                event.old,
                event.kind,
                event.depth,
                state,
                source=event.source,
                holds=holds,
            )
            if outcome == runlog.FIRED and event.kind != "deleted":  # its actions may have changed it
                fresh = self.store().get(conn, event.form, event.record_id)
                record = fresh if fresh is not None else record

    def _change(self, conn: Connection, depth: int) -> ChangeState:
        info = conn.connection.info
        if depth == 0 or CHANGE not in info:
            info[CHANGE] = ChangeState()
        return info[CHANGE]

    def run(
        self,
        conn: Connection,
        ctx: RunContext,
        rule: RuleSpec,
        record: dict[str, Any],
        old: Optional[Mapping[str, Any]],
        event: str,
        depth: int,
        state: Optional[ChangeState] = None,
        *,
        source: str = "api",
        guard: bool = True,
        holds: bool = False,
        given: Optional[Mapping[str, Any]] = None,
    ) -> str:
        """Run one rule on one record now: condition, then actions; logs the run; returns the outcome.

        ``holds``: the caller has just found the condition true on this record (it is not
        evaluated twice). ``given``: names the trigger gives beside the record's fields
        (``flow_outcome``)."""
        state = state or self._change(conn, depth)
        started, t0 = ctx.now(), time.perf_counter()
        key = (rule.key, rule.form, int(record.get("id") or 0))
        run = RunState(self, conn, ctx, rule, rule.form, record, old, event, depth, ConnAccess(conn, self.store()))
        run.given = given or {}
        outcome, error, where = runlog.FIRED, None, None
        entry: dict[str, Any] = {}
        runlog.buffer(conn, entry)  # in start order; filled in below
        try:
            if guard and key in state.fired:
                outcome = runlog.LOOP_GUARD
            elif not holds and rule.condition is not None and not run.evaluate(rule.condition):
                outcome = runlog.SKIPPED
            else:
                state.fired.add(key)
                state.chain.append(f"{rule.name} on {rule.form} {key[2]}")
                try:
                    for action in rule.actions:
                        self._act(run, action)
                finally:
                    state.chain.pop()
        except RuleFailed as exc:
            outcome, error, where = runlog.FAILED, describe(exc.cause), str(exc.position)
            raise
        except LowcodeError as exc:
            pos = getattr(exc, "position", None)
            outcome, error, where = runlog.FAILED, describe(exc), (str(pos) if pos else None)
            raise
        except Exception as exc:
            outcome, error = runlog.FAILED, f"{type(exc).__name__}: {exc}"
            raise
        finally:
            entry.update(
                runlog.run_row(
                    rule,
                    ctx,
                    event,
                    key[2],
                    started,
                    time.perf_counter() - t0,
                    outcome,
                    source=source,
                    depth=depth,
                    actions=run.summaries,
                    error=error,
                    where=where,
                )
            )
        return outcome

    def _act(self, run: RunState, action: Any) -> None:
        try:
            summary = action.run(run)
        except RuleFailed:
            raise
        except RuleChainTooDeep as exc:
            raise exc
        except LowcodeError as exc:
            if getattr(exc, "position", None) is None and hasattr(exc, "position"):
                exc.position = action.position  # type: ignore[attr-defined]
            run.summaries.append({"action": action.kind, "at": str(action.position), "error": describe(exc)})
            if isinstance(exc, _KEEP):
                raise
            raise RuleFailed(run.rule.name, action.kind, action.position, exc) from exc
        except Exception as exc:
            run.summaries.append({"action": action.kind, "at": str(action.position), "error": str(exc)})
            raise RuleFailed(run.rule.name, action.kind, action.position, exc) from exc
        if summary:
            run.summaries.append({"action": action.kind, "at": str(action.position), **said.entry(summary)})

    # ---- other triggers ----------------------------------------------------------------
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
    ) -> list[str]:
        """Called by the flow engine when an instance enters or leaves ``node``.

        ``transition`` is ``"enter"`` or ``"leave"``; runs the ``on flow <flow> enter|leave
        <node>`` rules (of ``form`` when given) on ``record``; returns their outcomes.
        """
        rules = self.rules().by_flow.get((flow, transition, node), ())
        state = self._change(conn, depth)
        return [
            self.run(conn, ctx, r, dict(record), None, "flow", depth, state, source="flow")
            for r in rules
            if form is None or r.form == form
        ]

    def on_flow_ended(
        self,
        conn: Connection,
        ctx: RunContext,
        flow: str,
        outcome: str,
        record: Mapping[str, Any],
        form: Optional[str] = None,
        depth: int = 0,
    ) -> list[str]:
        """Called by the flow engine when an instance of ``flow`` ended with ``outcome``
        (completed | rejected | withdrawn | cancelled): runs the ``when flow <flow> ended
        [<outcome>]`` rules (of ``form`` when given) on ``record``, with ``flow_outcome``."""
        rules = self.rules().by_flow.get((flow, ENDED, ""), ())
        state = self._change(conn, depth)
        return [
            self.run(conn, ctx, r, dict(record), None, "flow", depth, state, source="flow", given={FIELD: outcome})
            for r in rules
            if (form is None or r.form == form) and r.trigger.outcome in (None, outcome)
        ]

    def fire(
        self,
        conn: Connection,
        ctx: RunContext,
        rule: RuleSpec,
        record: Mapping[str, Any],
        event: str = "timer",
        depth: int = 0,
    ) -> str:
        """Run ``rule`` on ``record`` because a timer or webhook says so (the timer engine calls this)."""
        return self.run(conn, ctx, rule, dict(record), None, event, depth, source=event)


_KEEP: tuple[type, ...] = ()


def _keep() -> tuple[type, ...]:
    from engine.rules.errors import RuleRefused

    return (RuleRefused, RuleChainTooDeep)


_KEEP = _keep()
