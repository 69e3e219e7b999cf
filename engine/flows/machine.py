"""The pure core of the flow engine: tokens moving through a :class:`FlowSpec` (no SQL, no I/O).

An instance's state is a small JSON-able dict (kept per instance, so it stays small)::

    {"w": {"director": [1, 0]},      # waiting nodes: [approvals needed, approvals got(, votes left)]
     "j": {"join": [1, 2]}}          # joins that some branches reached: [arrived, expected]

``"j"`` is left out when empty. Every method takes a state and returns a :class:`Step`: the
new state (the old one is never changed), the effects to perform in order
(:mod:`engine.flows.effects`) and the instance's end status once it ended. Conditions and
``set`` values are evaluated on ``record`` (the record's values; a ``set`` node's values are
seen by the conditions after it in the same step) with ``ctx``.

``data`` is how conditions follow links (``customer.tier``): the engine's
:class:`~engine.store.access.ConnAccess`. ``count(node)`` tells how many approvers a node resolved to (modes all, quorum, sequence,
chain); without it, the node's ``approvers`` are counted (at least one).

The per-spec tables are built once and kept on the spec: :func:`machine_of`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from engine.context import RunContext
from engine.errors import LowcodeError
from engine.flows.effects import (
    CancelChildren,
    CancelTimer,
    CloseTasks,
    Effect,
    Ended,
    EndStatus,
    Entered,
    Left,
    Notify,
    OpenNext,
    OpenTasks,
    PlaceTimer,
    RunAction,
    SetFields,
    Skipped,
    StartChildren,
)
from engine.flows.model import EdgeSpec, FlowSpec, NodeSpec

State = dict[str, Any]
Count = Callable[[NodeSpec], int]
Data = Any  # a DataAccess (engine.store.access.ConnAccess): links and aggregates in conditions

_HUMAN = frozenset({"approval", "task", "state"})
_WAITS = frozenset({"approval", "task", "state", "timer", "subflow"})


class MachineError(LowcodeError):
    """The flow cannot go on from here (no edge holds, an unknown node or action)."""


@dataclass(slots=True)
class Step:
    state: State
    effects: list[Effect] = field(default_factory=list)
    status: Optional[EndStatus] = None  # set once the instance ended


class Machine:
    """The tables of one flow, and the moves of its tokens."""

    def __init__(self, spec: FlowSpec) -> None:
        self.spec = spec
        self.nodes: Mapping[str, NodeSpec] = spec.nodes
        self.out: dict[str, tuple[EdgeSpec, ...]] = {n: spec.outgoing(n) for n in spec.nodes}
        self.fan_in: dict[str, int] = {n: len(spec.incoming(n)) for n in spec.nodes}
        self.joins: frozenset[str] = frozenset(
            n for n, s in spec.nodes.items() if s.kind in ("parallel", "inclusive") and self.fan_in[n] > 1
        )
        self.join_of: dict[str, Optional[str]] = {
            n: self._matching_join(n) for n, s in spec.nodes.items() if s.kind == "inclusive" and len(self.out[n]) > 1
        }
        status = spec.status_field
        self.sets_state: dict[str, Mapping[str, Any]] = {
            n: {status: s.state} for n, s in spec.nodes.items() if status and s.state is not None
        }
        self.start_id = spec.start.id
        self.ends: frozenset[str] = frozenset(n for n, s in spec.nodes.items() if s.kind == "end")

    # ---------------------------------------------------------------- the moves

    def start(
        self, record: Mapping[str, Any], ctx: RunContext, count: Optional[Count] = None, data: Data = None
    ) -> Step:
        """A new instance: the start node, then on until every token waits or the flow ended."""
        step = Step({"w": {}})
        self._run(step, [self.start_id], record, ctx, count, data)
        return step

    def approve(
        self,
        state: State,
        node: str,
        record: Mapping[str, Any],
        ctx: RunContext,
        count: Optional[Count] = None,
        data: Data = None,
    ) -> Step:
        """One approval at an approval node; the node is left once it has the approvals it needs."""
        step = self._copy(state)
        w = step.state["w"]
        slot = self._waiting(w, node)
        got = slot[1] + 1
        if got < slot[0]:
            w[node] = [slot[0], got, *(s - 1 for s in slot[2:])]  # quorum: one vote less to come
            step.effects.append(OpenNext(node, cancel_open=self.nodes[node].mode == "any"))
            return step
        del w[node]
        step.effects.append(CloseTasks(node))
        self._leave(step, node, None, record, ctx, count, data)
        return step

    def reject(
        self,
        state: State,
        node: str,
        to: Optional[str],
        record: Mapping[str, Any],
        ctx: RunContext,
        count: Optional[Count] = None,
        data: Data = None,
    ) -> Step:
        """A rejection at a human node. In mode quorum it is one vote against: the node is
        rejected only once the approvals left cannot reach the quorum (``Step.effects`` is empty
        while it is not). A rejected node stops every branch, then: ``to`` None ends the instance
        (rejected), ``"start"`` waits for the starter to resubmit, a node id enters that node."""
        step = self._copy(state)
        w = step.state["w"]
        slot = self._waiting(w, node)
        if self.nodes[node].kind == "approval" and self.nodes[node].mode == "quorum" and len(slot) > 2:
            left = slot[2] - 1
            if slot[1] + left >= slot[0]:
                w[node] = [slot[0], slot[1], left]
                return step
        if to is not None and to not in self.nodes:
            raise MachineError(f"{self.spec.name}: no node {to!r} to return to")
        self._stop_all(step)
        if to is None:
            self._end(step, "rejected")
        elif to == self.start_id:
            step.state["w"][to] = [1, 0]
            step.effects.append(Entered(to))
            step.effects.append(OpenTasks(to))
        else:
            self._run(step, [to], record, ctx, count, data)
        return step

    def complete(
        self,
        state: State,
        node: str,
        record: Mapping[str, Any],
        ctx: RunContext,
        action: Optional[str] = None,
        count: Optional[Count] = None,
        data: Data = None,
    ) -> Step:
        """A waiting node is done: a task submitted, a timer fired, the starter resubmitted, a
        subflow child finished (the node is left when the last one did), or, with ``action``,
        a state node's action taken (the edge of that action is followed)."""
        step = self._copy(state)
        w = step.state["w"]
        slot = self._waiting(w, node)
        spec = self.nodes[node]
        if spec.kind == "subflow" and slot[1] + 1 < slot[0]:
            w[node] = [slot[0], slot[1] + 1]
            return step
        if spec.kind == "approval":
            raise MachineError(f"{self.spec.name}: node {node!r} is decided by approve or reject")
        del w[node]
        if spec.kind in _HUMAN:
            step.effects.append(CloseTasks(node))
        self._leave(step, node, action, record, ctx, count, data)
        return step

    def add_approver(self, state: State, node: str) -> Step:
        """One more approval needed at the node (加签 before or after)."""
        step = self._copy(state)
        w = step.state["w"]
        slot = self._waiting(w, node)
        w[node] = [slot[0] + 1, slot[1], *(s + 1 for s in slot[2:])]
        return step

    def end(self, state: State, status: EndStatus) -> Step:
        """Withdraw or cancel: every branch stops, the instance ends with ``status``."""
        step = self._copy(state)
        self._stop_all(step)
        self._end(step, status)
        return step

    def same(self, state: State) -> Step:
        """No move: the state as it is (a step that changed only tasks still bumps the version)."""
        return self._copy(state)

    def waiting(self, state: State) -> tuple[str, ...]:
        return tuple(state["w"])

    # ---------------------------------------------------------------- inside

    def _copy(self, state: State) -> Step:
        new: State = {"w": dict(state["w"])}
        if "j" in state:
            new["j"] = dict(state["j"])
        return Step(new)

    def _waiting(self, w: dict[str, list[int]], node: str) -> list[int]:
        try:
            return w[node]
        except KeyError:
            raise MachineError(f"{self.spec.name}: node {node!r} is not waiting") from None

    def _stop_all(self, step: Step) -> None:
        eff = step.effects
        for node in step.state["w"]:
            kind = self.nodes[node].kind
            if kind == "timer":
                eff.append(CancelTimer(node))
            elif kind == "subflow":
                eff.append(CancelChildren(node))
            else:
                eff.append(CloseTasks(node))
        step.state["w"] = {}
        step.state.pop("j", None)

    def _end(self, step: Step, status: EndStatus) -> None:
        step.effects.append(Ended(status))
        step.status = status

    def _leave(
        self,
        step: Step,
        node: str,
        action: Optional[str],
        record: Mapping[str, Any],
        ctx: RunContext,
        count: Optional[Count],
        data: Data,
    ) -> None:
        step.effects.append(Left(node))
        self._run(step, self._targets(node, action, record, ctx, step, data), record, ctx, count, data)

    def _run(
        self,
        step: Step,
        todo: list[str],
        record: Mapping[str, Any],
        ctx: RunContext,
        count: Optional[Count],
        data: Data,
    ) -> None:
        """Move tokens until each waits, sits at a join, or reached an end."""
        state, eff, nodes = step.state, step.effects, self.nodes
        w: dict[str, list[int]] = state["w"]
        ended = False
        todo.reverse()
        while todo:
            nid = todo.pop()
            if nid in self.joins:
                joins = state.setdefault("j", {})
                arrived, expected = joins.get(nid, (0, self.fan_in[nid]))
                arrived += 1
                if arrived < expected:
                    joins[nid] = [arrived, expected]
                    continue
                joins.pop(nid, None)
                if not joins:
                    del state["j"]
            spec = nodes[nid]
            kind = spec.kind
            eff.append(Entered(nid))
            sets = self.sets_state.get(nid)
            if sets is not None:
                eff.append(SetFields(sets))
            if kind == "end":
                ended = True
                continue
            if kind in _WAITS:
                if self._wait(step, w, spec, record, count):
                    continue
            elif kind == "set":
                values = {f: e.evaluate(record, ctx, data=data) for f, e in spec.set.items()}
                record = {**record, **values}
                eff.append(SetFields(values))
            elif kind == "action":
                eff.append(RunAction(nid))
            elif kind == "cc":
                eff.append(Notify(nid))
            eff.append(Left(nid))
            targets = self._targets(nid, None, record, ctx, step, data)
            todo.extend(reversed(targets))
        if ended and not w and "j" not in state and step.status is None:
            self._end(step, "completed")
        elif not w and step.status is None and "j" in state:
            raise MachineError(f"{self.spec.name}: the branches stopped before joining at {sorted(state['j'])}")
        elif not w and step.status is None and not ended:
            raise MachineError(f"{self.spec.name}: no token is left and no end was reached")

    def _wait(
        self,
        step: Step,
        w: dict[str, list[int]],
        spec: NodeSpec,
        record: Mapping[str, Any],
        count: Optional[Count],
    ) -> bool:
        """Make the node wait; False when it has nothing to wait for (the token passes on)."""
        nid, kind, eff = spec.id, spec.kind, step.effects
        if kind == "approval":
            need, total = self._need(spec, count)
            if need <= 0:
                eff.append(Skipped(nid))
                return False
            w[nid] = [need, 0, total] if spec.mode == "quorum" else [need, 0]
            eff.append(OpenTasks(nid))
        elif kind == "timer":
            until = record.get(spec.wait_until) if spec.wait_until else None
            if spec.wait_seconds is None and until is None:
                return False
            w[nid] = [1, 0]
            eff.append(PlaceTimer(nid, spec.wait_seconds, until))
        elif kind == "subflow":
            sub = spec.subflow
            rows = len(record.get(sub.each) or ()) if sub is not None else 0
            if rows == 0:
                return False
            w[nid] = [rows, 0]
            eff.append(StartChildren(nid, rows))
        else:
            w[nid] = [1, 0]
            eff.append(OpenTasks(nid))
        return True

    def _need(self, spec: NodeSpec, count: Optional[Count]) -> tuple[int, int]:
        """(approvals needed, approvers) of an approval node."""
        mode = spec.mode
        if mode in ("one", "any"):
            return 1, 1
        n = count(spec) if count is not None else max(len(spec.approvers), 1)
        if mode != "quorum":
            return n, n
        q = spec.quorum if spec.quorum is not None else 1.0
        need = math.ceil(q * n - 1e-9) if q < 1 else min(int(q), n)
        return max(need, 1) if n else 0, n

    def _targets(
        self, nid: str, action: Optional[str], record: Mapping[str, Any], ctx: RunContext, step: Step, data: Data
    ) -> list[str]:
        """The nodes the token goes on to from ``nid``."""
        edges = self.out[nid]
        if action is not None:
            for e in edges:
                if e.action == action:
                    return [e.target]
            raise MachineError(f"{self.spec.name}: node {nid!r} has no action {action!r}")
        if len(edges) == 1 and edges[0].condition is None:
            return [edges[0].target]
        kind = self.nodes[nid].kind
        if kind == "parallel":
            return [e.target for e in edges]
        if kind == "inclusive":
            hits = [
                e.target
                for e in edges
                if not e.default and (e.condition is None or e.condition.evaluate(record, ctx, data=data))
            ]
            if not hits:
                hits = [e.target for e in edges if e.default]
            join = self.join_of.get(nid)
            if join is not None and hits:
                step.state.setdefault("j", {})[join] = [0, len(hits)]
            if hits:
                return hits
        else:
            default = None
            for e in edges:
                if e.default:
                    default = e
                elif e.action is None and (e.condition is None or e.condition.evaluate(record, ctx, data=data)):
                    return [e.target]
            if default is not None:
                return [default.target]
        raise MachineError(f"{self.spec.name}: no edge out of {nid!r} holds and there is no default edge")

    def _matching_join(self, split: str) -> Optional[str]:
        """The inclusive join that every branch of ``split`` reaches first (nearest to all)."""
        reach: list[dict[str, int]] = []
        for e in self.out[split]:
            dist = {e.target: 0}
            todo = [e.target]
            while todo:
                cur = todo.pop(0)
                for nxt in self.out.get(cur, ()):
                    if nxt.target not in dist and nxt.target != split:
                        dist[nxt.target] = dist[cur] + 1
                        todo.append(nxt.target)
            reach.append(dist)
        common = [n for n in reach[0] if n in self.joins and all(n in r for r in reach[1:])]
        if not common:
            return None
        return min(common, key=lambda n: max(r[n] for r in reach))


def machine_of(spec: FlowSpec) -> Machine:
    """The machine of ``spec``, built once and kept on it (a spec never changes)."""
    m = spec.__dict__.get("_machine")
    if m is None:
        m = Machine(spec)
        object.__setattr__(spec, "_machine", m)
    return m
