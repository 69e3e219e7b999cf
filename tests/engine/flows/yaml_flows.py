"""The flows the engine tests publish (YAML, as a pack holds them)."""

from __future__ import annotations

APPROVAL = """
name: approval
label: {zh-CN: 审批, en: Approval}
form: request
start: {on: create, if: "amount > 0"}
withdraw: before_first_approval
nodes:
  - {id: start, kind: start}
  - {id: route, kind: exclusive}
  - id: director
    kind: approval
    label: {zh-CN: 总监审批, en: Director approval}
    assignee: {role: director}
  - id: manager
    kind: approval
    label: {zh-CN: 经理审批, en: Manager approval}
    assignee: {role: manager}
    fields: {visible: [title, amount, discount], editable: [discount, remark]}
    checks: [{if: "discount <= 0.2", message: {zh-CN: 折扣不能超过两成, en: Discount at most 20%}}]
  - id: finance
    kind: task
    label: {zh-CN: 财务确认, en: Finance confirms}
    assignee: {role: finance}
    fields: {editable: [remark]}
  - {id: done, kind: end}
edges:
  - {from: start, to: route}
  - {from: route, to: director, if: "amount > 50000"}
  - {from: route, to: manager, default: true}
  - {from: director, to: finance}
  - {from: manager, to: finance}
  - {from: finance, to: done}
"""

MODES = """
name: modes
label: {zh-CN: 会签, en: Modes}
form: request
start: {on: manual}
withdraw: before_end
nodes:
  - {id: start, kind: start}
  - id: vote
    kind: approval
    assignee: {role: manager}
    mode: {mode}
{extra}
  - {id: done, kind: end}
edges:
  - {from: start, to: vote}
  - {from: vote, to: done}
"""

PARALLEL = """
name: parallel
label: {zh-CN: 并行, en: Parallel}
form: request
start: {on: manual}
nodes:
  - {id: start, kind: start}
  - {id: split, kind: parallel}
  - {id: check_a, kind: task, assignee: {role: manager}}
  - {id: check_b, kind: task, assignee: {role: finance}}
  - {id: join, kind: parallel}
  - {id: stamp, kind: set, set: {approved_at: "now()", remark: "'joined'"}}
  - {id: tell, kind: cc, notify: {role: planner}}
  - {id: done, kind: end}
edges:
  - {from: start, to: split}
  - {from: split, to: check_a}
  - {from: split, to: check_b}
  - {from: check_a, to: join}
  - {from: check_b, to: join}
  - {from: join, to: stamp}
  - {from: stamp, to: tell}
  - {from: tell, to: done}
"""

LIFECYCLE = """
name: lifecycle
label: {zh-CN: 订单生命周期, en: Lifecycle}
form: request
start: {on: create}
status_field: status
withdraw: never
nodes:
  - {id: start, kind: start}
  - {id: pending, kind: state, state: 待审核}
  - {id: scheduled, kind: state, state: 已排产}
  - {id: cancelled, kind: end, state: 已取消}
  - {id: shipped, kind: end, state: 已出库}
edges:
  - {from: start, to: pending}
  - {from: pending, to: scheduled, action: schedule, label: {zh-CN: 排产}, roles: [planner]}
  - {from: pending, to: cancelled, action: cancel, label: {zh-CN: 取消}}
  - {from: scheduled, to: shipped, action: ship, label: {zh-CN: 出库}, roles: [planner]}
"""
