"""The pure flow machine: each node kind, each approval mode, reject targets, joins."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.context import RunContext
from engine.flows.effects import (
    CloseTasks,
    Ended,
    Entered,
    Notify,
    OpenNext,
    OpenTasks,
    PlaceTimer,
    RunAction,
    SetFields,
    Skipped,
    StartChildren,
)
from engine.flows.machine import MachineError, machine_of
from engine.flows.model import NodeSpec

from .flowspecs import chain, edge, flow, node

CTX = RunContext(user_id=1)


def entered(step) -> list[str]:
    return [e.node for e in step.effects if isinstance(e, Entered)]


def test_one_approval_then_end():
    m = machine_of(chain(("a", "approval")))
    s = m.start({}, CTX)
    assert s.state == {"w": {"a": [1, 0]}}
    assert entered(s) == ["start", "a"] and OpenTasks("a") in s.effects
    s2 = m.approve(s.state, "a", {}, CTX)
    assert s2.status == "completed" and s2.effects[-1] == Ended("completed")
    assert s.state == {"w": {"a": [1, 0]}}  # the old state is untouched


def test_machine_is_memoized_on_the_spec():
    spec = chain(("a", "approval"))
    assert machine_of(spec) is machine_of(spec)


def test_exclusive_first_true_edge_else_default():
    spec = flow(
        [
            node("start", "start"),
            node("route", "exclusive"),
            node("big", "approval"),
            node("vip", "approval"),
            node("small", "approval"),
            node("end", "end"),
        ],
        [
            edge("start", "route"),
            edge("route", "big", "total > 50000"),
            edge("route", "vip", "tier == 'A'"),
            edge("route", "small", default=True),
            edge("big", "end"),
            edge("vip", "end"),
            edge("small", "end"),
        ],
    )
    m = machine_of(spec)
    assert m.start({"total": Decimal(60000), "tier": "A"}, CTX).state["w"] == {"big": [1, 0]}
    assert m.start({"total": Decimal(10), "tier": "A"}, CTX).state["w"] == {"vip": [1, 0]}
    assert m.start({"total": Decimal(10), "tier": "B"}, CTX).state["w"] == {"small": [1, 0]}


def test_exclusive_without_a_holding_edge_raises():
    spec = flow(
        [node("start", "start"), node("route", "exclusive"), node("end", "end")],
        [edge("start", "route"), edge("route", "end", "total > 5")],
    )
    with pytest.raises(MachineError, match="no edge out of 'route'"):
        machine_of(spec).start({"total": Decimal(1)}, CTX)


def test_parallel_split_and_join_fires_once():
    spec = flow(
        [
            node("start", "start"),
            node("split", "parallel"),
            node("a", "approval"),
            node("b", "task"),
            node("join", "parallel"),
            node("end", "end"),
        ],
        [
            edge("start", "split"),
            edge("split", "a"),
            edge("split", "b"),
            edge("a", "join"),
            edge("b", "join"),
            edge("join", "end"),
        ],
    )
    m = machine_of(spec)
    s = m.start({}, CTX)
    assert s.state == {"w": {"a": [1, 0], "b": [1, 0]}}
    s = m.approve(s.state, "a", {}, CTX)
    assert s.state == {"w": {"b": [1, 0]}, "j": {"join": [1, 2]}} and s.status is None
    assert "join" not in entered(s)
    s = m.complete(s.state, "b", {}, CTX)
    assert entered(s) == ["join", "end"] and s.status == "completed" and s.state == {"w": {}}
    with pytest.raises(MachineError, match="not waiting"):
        m.complete(s.state, "b", {}, CTX)


def inclusive_spec():
    return flow(
        [
            node("start", "start"),
            node("split", "inclusive"),
            node("a", "task"),
            node("b", "task"),
            node("c", "task"),
            node("join", "inclusive"),
            node("end", "end"),
        ],
        [
            edge("start", "split"),
            edge("split", "a", "total > 10"),
            edge("split", "b", "tier == 'A'"),
            edge("split", "c", default=True),
            edge("a", "join"),
            edge("b", "join"),
            edge("c", "join"),
            edge("join", "end"),
        ],
    )


def test_inclusive_takes_every_true_edge_and_joins_them():
    m = machine_of(inclusive_spec())
    s = m.start({"total": Decimal(20), "tier": "A"}, CTX)
    assert s.state == {"w": {"a": [1, 0], "b": [1, 0]}, "j": {"join": [0, 2]}}
    s = m.complete(s.state, "b", {}, CTX)
    assert s.status is None and s.state["j"] == {"join": [1, 2]}
    s = m.complete(s.state, "a", {}, CTX)
    assert s.status == "completed"


def test_inclusive_one_edge_and_the_default():
    m = machine_of(inclusive_spec())
    s = m.start({"total": Decimal(20), "tier": "B"}, CTX)
    assert s.state == {"w": {"a": [1, 0]}, "j": {"join": [0, 1]}}
    assert m.complete(s.state, "a", {}, CTX).status == "completed"
    s = m.start({"total": Decimal(1), "tier": "B"}, CTX)
    assert list(s.state["w"]) == ["c"]
    assert m.complete(s.state, "c", {}, CTX).status == "completed"


def test_set_action_cc_pass_through_and_set_values_seen_later():
    spec = flow(
        [
            node("start", "start"),
            node("stamp", "set", set={"total": "total * 2"}),
            node("cc", "cc"),
            node("act", "action", action_text='notify role planner "x"'),
            node("route", "exclusive"),
            node("big", "task"),
            node("end", "end"),
        ],
        [
            edge("start", "stamp"),
            edge("stamp", "cc"),
            edge("cc", "act"),
            edge("act", "route"),
            edge("route", "big", "total > 10"),
            edge("route", "end", default=True),
            edge("big", "end"),
        ],
    )
    s = machine_of(spec).start({"total": Decimal(6)}, CTX)
    assert SetFields({"total": Decimal(12)}) in s.effects
    assert Notify("cc") in s.effects and RunAction("act") in s.effects
    assert s.state == {"w": {"big": [1, 0]}}


def test_timer_waits_for_seconds_or_a_date_field():
    spec = flow(
        [node("start", "start"), node("wait", "timer", wait_seconds=7200), node("end", "end")],
        [edge("start", "wait"), edge("wait", "end")],
    )
    m = machine_of(spec)
    s = m.start({}, CTX)
    assert PlaceTimer("wait", 7200, None) in s.effects and s.state == {"w": {"wait": [1, 0]}}
    assert m.complete(s.state, "wait", {}, CTX).status == "completed"
    until = flow(
        [node("start", "start"), node("wait", "timer", wait_until="ship_date"), node("end", "end")],
        [edge("start", "wait"), edge("wait", "end")],
    )
    s = machine_of(until).start({"ship_date": "2026-02-01"}, CTX)
    assert PlaceTimer("wait", None, "2026-02-01") in s.effects
    assert machine_of(until).start({"ship_date": None}, CTX).status == "completed"  # nothing to wait for


def approvers(n: int):
    return lambda spec: n


@pytest.mark.parametrize(
    "mode,quorum,n,need",
    [
        ("all", None, 3, 3),
        ("quorum", 2.0, 3, 2),
        ("quorum", 0.6, 3, 2),
        ("quorum", 0.6, 5, 3),
        ("sequence", None, 2, 2),
        ("chain", None, 2, 2),
        ("any", None, 4, 1),
    ],
)
def test_approval_modes_need(mode, quorum, n, need):
    spec = chain(("a", "approval"))
    spec = flow(
        [node("start", "start"), node("a", "approval", mode=mode, quorum=quorum), node("end", "end")],
        [edge("start", "a"), edge("a", "end")],
    )
    m = machine_of(spec)
    s = m.start({}, CTX, approvers(n))
    assert s.state["w"]["a"][0] == need
    for _i in range(need - 1):
        s = m.approve(s.state, "a", {}, CTX)
        assert s.status is None and s.effects == [OpenNext("a", cancel_open=False)]
    s = m.approve(s.state, "a", {}, CTX)
    assert s.status == "completed" and s.effects[0] == CloseTasks("a")


def test_any_cancels_the_others_when_more_is_needed_and_no_approvers_skips():
    spec = flow(
        [node("start", "start"), node("a", "approval", mode="any"), node("end", "end")],
        [edge("start", "a"), edge("a", "end")],
    )
    m = machine_of(spec)
    s = m.add_approver(m.start({}, CTX).state, "a")  # 加签 after: one more
    s = m.approve(s.state, "a", {}, CTX)
    assert s.effects == [OpenNext("a", cancel_open=True)]
    assert m.approve(s.state, "a", {}, CTX).status == "completed"
    all_ = flow(
        [node("start", "start"), node("a", "approval", mode="all"), node("end", "end")],
        [edge("start", "a"), edge("a", "end")],
    )
    s = machine_of(all_).start({}, CTX, approvers(0))
    assert Skipped("a") in s.effects and s.status == "completed"


def test_quorum_counts_rejections_until_the_quorum_is_out_of_reach():
    spec = flow(
        [node("start", "start"), node("a", "approval", mode="quorum", quorum=2.0), node("end", "end")],
        [edge("start", "a"), edge("a", "end")],
    )
    m = machine_of(spec)
    s = m.start({}, CTX, approvers(3))
    assert s.state["w"]["a"] == [2, 0, 3]
    s = m.reject(s.state, "a", None, {}, CTX)
    assert s.effects == [] and s.state["w"]["a"] == [2, 0, 2]
    s = m.approve(s.state, "a", {}, CTX)
    s = m.reject(s.state, "a", None, {}, CTX)
    assert s.status == "rejected" and CloseTasks("a") in s.effects


def test_reject_to_end_to_start_and_to_an_earlier_node():
    spec = chain(("a", "task"), ("b", "approval"))
    m = machine_of(spec)
    s = m.complete(m.start({}, CTX).state, "a", {}, CTX)
    assert s.state == {"w": {"b": [1, 0]}}
    assert m.reject(s.state, "b", None, {}, CTX).status == "rejected"
    back = m.reject(s.state, "b", "start", {}, CTX)
    assert back.state == {"w": {"start": [1, 0]}} and OpenTasks("start") in back.effects
    again = m.complete(back.state, "start", {}, CTX)
    assert again.state == {"w": {"a": [1, 0]}}
    to_a = m.reject(s.state, "b", "a", {}, CTX)
    assert to_a.state == {"w": {"a": [1, 0]}} and to_a.effects[0] == CloseTasks("b")
    with pytest.raises(MachineError, match="no node 'zz'"):
        m.reject(s.state, "b", "zz", {}, CTX)


def test_withdraw_stops_every_branch():
    spec = chain(("a", "approval"))
    m = machine_of(spec)
    s = m.end(m.start({}, CTX).state, "withdrawn")
    assert s.status == "withdrawn" and s.effects == [CloseTasks("a"), Ended("withdrawn")] and s.state == {"w": {}}


def test_state_machine_actions_edges_and_status_field():
    nodes = [
        node("start", "start"),
        node("pending", "state", state="待审核"),
        node("scheduled", "state", state="已排产"),
        node("cancelled", "end", state="已取消"),
        node("done", "end", state="已出库"),
    ]
    edges = [
        edge("start", "pending"),
        edge("pending", "scheduled", action="schedule", roles=frozenset({"planner"})),
        edge("pending", "cancelled", action="cancel"),
        edge("scheduled", "done", action="ship"),
    ]
    m = machine_of(flow(nodes, edges, status_field="status"))
    s = m.start({}, CTX)
    assert SetFields({"status": "待审核"}) in s.effects and s.state == {"w": {"pending": [1, 0]}}
    s = m.complete(s.state, "pending", {}, CTX, action="schedule")
    assert SetFields({"status": "已排产"}) in s.effects and list(s.state["w"]) == ["scheduled"]
    with pytest.raises(MachineError, match="no action 'cancel'"):
        m.complete(s.state, "scheduled", {}, CTX, action="cancel")
    s = m.complete(s.state, "scheduled", {}, CTX, action="ship")
    assert s.status == "completed" and SetFields({"status": "已出库"}) in s.effects


def test_subflow_one_child_per_row_and_done_when_all_finished():
    from engine.flows.model import SubflowSpec

    spec = flow(
        [
            node("start", "start"),
            node("lines", "subflow", subflow=SubflowSpec(flow="c", each="lines")),
            node("end", "end"),
        ],
        [edge("start", "lines"), edge("lines", "end")],
    )
    m = machine_of(spec)
    s = m.start({"lines": [{"qty": 1}, {"qty": 2}]}, CTX)
    assert StartChildren("lines", 2) in s.effects
    s = m.complete(s.state, "lines", {}, CTX)
    assert s.status is None and s.state == {"w": {"lines": [2, 1]}}
    assert m.complete(s.state, "lines", {}, CTX).status == "completed"
    assert m.start({"lines": []}, CTX).status == "completed"


def test_approval_cannot_be_completed_and_state_is_small():
    import json

    m = machine_of(chain(("a", "approval")))
    s = m.start({}, CTX)
    with pytest.raises(MachineError, match="approve or reject"):
        m.complete(s.state, "a", {}, CTX)
    assert len(json.dumps(s.state, separators=(",", ":"))) < 40
    assert isinstance(m.nodes["a"], NodeSpec)
