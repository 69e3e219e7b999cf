"""A compiled flow: the frozen graph every other part of :mod:`engine.flows` reads.

``flows/<name>.yaml`` is loaded into a :class:`FlowSpec` (``engine.flows.loader``), checked as
a graph (``engine.flows.graph_checks``), kept in the compiled definitions of its revision and
run by ``engine.flows.engine``; nothing here changes after it is built. Expressions are
compiled once, at load, by the one expression language (:class:`~engine.expr.CompiledExpr`),
against the scope of the flow's form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal, Mapping, Optional

from engine.definitions.model import Labels
from engine.errors import Position

EMPTY: Mapping[str, Any] = MappingProxyType({})

NodeKind = Literal[
    "start",
    "end",
    "approval",  # people decide: approve / reject (mode below)
    "task",  # a role fills in named fields, then submits
    "cc",  # notify and show to readers; no action, the token passes on
    "state",  # state-machine mode: wait until one of the outgoing edges' actions is taken
    "exclusive",  # the first edge whose condition holds, else the default edge
    "inclusive",  # every edge whose condition holds (else the default), joined later
    "parallel",  # split: every outgoing edge; join: when every incoming edge arrived
    "timer",  # wait for a duration or until a date field
    "set",  # set fields of the record
    "action",  # run a rule action (the rule DSL's action text)
    "subflow",  # one child instance per sub-table row or linked record
]
HUMAN_KINDS = frozenset({"approval", "task", "state"})
GATEWAY_KINDS = frozenset({"exclusive", "inclusive", "parallel"})

ApprovalMode = Literal["one", "any", "all", "quorum", "sequence", "chain"]
WithdrawPolicy = Literal["never", "before_first_approval", "before_end"]


@dataclass(frozen=True)
class Assignee:
    """Who a human node's tasks go to: exactly one of role, user, expression (an expression
    over the record and ``starter``, giving a user name or id, e.g. ``customer.account_manager``
    or ``starter.department.head``)."""

    role: Optional[str] = None
    user: Optional[str] = None
    expression: Optional[Any] = None  # CompiledExpr; None when the text names ``starter``
    position: Position = field(default_factory=Position, compare=False)
    expression_text: Optional[str] = None  # the expression as written (always kept)


@dataclass(frozen=True)
class Due:
    """When a human node's task is due: an offset from its creation, or a date field of the record."""

    after_seconds: Optional[int] = None
    date_field: Optional[str] = None
    position: Position = field(default_factory=Position, compare=False)


@dataclass(frozen=True)
class Escalation:
    """One step of an escalation chain, ``after_seconds`` past the task's creation: remind the
    assignee, notify someone, reassign, or decide automatically."""

    after_seconds: int
    remind: bool = False
    notify: Optional[Assignee] = None
    reassign: Optional[Assignee] = None
    auto: Optional[Literal["approve", "reject", "return"]] = None
    position: Position = field(default_factory=Position, compare=False)


@dataclass(frozen=True)
class SubmitCheck:
    """A node-level check: the condition must hold to submit (approve) the task."""

    condition: Any  # CompiledExpr (boolean)
    message: Labels
    position: Position = field(default_factory=Position, compare=False)


@dataclass(frozen=True)
class SubflowSpec:
    """One child instance of ``flow`` per row of ``each`` (a sub-table or a multi-link field)."""

    flow: str
    each: str
    inputs: Mapping[str, Any] = field(default_factory=lambda: EMPTY)  # child field -> CompiledExpr over parent
    outputs: Mapping[str, str] = field(default_factory=lambda: EMPTY)  # parent field -> child field


@dataclass(frozen=True)
class NodeSpec:
    id: str
    kind: NodeKind
    label: Labels
    position: Position = field(compare=False)
    at: Optional[tuple[float, float]] = None  # where the builder draws it
    # human nodes
    assignee: Optional[Assignee] = None
    mode: ApprovalMode = "one"
    quorum: Optional[float] = None  # mode quorum: a count (2) or a share (0.6)
    approvers: tuple[Assignee, ...] = ()  # mode sequence: in order; mode all/any/quorum: each listed
    chain_levels: Optional[int] = None  # mode chain: how many department heads up from the starter
    due: Optional[Due] = None
    escalation: tuple[Escalation, ...] = ()
    visible: Optional[frozenset[str]] = None  # fields the assignee sees here (None: as their role)
    editable: frozenset[str] = frozenset()  # fields the assignee may change while the task is open
    checks: tuple[SubmitCheck, ...] = ()
    # state-machine mode: the status value while an instance stands here
    state: Optional[str] = None
    # set / action / timer / subflow
    set: Mapping[str, Any] = field(default_factory=lambda: EMPTY)  # field -> CompiledExpr
    action: Optional[Any] = None  # the compiled rule action (engine.rules)
    action_text: Optional[str] = None
    wait_seconds: Optional[int] = None  # timer: for a duration
    wait_until: Optional[str] = None  # timer: until a date/datetime field of the record
    subflow: Optional[SubflowSpec] = None
    notify: Optional[Assignee] = None  # cc: who is told


@dataclass(frozen=True)
class EdgeSpec:
    source: str
    target: str
    position: Position = field(compare=False)
    condition: Optional[Any] = None  # CompiledExpr (boolean); None: always
    condition_text: Optional[str] = None
    default: bool = False  # a gateway's default edge
    label: Optional[Labels] = None
    #: state-machine mode: the action that takes this edge (a button), and who may take it
    action: Optional[str] = None
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FlowSpec:
    name: str
    label: Labels
    form: str
    file: str  # the pack-relative file it came from (flows/order_approval.yaml)
    position: Position = field(compare=False)
    nodes: Mapping[str, NodeSpec] = field(default_factory=lambda: EMPTY)  # by id, in file order
    edges: tuple[EdgeSpec, ...] = ()
    #: when an instance starts by itself: "create" (a record of the form is created), "manual"
    #: (a user or a rule's ``start flow``)
    start_on: Literal["create", "manual"] = "manual"
    start_if: Optional[Any] = None  # CompiledExpr: start on create only when it holds
    withdraw: WithdrawPolicy = "before_first_approval"
    #: state-machine mode: the status field of the form that only this flow writes
    status_field: Optional[str] = None
    #: change requests: editing a record while an instance runs opens a change request, and
    #: records of these (form, link field) pairs pointing at it are frozen until it is decided
    freezes: tuple[tuple[str, str], ...] = ()

    def outgoing(self, node: str) -> tuple[EdgeSpec, ...]:
        return self._out.get(node, ())

    def incoming(self, node: str) -> tuple[EdgeSpec, ...]:
        return self._in.get(node, ())

    @cached_property
    def _out(self) -> Mapping[str, tuple[EdgeSpec, ...]]:
        return _index(self.edges, "source")

    @cached_property
    def _in(self) -> Mapping[str, tuple[EdgeSpec, ...]]:
        return _index(self.edges, "target")

    @property
    def start(self) -> NodeSpec:
        return next(n for n in self.nodes.values() if n.kind == "start")


def _index(edges: tuple[EdgeSpec, ...], end: str) -> Mapping[str, tuple[EdgeSpec, ...]]:
    by: dict[str, list[EdgeSpec]] = {}
    for e in edges:
        by.setdefault(getattr(e, end), []).append(e)
    return MappingProxyType({k: tuple(v) for k, v in by.items()})
