"""flows/*.yaml -> FlowSpec: what the loader builds, and what it refuses, at file:line:col."""

from __future__ import annotations

from engine.definitions import load_pack
from engine.expr import CompiledExpr
from engine.flows.durations import format_duration, parse_duration
from engine.flows.texts import FlowError
from engine.runtime import compile_definitions
from tests.engine.flows.conftest import OMS, FlowErrors, lines, load_with

SIMPLE = """
name: t
form: sales_order
nodes:
  - {id: start, kind: start}
  - {id: ok, kind: approval, assignee: {role: manager}}
  - {id: done, kind: end}
edges:
  - {from: start, to: ok}
  - {from: ok, to: done}
"""


def test_oms_flows_compile_once_with_the_definitions() -> None:
    defs = compile_definitions([load_pack(OMS)])
    assert sorted(defs.flows) == ["order_approval", "order_lifecycle"]
    assert [f.name for f in defs.flows_of("sales_order")] == ["order_approval", "order_lifecycle"]
    assert defs.flows_of("customer") == ()
    flow = defs.flows["order_approval"]
    assert flow.file == "flows/order_approval.yaml" and flow.start_on == "create"
    assert str(flow.position).endswith("definitions/oms/flows/order_approval.yaml:3:1")
    assert isinstance(flow.start_if, CompiledExpr) and flow.start_if.source == "total > 0"
    route = [e for e in flow.outgoing("route")]
    assert [(e.target, e.condition_text, e.default) for e in route] == [
        ("director", "total > 50000", False),
        ("vip", 'customer.tier == "A"', False),
        ("finance", "total > customer.credit_limit", False),
        ("manager", None, True),
    ]
    assert route[0].label is not None and route[0].label.get("zh-CN") == "金额超过 5 万"
    assert route[0].label.get("en") == "over 50,000"
    director = flow.nodes["director"]
    assert director.assignee is not None and director.assignee.role == "director"
    assert director.due is not None and director.due.after_seconds == 48 * 3600
    assert [(s.after_seconds, s.remind) for s in director.escalation] == [(86400, True), (172800, False)]
    assert director.escalation[1].notify is not None and director.escalation[1].notify.role == "admin"
    assert director.editable == frozenset({"remark"}) and director.visible is not None and "margin" in director.visible
    assert director.label.get("zh-CN") == "总监审批" and director.label.get("en") == "Director approval"
    assert director.at == (360.0, 60.0)
    life = defs.flows["order_lifecycle"]
    assert life.status_field == "status" and life.start_on == "manual" and life.withdraw == "never"
    assert [n.state for n in life.nodes.values()] == [
        *[None, "pending", "scheduled", "in_production", "inspected", "dispatched", "in_transit", "delivered"],
        *["settled", "cancelled"],
    ]
    pending = life.outgoing("pending")
    assert [(e.action, sorted(e.roles)) for e in pending] == [
        ("schedule", ["manager"]),
        ("cancel", ["manager", "sales"]),
    ]


def test_every_kind_builds() -> None:
    pack = load_with(
        {
            "kinds": """
            name: kinds
            label: {zh-CN: 全部节点, en: Every kind}
            form: sales_order
            start: {on: manual}
            withdraw: before_end
            nodes:
              - {id: start, kind: start}
              - {id: stamp, kind: set, set: {remark: "'checked'", due_date: "today()", cost: 0}}
              - {id: tell, kind: cc, notify: {expr: "customer.contact"}}
              - {id: wait, kind: timer, wait: 1d12h}
              - {id: until, kind: timer, wait: {until: due_date}}
              - {id: note, kind: action, do: 'notify role manager "订单 {number}"'}
              - {id: split, kind: parallel}
              - id: board
                kind: approval
                mode: quorum
                quorum: "60%"
                approvers: [{role: manager}, {role: director}, {user: wang}]
                checks: [{if: "total >= 0", message: {zh-CN: 金额不能为负, en: No negative total}}]
              - {id: heads, kind: approval, mode: chain, chain: 2, due: {field: due_date}}
              - {id: join, kind: parallel}
              - {id: fill, kind: task, assignee: {expr: "starter.department.head"}, fields: {editable: [remark, lines.spec]}}
              - {id: done, kind: end}
            edges:
              - {from: start, to: stamp}
              - {from: stamp, to: tell}
              - {from: tell, to: wait}
              - {from: wait, to: until}
              - {from: until, to: note}
              - {from: note, to: split}
              - {from: split, to: board}
              - {from: split, to: heads}
              - {from: board, to: join}
              - {from: heads, to: join}
              - {from: join, to: fill}
              - {from: fill, to: done}
            """
        }
    )
    defs = compile_definitions([pack])
    flow = defs.flows["kinds"]
    n = flow.nodes
    assert flow.freezes == () and flow.withdraw == "before_end"
    assert {k: v.source for k, v in n["stamp"].set.items()} == {
        "remark": "'checked'",
        "due_date": "today()",
        "cost": "0",
    }
    assert n["tell"].notify is not None and n["tell"].notify.expression_text == "customer.contact"
    assert isinstance(n["tell"].notify.expression, CompiledExpr)
    assert n["wait"].wait_seconds == 36 * 3600 and n["until"].wait_until == "due_date"
    assert n["note"].action is not None and n["note"].action.kind == "notify"
    assert n["note"].action_text == 'notify role manager "订单 {number}"'
    assert n["board"].mode == "quorum" and n["board"].quorum == 0.6
    assert [(a.role, a.user) for a in n["board"].approvers] == [("manager", None), ("director", None), (None, "wang")]
    assert n["board"].checks[0].message.get("en") == "No negative total"
    assert n["heads"].chain_levels == 2 and n["heads"].due is not None and n["heads"].due.date_field == "due_date"
    fill = n["fill"].assignee
    assert fill is not None and fill.expression is None and fill.expression_text == "starter.department.head"
    assert n["fill"].editable == frozenset({"remark", "lines.spec"})


def errors_text(errors: FlowErrors, text: str, **more: str) -> list[str]:
    return lines(errors(text, **more))


def test_unknown_form_field_role_with_did_you_mean(flow_errors: FlowErrors) -> None:
    bad = SIMPLE.replace("form: sales_order", "form: sales_ordr").replace("role: manager", "role: manger")
    assert errors_text(flow_errors, bad) == [
        "oms/flows/t.yaml:2:7: unknown form 'sales_ordr' (did you mean 'sales_order'?)",
    ]
    bad = SIMPLE.replace("role: manager", "role: manger").replace(
        "{from: start, to: ok}", '{from: start, to: ok, if: "totl > 0"}'
    )
    found = errors_text(flow_errors, bad)
    assert "oms/flows/t.yaml:5:47: unknown role 'manger' (did you mean 'manager'?)" in found
    assert any(e.startswith("oms/flows/t.yaml:8:32: unknown field 'totl'") for e in found), found


def test_users_are_not_checked_at_load(flow_errors: FlowErrors) -> None:
    assert flow_errors(SIMPLE.replace("{role: manager}", "{user: nobody_yet}")) == []


def test_node_ids_edges_and_starts(flow_errors: FlowErrors) -> None:
    bad = SIMPLE.replace("  - {id: done, kind: end}", "  - {id: ok, kind: end}\n  - {id: done, kind: end}").replace(
        "{from: ok, to: done}", "{from: ok, to: dnoe}"
    )
    assert errors_text(flow_errors, bad) == [
        "oms/flows/t.yaml:6:10: node id 'ok' is used twice (first on line 5)",
        "oms/flows/t.yaml:10:20: unknown node 'dnoe' (did you mean 'done'?)",
    ]
    two = SIMPLE.replace("  - {id: done, kind: end}", "  - {id: again, kind: start}\n  - {id: done, kind: end}")
    assert errors_text(flow_errors, two) == [
        "oms/flows/t.yaml:6:23: the flow has more than one start node ('start' and 'again')"
    ]
    none = SIMPLE.replace("{id: start, kind: start}", "{id: start, kind: task, assignee: {role: sales}}")
    assert errors_text(flow_errors, none) == ["oms/flows/t.yaml:4:3: the flow has no start node"]


def test_keys_checked_by_the_schema_and_by_kind(flow_errors: FlowErrors) -> None:
    bad = SIMPLE.replace("assignee: {role: manager}}", "asignee: {role: manager}, due: 2 days}")
    assert errors_text(flow_errors, bad) == [
        "oms/flows/t.yaml:5:30: unknown property 'asignee' (did you mean 'assignee'?)",
        "oms/flows/t.yaml:5:61: '2 days' is not a due time: give a duration (48h) or {field: due_date}",
    ]
    bad = SIMPLE.replace("{id: done, kind: end}", "{id: done, kind: end, wait: 2h}")
    assert errors_text(flow_errors, bad) == ["oms/flows/t.yaml:6:27: 'wait' does not apply to end nodes"]
    bad = SIMPLE.replace("{id: done, kind: end}", "{id: done, kind: timer}")
    assert "oms/flows/t.yaml:6:22: timer nodes need 'wait'" in errors_text(flow_errors, bad)


def test_name_must_be_the_file_stem_and_on_is_a_key(flow_errors: FlowErrors) -> None:
    text = SIMPLE.replace("name: t", "name: other\nstart: {on: create, if: total}")
    assert errors_text(flow_errors, text) == [
        "oms/flows/t.yaml:1:7: the flow's name 'other' must be its file name 't'",
        "oms/flows/t.yaml:2:25: expected a boolean expression, got decimal",
    ]


def test_state_values_are_options_of_the_status_field(flow_errors: FlowErrors) -> None:
    text = (
        SIMPLE.replace("form: sales_order", "form: sales_order\nstatus_field: status")
        .replace(
            "{id: ok, kind: approval, assignee: {role: manager}}",
            "{id: ok, kind: approval, assignee: {role: manager}, state: 待审核}",
        )
        .replace("{id: done, kind: end}", "{id: done, kind: end, state: setled}")
    )
    assert errors_text(flow_errors, text) == [
        "oms/flows/t.yaml:6:64: '待审核' is not an option of sales_order.status "
        "(did you mean 'pending' (the value of that label)?)",
        "oms/flows/t.yaml:7:34: 'setled' is not an option of sales_order.status (did you mean 'settled'?)",
    ]
    no_field = SIMPLE.replace("{id: done, kind: end}", "{id: done, kind: end, state: settled}")
    assert errors_text(flow_errors, no_field) == [
        "oms/flows/t.yaml:6:27: 'state' needs the flow's status_field (state-machine mode)"
    ]
    not_select = SIMPLE.replace("form: sales_order", "form: sales_order\nstatus_field: remark")
    assert errors_text(flow_errors, not_select) == [
        "oms/flows/t.yaml:3:15: status_field 'remark' must be a select field of sales_order"
    ]


def test_errors_read_in_chinese(flow_errors: FlowErrors) -> None:
    (err,) = flow_errors(SIMPLE.replace("role: manager", "role: boss"))
    assert isinstance(err, FlowError)
    assert err.text("zh-CN") == "未知角色 'boss'" and err.text("en") == "unknown role 'boss'"


def test_durations() -> None:
    assert [parse_duration(t) for t in ("30m", "2h", "3d", "1d12h", "1w", "45s", "2h30m")] == [
        1800,
        7200,
        259200,
        129600,
        604800,
        45,
        9000,
    ]
    assert [parse_duration(t) for t in ("", "2", "h", "2x", "0m", "1h2d", "2 h")] == [None] * 7
    assert [format_duration(s) for s in (1800, 129600, 604800, 864000, 0)] == ["30m", "1d12h", "1w", "10d", "0s"]


def test_freezes_name_a_link_to_the_flows_form(flow_errors: FlowErrors) -> None:
    text = SIMPLE.replace("form: sales_order", "form: customer\nfreezes: [{form: sales_order, link: customr}]")
    assert errors_text(flow_errors, text) == [
        "oms/flows/t.yaml:3:37: unknown field 'customr' in sales_order (did you mean 'customer'?)"
    ]
    text = SIMPLE.replace("form: sales_order", "form: customer\nfreezes: [{form: sales_order, link: remark}]")
    assert errors_text(flow_errors, text) == [
        "oms/flows/t.yaml:3:37: 'remark' of sales_order is not a link to customer"
    ]
    text = SIMPLE.replace("form: sales_order", "form: customer\nfreezes: [{form: sales_order, link: customer}]")
    assert flow_errors(text) == []
