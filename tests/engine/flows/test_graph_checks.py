"""The graph checks: one bad flow per check, asserting the message and the place (file:line:col)."""

from __future__ import annotations

from engine.flows.texts import FlowError
from tests.engine.flows.conftest import FlowErrors, lines

HEAD = ["name: t", "form: sales_order"]


def flow(nodes: list[str], edges: list[str], head: tuple[str, ...] = (), form: str = "sales_order") -> str:
    """A flow file with one node / edge per line: node i stands on line at(i), edge j on line edge_at(j)."""
    body = [
        "name: t",
        f"form: {form}",
        *head,
        "nodes:",
        *(f"  - {{{n}}}" for n in nodes),
        "edges:",
        *(f"  - {{{e}}}" for e in edges),
    ]
    return "\n".join(body) + "\n"


def at(i: int, head: tuple[str, ...] = ()) -> str:
    return f"oms/flows/t.yaml:{len(HEAD) + len(head) + 2 + i}:5"


def edge_at(j: int, nodes: int, head: tuple[str, ...] = ()) -> str:
    return f"oms/flows/t.yaml:{len(HEAD) + len(head) + 3 + nodes + j}:5"


START, END = "id: start, kind: start", "id: done, kind: end"
MGR = "kind: approval, assignee: {role: manager}"


def test_a_clean_flow_has_no_error(flow_errors: FlowErrors) -> None:
    assert flow_errors(flow([START, f"id: a, {MGR}", END], ["from: start, to: a", "from: a, to: done"])) == []


def test_unreachable_node(flow_errors: FlowErrors) -> None:
    nodes = [START, f"id: a, {MGR}", f"id: lost, {MGR}", END]
    text = flow(nodes, ["from: start, to: a", "from: a, to: done", "from: lost, to: done"])
    assert lines(flow_errors(text)) == [f"{at(2)}: node 'lost' cannot be reached from the start"]


def test_no_end_reachable(flow_errors: FlowErrors) -> None:
    nodes = [START, f"id: a, {MGR}", f"id: b, {MGR}", END]
    text = flow(nodes, ["from: start, to: a", "from: a, to: b", "from: b, to: a"])
    assert lines(flow_errors(text)) == [
        f"{at(0)}: no end can be reached from node 'start'",
        f"{at(1)}: no end can be reached from node 'a'",
        f"{at(2)}: no end can be reached from node 'b'",
        f"{at(3)}: node 'done' cannot be reached from the start",
    ]
    assert flow_errors(text)[1].text("zh-CN") == "从节点 'a' 无法到达任何结束节点"


def test_a_node_without_a_way_out(flow_errors: FlowErrors) -> None:
    nodes = [START, "id: x, kind: exclusive", f"id: a, {MGR}", f"id: stuck, {MGR}", END]
    edges = [
        "from: start, to: x",
        'from: x, to: a, if: "total > 0"',
        "from: x, to: stuck, default: true",
        "from: a, to: done",
    ]
    assert lines(flow_errors(flow(nodes, edges))) == [
        f"{at(3)}: node 'stuck' has no outgoing edge (only an end node may stop)"
    ]


def test_gateway_without_default(flow_errors: FlowErrors) -> None:
    for kind in ("exclusive", "inclusive"):
        nodes = [START, f"id: x, kind: {kind}", f"id: a, {MGR}", f"id: b, {MGR}", END]
        edges = [
            "from: start, to: x",
            'from: x, to: a, if: "total > 50000"',
            'from: x, to: b, if: "total <= 50000"',
            "from: a, to: done",
            "from: b, to: done",
        ]
        (err,) = flow_errors(flow(nodes, edges))
        assert str(err).split("\n")[0] == (
            f"{at(1)}: {kind} gateway 'x' has conditional edges but no default edge (default: true)"
        )
        assert isinstance(err, FlowError) and err.text("zh-CN").startswith(f"{kind} 网关 'x' 有条件边但没有默认边")


def test_two_defaults_and_a_branch_with_neither(flow_errors: FlowErrors) -> None:
    nodes = [START, "id: x, kind: exclusive", f"id: a, {MGR}", f"id: b, {MGR}", f"id: c, {MGR}", END]
    edges = [
        "from: start, to: x",
        "from: x, to: a, default: true",
        "from: x, to: b, default: true",
        "from: x, to: c",
        "from: a, to: done",
        "from: b, to: done",
        "from: c, to: done",
    ]
    assert lines(flow_errors(flow(nodes, edges))) == [
        f"{edge_at(2, 6)}: gateway 'x' has more than one default edge",
        f"{edge_at(3, 6)}: edge x → c of gateway 'x' has neither a condition nor default: true "
        "(add if: or default: true)",
    ]


def test_conditions_and_defaults_only_out_of_gateways(flow_errors: FlowErrors) -> None:
    nodes = [START, f"id: a, {MGR}", END]
    edges = ["from: start, to: a", 'from: a, to: done, if: "total > 0"']
    assert lines(flow_errors(flow(nodes, edges))) == [
        f"{edge_at(1, 3)}: an edge out of approval node 'a' cannot have a condition: put an exclusive or "
        "inclusive gateway before the branches"
    ]
    edges = ["from: start, to: a", "from: a, to: done, default: true"]
    assert lines(flow_errors(flow(nodes, edges))) == [
        f"{edge_at(1, 3)}: only an edge out of an exclusive or inclusive gateway can be the default"
    ]


def test_edges_out_of_an_end_or_into_the_start(flow_errors: FlowErrors) -> None:
    nodes = [START, f"id: a, {MGR}", END, "id: after, kind: end"]
    edges = ["from: start, to: a", "from: a, to: done", "from: done, to: after"]
    assert lines(flow_errors(flow(nodes, edges))) == [
        f"{edge_at(2, 4)}: end node 'done' has an outgoing edge: an instance stops at an end"
    ]
    nodes = [START, "id: x, kind: exclusive", f"id: a, {MGR}", END]
    edges = [
        "from: start, to: a",
        "from: a, to: x",
        'from: x, to: start, if: "total > 0"',
        "from: x, to: done, default: true",
    ]
    assert lines(flow_errors(flow(nodes, edges))) == [
        f"{edge_at(2, 4)}: an edge leads into start node 'start': to go back to the start, reject to it instead"
    ]


def test_a_branch_without_a_gateway(flow_errors: FlowErrors) -> None:
    nodes = [START, f"id: a, {MGR}", f"id: b, {MGR}", END]
    edges = ["from: start, to: a", "from: a, to: b", "from: a, to: done", "from: b, to: done"]
    assert lines(flow_errors(flow(nodes, edges))) == [
        f"{at(1)}: approval node 'a' has 2 outgoing edges: branch with a gateway (exclusive, inclusive or parallel)"
    ]


def test_exclusive_branches_into_a_parallel_join(flow_errors: FlowErrors) -> None:
    nodes = [START, "id: x, kind: exclusive", f"id: a, {MGR}", f"id: b, {MGR}", "id: j, kind: parallel", END]
    edges = [
        "from: start, to: x",
        'from: x, to: a, if: "total > 0"',
        "from: x, to: b, default: true",
        "from: a, to: j",
        "from: b, to: j",
        "from: j, to: done",
    ]
    assert lines(flow_errors(flow(nodes, edges))) == [
        f"{at(4)}: parallel join 'j' joins branches that do not come from one parallel split (they meet after "
        "exclusive node 'x'): it would wait forever"
    ]


def test_alternatives_on_one_branch_of_a_split_into_its_join(flow_errors: FlowErrors) -> None:
    nodes = [
        START,
        "id: p, kind: parallel",
        f"id: a, {MGR}",
        "id: x, kind: exclusive",
        f"id: b, {MGR}",
        f"id: c, {MGR}",
        "id: j, kind: parallel",
        END,
    ]
    edges = [
        "from: start, to: p",
        "from: p, to: a",
        "from: p, to: x",
        'from: x, to: b, if: "total > 0"',
        "from: x, to: c, default: true",
        "from: a, to: j",
        "from: b, to: j",
        "from: c, to: j",
        "from: j, to: done",
    ]
    assert lines(flow_errors(flow(nodes, edges))) == [
        f"{at(6)}: parallel join 'j' waits for both 'b' and 'c', but they are alternatives on one branch of "
        "split 'p' (an exclusive branch into a parallel join): it would wait forever"
    ]


def test_a_branch_of_a_split_that_never_joins(flow_errors: FlowErrors) -> None:
    nodes = [START, "id: p, kind: parallel", f"id: a, {MGR}", f"id: b, {MGR}", f"id: c, {MGR}"]
    nodes += ["id: j, kind: parallel", END]
    edges = ["from: start, to: p", "from: p, to: a", "from: p, to: b", "from: p, to: c"]
    edges += ["from: a, to: j", "from: b, to: j", "from: c, to: done", "from: j, to: done"]
    assert lines(flow_errors(flow(nodes, edges))) == [
        f"{edge_at(3, 7)}: branch 'c' of parallel split 'p' does not arrive at join 'j' on an input of its own"
    ]


def test_parallel_branches_meeting_without_a_join(flow_errors: FlowErrors) -> None:
    nodes = [START, "id: p, kind: parallel", f"id: a, {MGR}", f"id: b, {MGR}", f"id: m, {MGR}", END]
    edges = ["from: start, to: p", "from: p, to: a", "from: p, to: b", "from: a, to: m", "from: b, to: m"]
    edges.append("from: m, to: done")
    assert lines(flow_errors(flow(nodes, edges))) == [
        f"{at(4)}: node 'm' is reached by parallel branches of split 'p' without a parallel join: what follows "
        "would run once per branch (join the branches with a parallel node first)"
    ]
    # an exclusive choice merging again is fine, and so is a loop back into a branch
    nodes[1] = "id: p, kind: exclusive"
    edges[1] = 'from: p, to: a, if: "total > 0"'
    edges[2] = "from: p, to: b, default: true"
    assert flow_errors(flow(nodes, edges)) == []


def test_human_nodes_without_assignee(flow_errors: FlowErrors) -> None:
    nodes = [START, "id: a, kind: approval", "id: t, kind: task", f"id: ok, {MGR}", END]
    edges = ["from: start, to: a", "from: a, to: t", "from: t, to: ok", "from: ok, to: done"]
    assert lines(flow_errors(flow(nodes, edges))) == [
        f"{at(1)}: approval node 'a' has no assignee (add assignee: {{role: ...}})",
        f"{at(2)}: task node 't' has no assignee (add assignee: {{role: ...}})",
    ]
    # a state node's edges may name the roles instead
    head = ("status_field: tier",)
    nodes = [START, "id: wait, kind: state, state: A", "id: s2, kind: state, state: B", END]
    edges = [
        "from: start, to: wait",
        "from: wait, to: s2, action: go, roles: [manager]",
        "from: s2, to: done, action: end",
    ]
    assert lines(flow_errors(flow(nodes, edges, head, "customer"))) == [
        f"{at(2, head)}: state node 's2' has no assignee (add assignee: {{role: ...}})"
    ]


def test_a_state_edge_without_an_action(flow_errors: FlowErrors) -> None:
    head = ("status_field: tier",)
    nodes = [START, "id: wait, kind: state, state: A, assignee: {role: manager}", END]
    edges = ["from: start, to: wait", "from: wait, to: done"]
    assert lines(flow_errors(flow(nodes, edges, head, "customer"))) == [
        f"{edge_at(1, 3, head)}: state node 'wait' has an edge without an action: each way out of a state is a "
        "button (give the edge an action: name)"
    ]


def test_two_buttons_of_one_state_with_one_action(flow_errors: FlowErrors) -> None:
    head = ("status_field: tier",)
    nodes = [START, "id: wait, kind: state, state: A, assignee: {role: manager}", "id: other, kind: end", END]
    edges = ["from: start, to: wait", "from: wait, to: done, action: finish", "from: wait, to: other, action: finish"]
    assert lines(flow_errors(flow(nodes, edges, head, "customer"))) == [
        f"{edge_at(2, 4, head)}: node 'wait' has two edges with action 'finish' (to 'done' and to 'other') "
        "(give each way out its own action)"
    ]


def test_a_state_with_no_way_out(flow_errors: FlowErrors) -> None:
    head = ("status_field: tier",)
    nodes = [START, "id: wait, kind: state, state: A, assignee: {role: manager}"]
    nodes += ["id: stuck, kind: state, state: B, assignee: {role: manager}", END]
    edges = ["from: start, to: wait", "from: wait, to: done, action: finish", "from: wait, to: stuck, action: hold"]
    assert lines(flow_errors(flow(nodes, edges, head, "customer"))) == [
        f"{at(2, head)}: node 'stuck' has no outgoing edge (only an end node may stop)"
    ]


def test_a_cycle_without_a_waiting_node_spins(flow_errors: FlowErrors) -> None:
    nodes = [START, "id: x, kind: exclusive", "id: bump, kind: set, set: {cost: 'cost + 1'}", END]
    edges = [
        "from: start, to: x",
        'from: x, to: bump, if: "cost < 10"',
        "from: bump, to: x",
        "from: x, to: done, default: true",
    ]
    (err,) = flow_errors(flow(nodes, edges))
    assert str(err).split("\n")[0] == (
        f"{at(1)}: the cycle x → bump → x has no human node or timer on it: it would spin "
        "(put an approval, task or timer on it)"
    )
    assert err.text("zh-CN") == "环 x → bump → x 上没有人工节点或定时器，会无限循环"
    # the same loop through a timer waits each time round: fine
    nodes[2] = "id: bump, kind: timer, wait: 1h"
    assert flow_errors(flow(nodes, edges)) == []


def test_unknown_fields_in_set_visible_editable_and_mappings(flow_errors: FlowErrors) -> None:
    nodes = [
        START,
        "id: s, kind: set, set: {remrk: \"'x'\"}",
        f"id: a, {MGR}, fields: {{visible: [totl], editable: [lines.qtty]}}",
        END,
    ]
    edges = ["from: start, to: s", "from: s, to: a", "from: a, to: done"]
    assert lines(flow_errors(flow(nodes, edges))) == [
        "oms/flows/t.yaml:5:30: unknown field 'remrk' in sales_order (did you mean 'remark'?)",
        "oms/flows/t.yaml:6:75: unknown field 'totl' in sales_order (did you mean 'total'?)",
        "oms/flows/t.yaml:6:93: unknown field 'qtty' in sales_order.lines (did you mean 'qty'?)",
    ]


def test_set_values_by_field_type(flow_errors: FlowErrors) -> None:
    nodes = [START, "id: s, kind: set, set: {due_date: \"'soon'\"}", END]
    errors = lines(flow_errors(flow(nodes, ["from: start, to: s", "from: s, to: done"])))
    assert len(errors) == 1 and errors[0] == "oms/flows/t.yaml:5:41: expected a date expression, got string", errors


def test_subflow_names_a_flow_and_its_fields(flow_errors: FlowErrors) -> None:
    child = "\n".join(
        [
            "name: line_check",
            "form: product",
            "nodes: [{id: start, kind: start}, {id: ok, kind: task, assignee: {role: warehouse}}, {id: done, kind: end}]",
            "edges: [{from: start, to: ok}, {from: ok, to: done}]",
        ]
    )
    sub = "id: lines, kind: subflow, flow: {flow}, each: lines, inputs: {{{inp}: qty}}, outputs: {{remark: name}}"
    nodes = [START, sub.format(flow="line_chek", inp="stock"), END]
    edges = ["from: start, to: lines", "from: lines, to: done"]
    assert lines(flow_errors(flow(nodes, edges), line_check=child)) == [
        f"{at(1)}: unknown flow 'line_chek' (did you mean 'line_check'?)"
    ]
    nodes[1] = sub.format(flow="line_check", inp="stok")
    assert lines(flow_errors(flow(nodes, edges), line_check=child)) == [
        f"{at(1)}: unknown field 'stok' in product (the form of sub-flow 'line_check') (did you mean 'stock'?)"
    ]
    nodes[1] = sub.format(flow="line_check", inp="stock")
    assert flow_errors(flow(nodes, edges), line_check=child) == []
    nodes[1] = sub.format(flow="t", inp="stock").replace("each: lines", "each: remark")
    assert lines(flow_errors(flow(nodes, edges))) == [
        "oms/flows/t.yaml:5:47: each: 'remark' must be a sub-table or a link field of sales_order"
    ]


def test_a_subflow_that_starts_its_parent(flow_errors: FlowErrors) -> None:
    sub = "id: again, kind: subflow, flow: t, each: customer"
    text = flow([START, sub, END], ["from: start, to: again", "from: again, to: done"])
    assert lines(flow_errors(text)) == [f"{at(1)}: flow 't' starts itself through sub-flows (t → t → …)"]


def test_two_flows_cannot_own_one_status_field(flow_errors: FlowErrors) -> None:
    head = ("status_field: status",)
    nodes = [START, "id: wait, kind: state, state: pending, assignee: {role: manager}", END]
    text = flow(nodes, ["from: start, to: wait", "from: wait, to: done, action: finish"], head)
    assert lines(flow_errors(text)) == [
        "oms/flows/t.yaml:1:1: sales_order.status is already the status field of flow 'order_lifecycle'"
    ]
