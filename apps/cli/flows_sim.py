"""What ``run.py flows simulate`` computes: the path a record would take through a flow's pure
machine (:mod:`engine.flows.machine`), every human node approved or completed in turn, with the
gateway edge taken and the assignees each human node would get, resolved read-only against the
database's users and roles. Nothing is written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.errors import LowcodeError
from engine.flows.assignees import Assignees, Target
from engine.flows.model import GATEWAY_KINDS, HUMAN_KINDS, EdgeSpec, FlowSpec, NodeSpec
from engine.security.users import User, Users

#: a simulation stops after this many steps (a loop the record never leaves)
MAX_STEPS = 200


@dataclass
class Simulation:
    flow: str
    form: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    end: Optional[str] = None
    error: Optional[str] = None
    #: whether a created record would start the flow by itself (``start: {on: create, if: ...}``)
    starts_on_create: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "form": self.form,
            "starts_on_create": self.starts_on_create,
            "steps": self.steps,
            "end": self.end,
            "error": self.error,
        }


class Resolver:
    """Who a human node's tasks would go to, by the engine's own rules (:mod:`engine.flows.assignees`:
    roles, users, expressions, lists, department-head chains, delegation), read from the
    database's users (nothing written). A role's task is shown as the role's users."""

    def __init__(
        self,
        conn: Connection,
        users: Users,
        access: Any = None,
        *,
        org: Any = None,
        starter_id: Optional[int] = None,
        flow: str = "",
        now: Optional[dt.datetime] = None,
    ) -> None:
        self.conn, self.users, self.access, self.org = conn, users, access, org
        self.starter_id, self.flow, self.now = starter_id, flow, now or dt.datetime.now(dt.timezone.utc)
        self.everyone: list[User] = [u for u in users.all(conn) if u.active]
        self.names_by_id = {u.id: u.username for u in self.everyone}

    def targets(self, node: NodeSpec, record: Mapping[str, Any], ctx: RunContext) -> list[Target]:
        who = Assignees(self.conn, self.users, self.org, record, ctx, self.starter_id, self.flow, self.now)
        return who.of_node(node)

    def of_node(self, node: NodeSpec, record: Mapping[str, Any], ctx: RunContext) -> list[str]:
        try:
            targets = self.targets(node, record, ctx)
        except LowcodeError as exc:
            return [f"({_said(exc)})"]
        found: list[str] = []
        for t in targets:
            if t.role is not None:
                names = sorted(u.username for u in self.everyone if t.role in u.roles) or [f"role {t.role}: nobody"]
            elif t.user_id is not None:
                name = self.names_by_id.get(t.user_id, f"user {t.user_id}")
                if t.delegated_from_id is not None:
                    name += f" (for {self.names_by_id.get(t.delegated_from_id, t.delegated_from_id)})"
                names = [name]
            else:
                names = []
            found += [n for n in names if n not in found]
        return found

    def count(self, node: NodeSpec, record: Mapping[str, Any], ctx: RunContext) -> int:
        try:
            return len(self.targets(node, record, ctx))
        except LowcodeError:
            return 0


def _said(exc: LowcodeError) -> str:
    fields = getattr(exc, "fields", None)
    if fields:
        return "; ".join(m for msgs in fields.values() for m in msgs)
    return str(exc)


def _label(spec: Any, locale: str, fallback: str) -> str:
    return spec.get(locale) if spec is not None else fallback


def _taken(flow: FlowSpec, node: NodeSpec, record: Mapping[str, Any], ctx: RunContext, access: Any) -> list[EdgeSpec]:
    """The edges a gateway takes for ``record`` (the machine's own rule: the first condition
    that holds, else the default; inclusive: every one that holds; parallel: all)."""
    edges = flow.outgoing(node.id)
    if node.kind == "parallel":
        return list(edges)

    def holds(e: EdgeSpec) -> bool:
        return e.condition is None or bool(e.condition.evaluate(record, ctx, data=access))

    if node.kind == "inclusive":
        hits = [e for e in edges if not e.default and holds(e)]
        return hits or [e for e in edges if e.default]
    for e in edges:
        if not e.default and e.action is None and holds(e):
            return [e]
    return [e for e in edges if e.default][:1]


def _edge(e: EdgeSpec, locale: str) -> dict[str, Any]:
    return {
        "to": e.target,
        "condition": e.condition_text,
        "default": e.default,
        "label": _label(e.label, locale, ""),
    }


def simulate(
    flow: FlowSpec,
    record: Mapping[str, Any],
    ctx: RunContext,
    resolver: Resolver,
    actions: Mapping[str, str] | None = None,
) -> Simulation:
    """Run ``record`` through ``flow``: each waiting node is approved (an approval), completed
    (a task, a timer, a subflow) or, in state-machine mode, takes ``actions[node]`` (else its
    first action)."""
    from engine.flows.machine import machine_of

    machine = machine_of(flow)
    sim = Simulation(flow.name, flow.form)
    values = dict(record)
    locale = ctx.locale
    counts: dict[str, int] = {}

    def count(node: NodeSpec) -> int:
        return counts.setdefault(node.id, resolver.count(node, values, ctx))

    def absorb(step: Any) -> None:
        for eff in step.effects:
            kind = type(eff).__name__
            if kind == "SetFields":
                values.update(eff.values)
            elif kind == "Entered":
                node = flow.nodes[eff.node]
                entry: dict[str, Any] = {
                    "node": node.id,
                    "kind": node.kind,
                    "label": _label(node.label, locale, node.id),
                }
                if node.kind in GATEWAY_KINDS:
                    entry["edges"] = [_edge(e, locale) for e in _taken(flow, node, values, ctx, resolver.access)]
                if node.kind in HUMAN_KINDS and node.id != flow.start.id:
                    entry["assignees"] = resolver.of_node(node, values, ctx)
                    if node.kind == "approval":
                        entry["mode"] = node.mode
                sim.steps.append(entry)
            elif kind == "Skipped":
                sim.steps.append({"node": eff.node, "kind": "skipped", "label": "nobody to ask: passed on"})
            elif kind == "Ended":
                sim.end = eff.status

    try:
        sim.starts_on_create = flow.start_on == "create" and (
            flow.start_if is None or bool(flow.start_if.evaluate(values, ctx, data=resolver.access))
        )
        step = machine.start(values, ctx, count)
        absorb(step)
        state = step.state
        for _ in range(MAX_STEPS):
            if sim.end is not None or not state.get("w"):
                break
            node_id = next(iter(state["w"]))
            node = flow.nodes[node_id]
            if node.kind == "approval":
                step = machine.approve(state, node_id, values, ctx, count)
            elif node.kind == "state":
                wanted = (actions or {}).get(node_id)
                choices = [e.action for e in flow.outgoing(node_id) if e.action]
                if not choices:
                    sim.error = f"state node {node_id!r} has no action to take"
                    break
                step = machine.complete(state, node_id, values, ctx, wanted or choices[0], count)
            else:
                step = machine.complete(state, node_id, values, ctx, None, count)
            absorb(step)
            state = step.state
        else:
            sim.error = f"stopped after {MAX_STEPS} steps (a loop the record does not leave)"
    except Exception as exc:  # noqa: BLE001 - a condition that cannot be evaluated, a dead end
        sim.error = str(exc)
    return sim


def describe(sim: Simulation) -> list[str]:
    """The simulation as lines for a person."""
    starts = "starts by itself when such a record is created" if sim.starts_on_create else "started by hand"
    lines = [f"flow {sim.flow} on {sim.form} ({starts}):"]
    for n, s in enumerate(sim.steps, 1):
        line = f"{n:3}. {s['node']} ({s['kind']}) {s['label']}"
        if s.get("assignees") is not None:
            mode = f" [{s['mode']}]" if s.get("mode") else ""
            line += f" -> {', '.join(s['assignees']) or 'nobody'}{mode}"
        lines.append(line)
        for e in s.get("edges") or ():
            why = "default" if e["default"] else (e["condition"] or "always")
            lines.append(f"       edge to {e['to']} ({why}){' ' + e['label'] if e['label'] else ''}")
    if sim.error:
        lines.append(f"error: {sim.error}")
    lines.append(f"end: {sim.end or 'not reached'}")
    return lines
