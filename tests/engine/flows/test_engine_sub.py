"""A subflow node (one child instance per sub-table row, outputs copied back when all ended)
and an action node (one rule action, run by the rule engine)."""

from __future__ import annotations

from decimal import Decimal

from .runtime_kit import Flows, clock_fixture, flows_fixture  # noqa: F401  (fixtures)

PARENT = """
name: parent
label: {zh-CN: 总流程, en: Parent}
form: request
start: {on: manual}
nodes:
  - {id: start, kind: start}
  - {id: each, kind: subflow, flow: child, each: parts, outputs: {checked: ok}}
  - {id: stamp, kind: action, do: 'set remark = "全部检验"'}
  - {id: done, kind: end}
edges:
  - {from: start, to: each}
  - {from: each, to: stamp}
  - {from: stamp, to: done}
"""

CHILD = """
name: child
label: {zh-CN: 零件检验, en: Part check}
form: part
start: {on: manual}
nodes:
  - {id: start, kind: start}
  - {id: check, kind: task, assignee: {role: planner}, fields: {editable: [ok]}}
  - {id: done, kind: end}
edges:
  - {from: start, to: check}
  - {from: check, to: done}
"""


def test_one_child_per_row_then_the_action(flows: Flows) -> None:
    flows.publish(parent=PARENT, child=CHILD)
    a = flows.create(form="part", name="甲")
    b = flows.create(form="part", name="乙")
    r = flows.create(title="S", amount=Decimal("1"), parts=[{"part": a["id"]}, {"part": b["id"]}])
    flows.inbox.start(flows.ctx("staff1"), "request", r["id"], "parent")
    assert flows.instance(r["id"])["waiting"] == ["each"]
    mine = flows.inbox.tasks(flows.ctx("plan1"))
    assert mine["counts"] == {"child": 2}
    first, second = sorted(mine["items"], key=lambda t: t["record_id"])
    flows.act("plan1", first["id"], "submit", values={"ok": 1})
    assert flows.instance(r["id"])["waiting"] == ["each"]  # one child is still running
    flows.act("plan1", second["id"], "submit", values={"ok": 1})
    inst = flows.instance(r["id"])
    assert inst["status"] == "completed"
    rec = flows.record(r["id"])
    assert rec["checked"] == 1 and rec["remark"] == "全部检验"
    assert flows.instance(a["id"], form="part")["status"] == "completed"
