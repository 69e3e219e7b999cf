"""Build FlowSpecs in tests without the YAML loader: nodes and edges as short tuples."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Optional

from engine.definitions.model import Labels
from engine.errors import Position
from engine.expr import compile_expression
from engine.expr.scope import FieldInfo, Scope
from engine.expr.types import ExprType
from engine.flows.model import Assignee, EdgeSpec, FlowSpec, NodeSpec

SCOPE = Scope(
    "order",
    {
        "total": FieldInfo("total", ExprType.DECIMAL),
        "tier": FieldInfo("tier", ExprType.STRING),
        "discount": FieldInfo("discount", ExprType.DECIMAL),
        "lines": FieldInfo("lines", ExprType.TABLE),
        "approved_at": FieldInfo("approved_at", ExprType.DATETIME),
        "ship_date": FieldInfo("ship_date", ExprType.DATE),
    },
)


def expr(text: str) -> Any:
    return compile_expression(text, SCOPE)


def node(nid: str, kind: str, **kw: Any) -> NodeSpec:
    if kind in ("approval", "task") and "assignee" not in kw:
        kw["assignee"] = Assignee(role="manager")
    if "set" in kw:
        kw["set"] = MappingProxyType({k: expr(v) for k, v in kw["set"].items()})
    return NodeSpec(id=nid, kind=kind, label=Labels(default=nid), position=Position(), **kw)  # type: ignore[arg-type]


def edge(source: str, target: str, cond: Optional[str] = None, **kw: Any) -> EdgeSpec:
    return EdgeSpec(
        source=source,
        target=target,
        position=Position(),
        condition=expr(cond) if cond else None,
        condition_text=cond,
        **kw,
    )


def flow(nodes: list[NodeSpec], edges: list[EdgeSpec], **kw: Any) -> FlowSpec:
    return FlowSpec(
        name=kw.pop("name", "f"),
        label=Labels(default="f"),
        form="order",
        file="flows/f.yaml",
        position=Position(),
        nodes=MappingProxyType({n.id: n for n in nodes}),
        edges=tuple(edges),
        **kw,
    )


def chain(*specs: tuple[str, str]) -> FlowSpec:
    """start -> each (id, kind) in order -> end."""
    nodes = [node("start", "start"), *(node(i, k) for i, k in specs), node("end", "end")]
    ids = [n.id for n in nodes]
    return flow(nodes, [edge(a, b) for a, b in zip(ids, ids[1:])])
