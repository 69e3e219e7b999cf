"""``run.py flows migrate FLOW --to N``: move the waiting instances of a flow to revision N of its
pack by a node mapping, checked before anything changes.

Instances are pinned to the pack revision they started on (:mod:`engine.flows.engine`); a
migration re-pins the running ones of FLOW. Each node an instance waits at (``state["w"]``, and
the joins some branches reached, ``state["j"]``) and each node with an open or waiting task
maps to a node of revision N: the one ``--map old=new`` names, else the node with the same id.
The check refuses, with every problem at once, a node that maps to nothing, to a node of
another kind (or, for approvals, another mode: the counts in the state are per mode), and a
mapping whose old node no instance's revision has. Then, in one transaction, each instance
gets its new revision, its state's nodes renamed, its tasks' ``node``, its children's
``parent_node``, its timer node's pending timer, a history event ``migrated``, and its
``version`` moved (a step that read it before gets 409).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.errors import Conflict, LowcodeError, NotFound, ValidationError
from engine.flows.history import OPEN, WAITING, event_row
from engine.flows.model import FlowSpec, NodeSpec
from engine.flows.ops_texts import say
from engine.flows.parts import Definitions
from engine.flows.steps import TIMER
from engine.flows.tables import events, instances, tasks
from engine.store.db import Database
from engine.store.system import definitions as lc_definition
from engine.store.timers import PENDING, timers

EVENT = "migrated"


class PinnedSource(Protocol):
    def definitions_at(self, pack: str, revision: int) -> Definitions: ...


class Revisions(Protocol):
    """What a migration needs of the platform (:class:`engine.platform.Platform`)."""

    @property
    def db(self) -> Database: ...

    @property
    def active(self) -> PinnedSource: ...

    def definitions(self) -> Definitions: ...


class MigrationRefused(LowcodeError):
    """The check found problems: nothing was changed. ``problems``: each one, in the caller's language."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class Move:
    """One instance's migration."""

    instance_id: int
    record_id: int
    revision: int
    nodes: dict[str, str]  # old -> new, for the nodes it waits at (renamed ones only shown)
    tasks: list[int] = field(default_factory=list)

    def line(self, flow: FlowSpec, to: int) -> str:
        renamed = ", ".join(f"{o} -> {n}" for o, n in self.nodes.items() if o != n) or "same nodes"
        waits = ", ".join(sorted(set(self.nodes.values()))) or "-"
        return (
            f"instance {self.instance_id} ({flow.form} {self.record_id}): revision {self.revision} -> {to}; "
            f"{renamed}; waits at {waits}; tasks {', '.join(map(str, self.tasks)) or '-'}"
        )


@dataclass
class Plan:
    flow: str
    pack: str
    revision: int
    target: FlowSpec
    instances: list[Move]

    @property
    def revisions_from(self) -> list[int]:
        return sorted({m.revision for m in self.instances})

    def lines(self) -> list[str]:
        return [m.line(self.target, self.revision) for m in self.instances]


def parse_map(items: Iterable[str], locale: str = "en") -> dict[str, str]:
    """``old=new`` options as a mapping (an item without ``=`` is 422 on ``--map``)."""
    out: dict[str, str] = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ValidationError({"--map": [say("mig_bad_map", locale, item=item)]})
        out[old.strip()] = new.strip()
    return out


def _hint(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _shape(node: NodeSpec) -> str:
    return f"{node.kind}/{node.mode}" if node.kind == "approval" else node.kind


def migrate(
    platform: Revisions,
    ctx: RunContext,
    flow: str,
    revision: int,
    mapping: Mapping[str, str],
    *,
    dry_run: bool = False,
) -> Plan:
    """Check, then (unless ``dry_run``) do the migration in one transaction; the plan.

    Raises :class:`MigrationRefused` with every problem (nothing changed)."""
    source = platform.active
    locale = ctx.locale
    current = platform.definitions()
    spec = current.flows.get(flow)
    if spec is None:
        raise NotFound.said("mig_no_flow", flow=flow)
    pack = current.pack_of(spec.form) or ""
    with platform.db.begin() as conn:
        known = _revisions(conn, pack)
        if revision not in known:
            raise MigrationRefused(
                [say("mig_no_revision", locale, pack=pack, revision=revision, known=", ".join(map(str, known)) or "-")]
            )
        target = source.definitions_at(pack, revision).flows.get(flow)
        if target is None:
            raise MigrationRefused([say("mig_flow_missing", locale, pack=pack, revision=revision, flow=flow)])
        rows = _running(conn, flow, pack, revision)
        problems: list[str] = []
        olds: dict[int, FlowSpec] = {}
        for inst in rows:
            if inst["revision"] not in olds:
                olds[inst["revision"]] = source.definitions_at(pack, inst["revision"]).flows[flow]
        seen_nodes = set().union(*(set(f.nodes) for f in olds.values())) if olds else set(spec.nodes)
        for old, new in mapping.items():
            if old not in seen_nodes:
                hint = _hint(old, seen_nodes)
                problems.append(
                    say(
                        "mig_map_unknown_old",
                        locale,
                        old=old,
                        new=new,
                        flow=flow,
                        revision="/".join(str(r) for r in sorted(olds)) or current.revision(pack),
                        hint=hint,
                    )
                )
        moves: list[Move] = []
        for inst in rows:
            move = _check(conn, inst, olds[inst["revision"]], target, mapping, revision, locale, problems)
            moves.append(move)
        if problems:
            raise MigrationRefused(problems)
        plan = Plan(flow, pack, revision, target, moves)
        if dry_run:
            return plan
        for inst, move in zip(rows, moves):
            _apply(conn, ctx, inst, move, revision, mapping)
    return plan


def _revisions(conn: Connection, pack: str) -> list[int]:
    t = lc_definition.c
    return [int(r) for r in conn.execute(sa.select(t.revision).where(t.pack == pack).order_by(t.revision)).scalars()]


def _running(conn: Connection, flow: str, pack: str, revision: int) -> list[dict[str, Any]]:
    i = instances.c
    q = (
        sa.select(instances)
        .where(i.flow == flow, i.pack == pack, i.status == "running", i.revision != revision)
        .order_by(i.id)
    )
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    return [dict(r) for r in conn.execute(q).mappings()]


def _open_tasks(conn: Connection, instance_id: int) -> list[dict[str, Any]]:
    t = tasks.c
    q = sa.select(t.id, t.node).where(t.instance_id == instance_id, t.status.in_((OPEN, WAITING))).order_by(t.id)
    return [dict(r) for r in conn.execute(q).mappings()]


def _check(
    conn: Connection,
    inst: Mapping[str, Any],
    old: FlowSpec,
    new: FlowSpec,
    mapping: Mapping[str, str],
    revision: int,
    locale: str,
    problems: list[str],
) -> Move:
    state = inst["state"] or {}
    active = list(state.get("w", {})) + [j for j in state.get("j", {}) if j not in state.get("w", {})]
    move = Move(int(inst["id"]), int(inst["record_id"]), int(inst["revision"]), {})
    for node in active:
        to = mapping.get(node, node)
        move.nodes[node] = to
        if to not in new.nodes:
            hint = _hint(to, new.nodes)
            problems.append(say("mig_node_gone", locale, id=inst["id"], node=node, revision=revision, hint=hint))
        elif node in old.nodes and _shape(old.nodes[node]) != _shape(new.nodes[to]):
            problems.append(
                say(
                    "mig_kind_changed",
                    locale,
                    id=inst["id"],
                    node=node,
                    kind=_shape(old.nodes[node]),
                    new=to,
                    new_kind=_shape(new.nodes[to]),
                )
            )
    for task in _open_tasks(conn, int(inst["id"])):
        move.tasks.append(int(task["id"]))
        if task["node"] not in move.nodes and mapping.get(task["node"], task["node"]) not in new.nodes:
            problems.append(
                say("mig_task_gone", locale, id=inst["id"], task=task["id"], node=task["node"], revision=revision)
            )
    return move


def _apply(
    conn: Connection, ctx: RunContext, inst: Mapping[str, Any], move: Move, revision: int, mapping: Mapping[str, str]
) -> None:
    i, t, tm = instances.c, tasks.c, timers.c
    iid = int(inst["id"])
    state = dict(inst["state"] or {})
    state["w"] = {mapping.get(k, k): v for k, v in state.get("w", {}).items()}
    if "j" in state:
        state["j"] = {mapping.get(k, k): v for k, v in state["j"].items()}
    done = conn.execute(
        sa.update(instances)
        .where(i.id == iid, i.version == inst["version"], i.status == "running")
        .values(revision=revision, state=state, version=inst["version"] + 1)
    )
    if done.rowcount != 1:
        raise Conflict.said("flow_instance_moved", id=iid)
    for old, new in mapping.items():
        if old == new:
            continue
        conn.execute(
            sa.update(tasks).where(t.instance_id == iid, t.node == old, t.status.in_((OPEN, WAITING))).values(node=new)
        )
        conn.execute(sa.update(instances).where(i.parent_id == iid, i.parent_node == old).values(parent_node=new))
        conn.execute(
            sa.update(timers)
            .where(tm.kind == TIMER, tm.key == f"{iid}:{old}", tm.status == PENDING)
            .values(key=f"{iid}:{new}", payload={"instance": iid, "node": new})
        )
    row = event_row(
        EVENT,
        ctx,
        ctx.now(),
        comment=f"revision {move.revision} -> {revision}",
        changes={
            "revision": [move.revision, revision],
            **{f"node:{o}": [o, n] for o, n in move.nodes.items() if o != n},
        },
    )
    conn.execute(sa.insert(events).values(**row, instance_id=iid))
