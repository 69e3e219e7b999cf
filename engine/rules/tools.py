"""Rule tooling behind ``run.py rules ...`` and the API: check, test (dry run), replay, rerun.

``check`` warns about trigger cycles found statically (networkx) and decision-table gaps
and overlaps (:func:`engine.checks.load_for_check` compiles the rule files, all errors at
once); ``test`` runs one rule on a given record inside a transaction that is rolled back; ``replay`` counts how often a rule would have fired over the stored record
versions; ``rerun`` runs a logged rule again on the current record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

import sqlalchemy as sa

from engine.context import RunContext
from engine.errors import DefinitionError, NotFound, PermissionDenied
from engine.rules import log as runlog
from engine.rules.engine import RuleEngine
from engine.rules.parts import Compiled, RulePlatform
from engine.rules.spec import CREATED, DELETED, UPDATED, RuleSet, RuleSpec
from engine.store.db import Database
from engine.store.events import EventBus
from engine.store.records import RecordStore
from engine.store.sequences import next_number
from engine.store.writer import Writer

# ---- check (run.py rules check compiles the pack: engine.checks.load_for_check) ------------
Expand = Callable[[str, frozenset[str]], frozenset[str]]


def trigger_cycles(ruleset: RuleSet, expand: Optional[Expand] = None) -> list[list[RuleSpec]]:
    """Cycles of rules whose writes trigger the next rule again (static, networkx), each from
    its first rule in file order.

    A write triggers a rule when the rule listens to its event on that form and, for an
    update, the fields it changes (``expand(form, fields)`` adds the computed fields
    recomputed from them) meet the fields the rule reads (:attr:`RuleSpec.reads`): the run-time
    rule, under which a rule that sets fields its own condition does not read is no cycle.
    """
    import networkx as nx

    graph: nx.DiGraph[int] = nx.DiGraph()
    rules = ruleset.rules
    for i, rule in enumerate(rules):
        for write in (w for action in rule.actions for w in action.effects):
            fields = expand(write.form, write.fields) if expand is not None and write.fields else write.fields
            for j, other in enumerate(rules):
                if other.form != write.form or write.event not in other.trigger.events:
                    continue
                if (
                    write.event == UPDATED
                    and fields
                    and not fields & (set(other.trigger.fields) if other.trigger.kind == "changed" else other.reads)
                ):
                    continue
                graph.add_edge(i, j)
    cycles = [c[c.index(min(c)) :] + c[: c.index(min(c))] for c in nx.simple_cycles(graph)]
    return [[rules[i] for i in c] for c in sorted(cycles)]


def dependents(defs: Compiled) -> Expand:
    """``expand(form, fields)``: the fields and the computed fields recomputed from them."""

    def expand(form: str, fields: frozenset[str]) -> frozenset[str]:
        out, grown = set(fields), True
        while grown:
            grown = False
            for c in defs.logic(form).computations:
                target = c.name if c.table is None else c.table
                if target not in out and (c.inputs if c.table is None else c.parent_inputs) & out:
                    out.add(target)
                    grown = True
        return frozenset(out)

    return expand


def check_warnings(defs: Compiled) -> list[DefinitionError]:
    """What ``check`` warns about in compiled definitions, in file order: trigger cycles and
    the decision tables' gaps and overlaps. Each prints ``file:line:col: warning: ...``."""
    found = []
    for cycle in trigger_cycles(defs.rules, dependents(defs)):
        loop = " → ".join(f"'{r.name}'" for r in cycle + cycle[:1])
        found.append(
            DefinitionError(
                f"warning: rules trigger each other in a cycle: {loop}",
                cycle[0].position,
                "each write along it changes a field the next rule reads, or creates or deletes records; "
                "the loop guard stops each rule after one run per record",
            )
        )
    for table in defs.decisions.values():
        found += [DefinitionError(f"warning: {w.message}", w.position, w.hint) for w in table.warnings]
    return sorted(found, key=lambda e: (e.position.file, e.position.line, e.position.column))


# ---- test (dry run) -------------------------------------------------------------------------
@dataclass
class DryRun:
    rule: str
    form: str
    event: str
    outcome: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    error: Optional[str] = None


class _Over:
    """A rule engine over definitions that are not (yet) active: a bus of its own and one
    store of those definitions (what :class:`~engine.rules.parts.Running` asks for)."""

    def __init__(self, db: Database, defs: Compiled) -> None:
        self.defs, bus = defs, EventBus()
        self.records = RecordStore(
            defs.forms, defs.tables, bus, next_number, defs.timezone, validators=defs.validators, logic=defs.logic
        )
        self.rules = RuleEngine(self, db, bus)
        bus.subscribe(self.rules)

    def current(self) -> Compiled:
        return self.defs

    def current_store(self) -> RecordStore:
        return self.records


def dry_run(db: Database, defs: Compiled, rule_name: str, values: Mapping[str, Any], ctx: RunContext) -> DryRun:
    """Would ``rule_name`` fire on this record, and what would it do? Nothing is written."""
    from engine.store.sync import apply_sync, plan_sync

    rule = _rule(defs.rules, rule_name)
    shim = _Over(db, defs)
    store = shim.records
    conn = db.engine.connect()
    tx = conn.begin()
    dry: list[dict[str, Any]] = []
    conn.connection.info[runlog.DRY] = dry
    try:
        apply_sync(conn, defs.tables, plan_sync(conn, defs.tables))
        data = dict(values)
        record_id = data.pop("id", None)
        quiet = type(store)(
            defs.forms,
            defs.tables,
            type(store.bus)(),
            store.numbers,
            defs.timezone,
            validators=defs.validators,
            logic=defs.logic,
        )
        if record_id is not None:
            old = store.get(conn, rule.form, int(record_id))
            if old is None:
                raise NotFound(f"{rule.form} {record_id} not found")
            new = quiet.update(conn, ctx, rule.form, int(record_id), data, writer=Writer.system(ctx, "test"))
            event = (
                UPDATED
                if UPDATED in rule.trigger.events or not rule.trigger.events
                else next(iter(rule.trigger.events))
            )
        else:
            old = None
            new = quiet.create(conn, ctx, rule.form, data, writer=Writer.system(ctx, "test"))
            event = (
                CREATED
                if CREATED in rule.trigger.events or not rule.trigger.events
                else next(iter(rule.trigger.events))
            )
        error = None
        try:
            outcome = shim.rules.run(conn, ctx, rule, dict(new), old, event, 0, source="test")
        except Exception as exc:  # the run is logged in ``dry`` with its error
            outcome, error = runlog.FAILED, str(exc)
        return DryRun(rule.name, rule.form, event, outcome, _plain(dry), error)
    finally:
        conn.connection.info.pop(runlog.DRY, None)
        tx.rollback()
        conn.close()


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in r.items()} for r in rows]


def _rule(ruleset: RuleSet, name: str) -> RuleSpec:
    form, _, short = name.partition(":")
    rule = ruleset.named(name) or (ruleset.named(short, form) if short else None)
    if rule is None:
        from engine.rules.compiler import did_you_mean

        hint = did_you_mean(name, [r.name for r in ruleset.rules])
        raise NotFound(f"no rule named '{name}'" + (f" ({hint})" if hint else ""))
    return rule


# ---- replay --------------------------------------------------------------------------------
@dataclass
class Replay:
    rule: str
    form: str
    since: dt.datetime
    events: int = 0  # stored changes of the form in the period
    matched: int = 0  # changes whose kind/fields match the trigger
    would_fire: int = 0
    skipped: int = 0
    errors: int = 0
    records: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "form": self.form,
            "since": self.since.isoformat(),
            "events": self.events,
            "matched": self.matched,
            "would_fire": self.would_fire,
            "skipped": self.skipped,
            "errors": self.errors,
            "records": len(self.records),
        }


def replay(db: Database, defs: Compiled, rule_name: str, since: dt.datetime, ctx: RunContext) -> Replay:
    """How often the rule would have fired over the stored versions since ``since`` (nothing runs)."""
    from engine.store.access import ConnAccess
    from engine.store.serialize import parse_snapshot
    from engine.store.system import record_versions as v

    rule = _rule(defs.rules, rule_name)
    spec = defs.forms[rule.form]
    shim = _Over(db, defs)
    out = Replay(rule.name, rule.form, since)
    with db.connect() as conn:
        data = ConnAccess(conn, shim.records)
        q = (
            sa.select(v.c.record_id, v.c.version, v.c.deleted, v.c.data, v.c.at)
            .where(v.c.form == rule.form)
            .order_by(v.c.record_id, v.c.version)
        )
        previous: dict[int, dict[str, Any]] = {}
        for row in conn.execute(q):
            snap = parse_snapshot(spec, row.data)
            old = previous.get(row.record_id)
            previous[row.record_id] = snap
            if row.at < since:
                continue
            kind = DELETED if row.deleted else (CREATED if old is None else UPDATED)
            out.events += 1
            if not _matches(rule, kind, snap, old):
                continue
            out.matched += 1
            try:
                ok = rule.condition is None or rule.condition.evaluate(
                    old if kind == DELETED else snap, ctx, old=old, data=data
                )
            except Exception:
                out.errors += 1
                continue
            if ok:
                out.would_fire += 1
                out.records.add(row.record_id)
            else:
                out.skipped += 1
    return out


def _matches(rule: RuleSpec, kind: str, new: Mapping[str, Any], old: Optional[Mapping[str, Any]]) -> bool:
    t = rule.trigger
    if t.kind == "changed":
        return kind == UPDATED and old is not None and any(new.get(f) != old.get(f) for f in t.fields)
    return kind in t.events


def parse_since(text: str, now: dt.datetime) -> dt.datetime:
    """``30d`` / ``12h`` / ``2026-11-01`` -> a UTC datetime."""
    text = text.strip()
    units = {"d": "days", "h": "hours", "m": "minutes", "w": "weeks"}
    if text[:-1].isdigit() and text[-1] in units:
        return now - dt.timedelta(**{units[text[-1]]: int(text[:-1])})
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


# ---- rerun ---------------------------------------------------------------------------------
def rerun(platform: RulePlatform, run_id: int, ctx: RunContext) -> dict[str, Any]:
    """Run the rule of a logged run again on the current record, in a new transaction.

    The caller must be allowed to update that form and see the record. Returns the new
    run's log row.
    """
    defs = platform.definitions()
    with platform.db.connect() as conn:
        row = runlog.get_run(conn, run_id)
    if row is None:
        raise NotFound(f"rule run {run_id} not found")
    rule = defs.rules.named(row["rule"], row["form"])
    if rule is None:
        raise NotFound(f"rule '{row['rule']}' on {row['form']} is no longer defined")
    defs.policy.require(ctx, rule.form, "update")
    store = platform.store()
    before = _last_id(platform)
    with platform.db.begin() as conn:
        clause = defs.policy.row_clause(ctx, rule.form, "read")
        record = store.get(conn, rule.form, row["record_id"], where=clause) if row["record_id"] else None
        if record is None:
            raise NotFound(f"{rule.form} {row['record_id']} not found")
        platform.rules.run(conn, ctx, rule, record, None, "rerun", 0, source="rerun", guard=False)
    with platform.db.connect() as conn:
        q = (
            sa.select(runlog.rule_runs)
            .where(
                runlog.rule_runs.c.id > before,
                runlog.rule_runs.c.event == "rerun",
                runlog.rule_runs.c.rule == rule.name,
            )
            .order_by(runlog.rule_runs.c.id.desc())
        )
        new = conn.execute(q).mappings().first()
    return dict(new) if new is not None else {}


def _last_id(platform: RulePlatform) -> int:
    with platform.db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(runlog.rule_runs.c.id), 0))).scalar_one())


def visible_runs_clause(platform: RulePlatform, ctx: RunContext) -> Any:
    """Which runs of :func:`runlog.runs_view` ``ctx`` may see: forms it may read, and within
    them the records it may read."""
    defs = platform.definitions()
    if defs.policy.is_superuser(ctx):
        return None
    t = runlog.runs_view()
    parts = []
    for form in defs.forms:
        if not defs.policy.can(ctx, form, "read"):
            continue
        clause = defs.policy.row_clause(ctx, form, "read")
        if clause is None:
            parts.append(t.c.form == form)
        else:
            table = defs.tables.table(form)
            parts.append(sa.and_(t.c.form == form, t.c.record_id.in_(sa.select(table.c.id).where(clause))))
    if not parts:
        return sa.false()
    return sa.or_(*parts)


def check_visible(platform: RulePlatform, ctx: RunContext, run: Mapping[str, Any]) -> None:
    clause = visible_runs_clause(platform, ctx)
    if clause is None:
        return
    with platform.db.connect() as conn:
        view = runlog.runs_view()
        ok = conn.execute(sa.select(view.c.id).where(view.c.id == run["id"], clause)).first()
    if ok is None:
        raise PermissionDenied("you may not see this rule run")
