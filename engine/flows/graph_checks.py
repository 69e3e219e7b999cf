"""A flow's graph checked as a graph (networkx): what would hang, spin or never run.

Each check returns :class:`~engine.flows.texts.FlowError` s placed at the node or edge they are
about: unreachable nodes; nodes from which no end is reachable; nodes other than an end with no
way out; gateways without a default edge; conditions and defaults where no gateway decides;
parallel joins whose inputs do not come from one split (and the exclusive branch into a parallel
join); human nodes without an assignee; state nodes with an edge that no action takes; cycles
with no human node or timer on them; sub-flows naming an unknown flow or its fields.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import networkx as nx

from engine.definitions.model import FormSpec, RoleSpec
from engine.definitions.schema_check import did_you_mean
from engine.errors import DefinitionError
from engine.flows.model import EdgeSpec, FlowSpec, NodeSpec
from engine.flows.texts import flow_error

#: kinds where an instance waits (for a person, a time, children): a cycle through one does not spin
WAITING_KINDS = frozenset({"approval", "task", "state", "timer", "subflow"})
_DECIDING = frozenset({"exclusive", "inclusive"})


def graph_of(flow: FlowSpec) -> nx.MultiDiGraph:
    """The flow as a networkx graph: node ids, one graph edge per flow edge (``edge`` attribute)."""
    g: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    g.add_nodes_from(flow.nodes)
    for e in flow.edges:
        g.add_edge(e.source, e.target, edge=e)
    return g


def check_graphs(
    flows: Iterable[FlowSpec], forms: Mapping[str, FormSpec], roles: Mapping[str, RoleSpec]
) -> list[DefinitionError]:
    """Every graph error of ``flows`` (and between them: sub-flows, status field owners)."""
    flows = list(flows)
    by_name = {f.name: f for f in flows}
    out: list[DefinitionError] = []
    owners: dict[tuple[str, str], str] = {}
    for flow in flows:
        out.extend(check_graph(flow))
        out.extend(_subflows(flow, by_name, forms))
        if flow.status_field:
            key = (flow.form, flow.status_field)
            if key in owners:
                out.append(
                    flow_error(
                        "two_status_owners",
                        flow.position,
                        None,
                        None,
                        form=flow.form,
                        field=flow.status_field,
                        other=owners[key],
                    )
                )
            owners.setdefault(key, flow.name)
    return out


def check_graph(flow: FlowSpec) -> list[DefinitionError]:
    """The graph errors of one flow."""
    starts = [n for n in flow.nodes.values() if n.kind == "start"]
    if len(starts) != 1:
        return []  # reported by the loader; every other check would only echo it
    g = graph_of(flow)
    out: list[DefinitionError] = []
    out += _reachability(flow, g, starts[0])
    out += _branches(flow)
    out += _joins(flow, g, starts[0])
    out += _assignees(flow)
    out += _spinning(flow, g)
    return out


def _reachability(flow: FlowSpec, g: nx.MultiDiGraph, start: NodeSpec) -> list[DefinitionError]:
    out: list[DefinitionError] = []
    reached = nx.descendants(g, start.id) | {start.id}
    ends = [n.id for n in flow.nodes.values() if n.kind == "end"]
    finishing: set[str] = set(ends)
    for end in ends:
        finishing |= nx.ancestors(g, end)
    for node in flow.nodes.values():
        if node.id not in reached:
            out.append(flow_error("unreachable", node.position, None, None, id=node.id))
        elif node.kind != "end" and not flow.outgoing(node.id):
            out.append(flow_error("no_way_out", node.position, None, None, id=node.id))
        elif node.id not in finishing and ends:
            out.append(flow_error("dead_end", node.position, None, None, id=node.id))
    return out


def _branches(flow: FlowSpec) -> list[DefinitionError]:
    """Conditions only where a gateway (or a state's button) decides; each gateway a default."""
    out: list[DefinitionError] = []
    for node in flow.nodes.values():
        edges = flow.outgoing(node.id)
        if node.kind == "end" and edges:
            out.append(flow_error("end_has_out", edges[0].position, None, None, id=node.id))
            continue
        if node.kind == "start" and flow.incoming(node.id):
            out.append(flow_error("into_start", flow.incoming(node.id)[0].position, None, None, id=node.id))
        if node.kind in _DECIDING:
            defaults = [e for e in edges if e.default]
            conditional = [e for e in edges if e.condition_text is not None and not e.default]
            if conditional and not defaults:
                out.append(flow_error("no_default", node.position, None, None, kind=node.kind, id=node.id))
            if len(defaults) > 1:
                out.append(flow_error("two_defaults", defaults[1].position, None, None, id=node.id))
            if len(edges) > 1:
                for e in edges:
                    if e.condition_text is None and not e.default:
                        out.append(
                            flow_error(
                                "unconditional_branch",
                                e.position,
                                "add if: or default: true",
                                None,
                                source=e.source,
                                target=e.target,
                                id=node.id,
                            )
                        )
            continue
        for e in edges:
            if e.default:
                out.append(flow_error("default_not_gateway", e.position))
            elif e.condition_text is not None and node.kind != "state":
                out.append(flow_error("condition_not_gateway", e.position, None, None, kind=node.kind, id=node.id))
        if node.kind not in ("parallel", "state") and node.state is None and len(edges) > 1:
            out.append(flow_error("many_out", node.position, None, None, kind=node.kind, id=node.id, count=len(edges)))
    return out


def _joins(flow: FlowSpec, g: nx.MultiDiGraph, start: NodeSpec) -> list[DefinitionError]:
    """Each parallel join closes one parallel split: every branch of the split arrives on one input."""
    out: list[DefinitionError] = []
    dominators = nx.immediate_dominators(g, start.id)
    for join in flow.nodes.values():
        inputs = flow.incoming(join.id)
        if len(inputs) < 2 or join.id not in dominators:
            continue
        if join.kind not in ("parallel", "inclusive", "end"):
            out += _unsynchronized(flow, g, join, dominators)
            continue
        if join.kind != "parallel":
            continue
        split_id = dominators[join.id]
        split = flow.nodes[split_id]
        if split.kind != "parallel" or len(flow.outgoing(split_id)) < 2:
            out.append(
                flow_error("join_not_split", join.position, None, None, id=join.id, split=split_id, kind=split.kind)
            )
            continue
        out += _branches_meet(flow, g, join, split, inputs)
    return out


def _unsynchronized(
    flow: FlowSpec, g: nx.MultiDiGraph[str], node: NodeSpec, dominators: Mapping[str, str]
) -> list[DefinitionError]:
    """Two branches of one parallel split meeting at a node that is not a join (BPMN's "lack of
    synchronization"): the rest of the flow would run once per branch."""
    split_id = dominators[node.id]
    split = flow.nodes[split_id]
    if split.kind != "parallel" or len(flow.outgoing(split_id)) < 2:
        return []
    inner = g.copy()
    inner.remove_nodes_from([node.id, split_id])
    arriving = 0
    for head in flow.outgoing(split_id):
        if head.target == node.id:
            arriving += 1
            continue
        reach = nx.descendants(inner, head.target) | {head.target} if head.target in inner else set()
        arriving += any(e.source in reach for e in flow.incoming(node.id))
    if arriving < 2:
        return []
    return [
        flow_error(
            "unsynchronized",
            node.position,
            "join the branches with a parallel node first",
            None,
            id=node.id,
            split=split_id,
        )
    ]


def _branches_meet(
    flow: FlowSpec, g: nx.MultiDiGraph, join: NodeSpec, split: NodeSpec, inputs: tuple[EdgeSpec, ...]
) -> list[DefinitionError]:
    inner = g.copy()
    inner.remove_nodes_from([join.id, split.id])
    heads = flow.outgoing(split.id)
    reach: dict[int, set[str]] = {}
    for i, head in enumerate(heads):
        if head.target == join.id:
            reach[i] = {split.id}  # an empty branch: the split's own edge is the input
            continue
        reach[i] = (nx.descendants(inner, head.target) | {head.target}) if head.target in inner else set()
    sources = [e.source for e in inputs]
    for i, head in enumerate(heads):
        arriving = [s for s in sources if s in reach[i]]
        if len(arriving) > 1 and head.target != join.id:
            return [
                flow_error(
                    "join_exclusive",
                    join.position,
                    None,
                    None,
                    id=join.id,
                    a=arriving[0],
                    b=arriving[1],
                    split=split.id,
                )
            ]
        if not arriving:
            return [
                flow_error("join_unmatched", head.position, None, None, branch=head.target, split=split.id, id=join.id)
            ]
    for source in sources:
        if source != split.id and sum(source in r for r in reach.values()) > 1:
            branch = next(heads[i].target for i, r in reach.items() if source in r)
            return [flow_error("join_unmatched", join.position, None, None, branch=branch, split=split.id, id=join.id)]
    if len(sources) != len(heads):
        return [
            flow_error("join_unmatched", join.position, None, None, branch=heads[-1].target, split=split.id, id=join.id)
        ]
    return []


def _assignees(flow: FlowSpec) -> list[DefinitionError]:
    out: list[DefinitionError] = []
    for node in flow.nodes.values():
        if node.kind == "approval":
            has = node.assignee is not None or bool(node.approvers) or node.mode == "chain"
        elif node.kind == "task":
            has = node.assignee is not None
        elif node.kind == "state":
            edges = flow.outgoing(node.id)
            has = node.assignee is not None or any(e.roles for e in edges)
            out += _same_actions(node, edges)
            for e in edges:
                if e.action is None:
                    out.append(
                        flow_error("state_no_action", e.position, "give the edge an action: name", None, id=node.id)
                    )
        else:
            continue
        if not has:
            out.append(
                flow_error("no_assignee", node.position, "add assignee: {role: ...}", None, kind=node.kind, id=node.id)
            )
    return out


def _same_actions(node: NodeSpec, edges: tuple[EdgeSpec, ...]) -> list[DefinitionError]:
    """Each button of a state names one way out."""
    out: list[DefinitionError] = []
    first: dict[str, str] = {}
    for e in edges:
        if e.action is None:
            continue
        if e.action in first:
            out.append(
                flow_error(
                    "same_action",
                    e.position,
                    "give each way out its own action",
                    None,
                    id=node.id,
                    action=e.action,
                    first=first[e.action],
                    target=e.target,
                )
            )
        first.setdefault(e.action, e.target)
    return out


def _spinning(flow: FlowSpec, g: nx.MultiDiGraph) -> list[DefinitionError]:
    """A cycle on which no node waits would run round for ever in one step."""
    fast: nx.DiGraph[str] = nx.DiGraph(
        g.subgraph([n for n, spec in flow.nodes.items() if spec.kind not in WAITING_KINDS])
    )
    out: list[DefinitionError] = []
    for component in nx.strongly_connected_components(fast):
        if len(component) == 1 and not fast.has_edge(*(next(iter(component)),) * 2):
            continue
        cycle = nx.find_cycle(fast.subgraph(component))
        ids = [a for a, _ in cycle] + [cycle[0][0]]
        first = min(ids, key=lambda i: list(flow.nodes).index(i))
        out.append(
            flow_error(
                "spin_cycle",
                flow.nodes[first].position,
                "put an approval, task or timer on it",
                None,
                cycle=" → ".join(ids),
            )
        )
    return out


def _subflows(flow: FlowSpec, flows: Mapping[str, FlowSpec], forms: Mapping[str, FormSpec]) -> list[DefinitionError]:
    out: list[DefinitionError] = []
    for node in flow.nodes.values():
        sub = node.subflow
        if sub is None:
            continue
        child = flows.get(sub.flow)
        if child is None:
            out.append(
                flow_error("unknown_flow", node.position, did_you_mean(sub.flow, list(flows)), None, flow=sub.flow)
            )
            continue
        form = forms.get(child.form)
        names = set(form.field_names) if form is not None else set()
        for name in [*sub.inputs, *sub.outputs.values()]:
            if form is not None and name not in names:
                out.append(
                    flow_error(
                        "unknown_child_field",
                        node.position,
                        did_you_mean(name, names),
                        None,
                        field=name,
                        form=child.form,
                        flow=child.name,
                    )
                )
        if _calls(child.name, flows, {flow.name}):
            out.append(
                flow_error(
                    "subflow_cycle", node.position, None, None, flow=flow.name, cycle=f"{flow.name} → {child.name} → …"
                )
            )
    return out


def _calls(name: str, flows: Mapping[str, FlowSpec], target: set[str], seen: set[str] | None = None) -> bool:
    """Whether flow ``name`` starts one of ``target`` through sub-flows, directly or deeper."""
    seen = seen if seen is not None else set()
    if name in target:
        return True
    if name in seen or name not in flows:
        return False
    seen.add(name)
    return any(
        n.subflow is not None and _calls(n.subflow.flow, flows, target, seen) for n in flows[name].nodes.values()
    )
