"""Approval modes on a real database (all, quorum by count and share, sequence, any), adding
an approver before and after, each approver counted once; parallel split and join with a
set node and a cc node; a rule's ``start flow`` and ``on flow ... enter`` rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine.errors import Conflict

from .runtime_kit import Flows, clock_fixture, flows_fixture  # noqa: F401  (fixtures)
from .yaml_flows import MODES, PARALLEL


def modes(flows: Flows, mode: str, extra: str = "") -> dict:
    flows.publish(modes=MODES.replace("{mode}", mode).replace("{extra}", extra))
    r = flows.create(title="M", amount=Decimal("1"))
    flows.inbox.start(flows.ctx("staff1"), "request", r["id"], "modes")
    return r


def test_all_needs_every_manager_and_counts_each_once(flows: Flows) -> None:
    r = modes(flows, "all")
    tasks = flows.open_tasks(r["id"], "vote")
    assert sorted(t["assignee_name"] for t in tasks) == ["mgr1", "mgr2", "mgr3"]
    mine = next(t for t in tasks if t["assignee_name"] == "mgr1")
    flows.act("mgr1", mine["id"], "approve")
    with pytest.raises(Conflict):
        flows.act("mgr1", mine["id"], "approve")  # the same approver twice: counted once
    assert flows.instance(r["id"])["status"] == "running"
    for t in tasks:
        if t["assignee_name"] != "mgr1":
            flows.act(t["assignee_name"], t["id"], "approve")
    assert flows.instance(r["id"])["status"] == "completed"


@pytest.mark.parametrize("quorum", ["2", '"60%"'])
def test_quorum_of_three(flows: Flows, quorum: str) -> None:
    r = modes(flows, "quorum", f"    quorum: {quorum}")
    tasks = {t["assignee_name"]: t for t in flows.open_tasks(r["id"], "vote")}
    flows.act("mgr1", tasks["mgr1"]["id"], "reject", comment="不同意")
    assert flows.instance(r["id"])["status"] == "running"  # two can still approve
    flows.act("mgr2", tasks["mgr2"]["id"], "approve")
    flows.act("mgr3", tasks["mgr3"]["id"], "approve")
    inst = flows.instance(r["id"])
    assert inst["status"] == "completed" and inst["tasks"] == []


def test_quorum_out_of_reach_rejects(flows: Flows) -> None:
    r = modes(flows, "quorum", "    quorum: 2")
    tasks = {t["assignee_name"]: t for t in flows.open_tasks(r["id"], "vote")}
    flows.act("mgr1", tasks["mgr1"]["id"], "reject", comment="否")
    flows.act("mgr2", tasks["mgr2"]["id"], "reject", comment="否")
    assert flows.instance(r["id"])["status"] == "rejected"


def test_sequence_in_order_and_add_approver_before_and_after(flows: Flows) -> None:
    r = modes(flows, "sequence", "    approvers: [{user: mgr1}, {user: mgr2}]")
    first = flows.task_of(r["id"], "vote")
    assert first["assignee_name"] == "mgr1"
    assert [t["status"] for t in flows.instance(r["id"])["tasks"]] == ["open", "waiting"]
    flows.act("mgr1", first["id"], "add_approver", to_user="dir1", where="before", comment="请总监先看")
    assert flows.task_of(r["id"], "vote")["assignee_name"] == "dir1"
    flows.act("dir1", flows.task_of(r["id"], "vote")["id"], "approve")
    assert flows.task_of(r["id"], "vote")["assignee_name"] == "mgr1"  # back to mgr1
    flows.act("mgr1", first["id"], "add_approver", to_user="fin1", where="after")
    flows.act("mgr1", first["id"], "approve")
    assert flows.task_of(r["id"], "vote")["assignee_name"] == "fin1"
    flows.act("fin1", flows.task_of(r["id"], "vote")["id"], "approve")
    assert flows.task_of(r["id"], "vote")["assignee_name"] == "mgr2"
    flows.act("mgr2", flows.task_of(r["id"], "vote")["id"], "approve")
    inst = flows.instance(r["id"])
    assert inst["status"] == "completed"
    assert [e["action"] for e in inst["history"]].count("added_approver") == 2


def test_any_first_approval_decides(flows: Flows) -> None:
    r = modes(flows, "any")
    tasks = flows.open_tasks(r["id"], "vote")
    assert len(tasks) == 3
    flows.act("mgr2", next(t["id"] for t in tasks if t["assignee_name"] == "mgr2"), "approve")
    assert flows.instance(r["id"])["status"] == "completed"


def test_parallel_join_fires_once_then_set_and_cc(flows: Flows) -> None:
    flows.publish(parallel=PARALLEL)
    r = flows.create(title="P", amount=Decimal("1"))
    flows.inbox.start(flows.ctx("staff1"), "request", r["id"], "parallel")
    assert sorted(flows.instance(r["id"])["waiting"]) == ["check_a", "check_b"]
    flows.act("mgr1", flows.task_of(r["id"], "check_a")["id"], "submit")
    inst = flows.instance(r["id"])
    assert inst["waiting"] == ["check_b"] and "join" not in inst["path"]
    flows.act("fin1", flows.task_of(r["id"], "check_b")["id"], "submit")
    inst = flows.instance(r["id"])
    assert inst["status"] == "completed"
    assert [a for a, n in flows.history(r["id"]) if n == "join"] == ["entered"]  # once
    rec = flows.record(r["id"])
    assert rec["remark"] == "joined" and rec["approved_at"] is not None
    with flows.platform.db.connect() as conn:
        notes = conn.execute(sa.text("SELECT payload FROM lc_outbox WHERE kind = 'notify'")).all()
    assert len(notes) == 1 and "plan1" in str(notes[0][0])


def test_a_rule_starts_a_flow_and_a_rule_runs_when_it_enters_a_node(flows: Flows) -> None:
    rules = (
        'on request\nrule "开始" when created if amount > 100 then start flow modes\n'
        'rule "进入" when flow modes enter vote then set remark = "投票中"\n'
    )
    files = {"rules/flow.rules": rules}
    from engine.definitions.loader import read_pack_files

    from .runtime_kit import PACK

    all_files = read_pack_files(PACK)
    all_files["flows/modes.yaml"] = MODES.replace("{mode}", "one").replace("{extra}", "")
    all_files.update(files)
    flows.platform.publish(PACK, all_files)
    r = flows.create(title="R", amount=Decimal("500"))
    inst = flows.instance(r["id"])
    assert inst["flow"] == "modes" and inst["waiting"] == ["vote"]
    assert flows.record(r["id"])["remark"] == "投票中"
