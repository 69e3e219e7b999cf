"""The flow engine on a real database: start on create, gateways, approve / reject (to the
end, the start, an earlier node), node field permissions and checks, conflicts (409), inbox
and history, withdraw, revision pinning (SQLite, and PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.errors import Conflict, PermissionDenied, ValidationError

from .runtime_kit import Flows, clock_fixture, flows_fixture  # noqa: F401  (fixtures)
from .yaml_flows import APPROVAL


@pytest.fixture
def approval(flows: Flows) -> Flows:
    flows.publish(approval=APPROVAL)
    return flows


def test_a_created_record_starts_the_flow_and_the_manager_approves(approval: Flows) -> None:
    r = approval.create(title="笔记本", amount=Decimal("1200"))
    inst = approval.instance(r["id"])
    assert inst["status"] == "running" and inst["waiting"] == ["manager"] and inst["starter_name"] == "staff1"
    assert inst["path"] == ["start", "route", "manager"]
    task = approval.task_of(r["id"], "manager")
    assert task["assignee_role"] == "manager" and task["assignee_id"] is None
    inbox = approval.inbox.tasks(approval.ctx("mgr1"))
    assert [t["id"] for t in inbox["items"]] == [task["id"]] and inbox["counts"] == {"approval": 1}
    assert approval.inbox.tasks(approval.ctx("dir1"))["total"] == 0
    after = approval.act("mgr1", task["id"], "approve", comment="同意")
    assert after["status"] == "done" and after["outcome"] == "approved" and after["acted_by_name"] == "mgr1"
    fin = approval.task_of(r["id"], "finance")
    approval.act("fin1", fin["id"], "submit", values={"remark": "已付"})
    inst = approval.instance(r["id"])
    assert inst["status"] == "completed" and inst["ended_at"] is not None
    assert approval.record(r["id"])["remark"] == "已付"
    hist = approval.history(r["id"])
    assert hist[0] == ("started", None) and ("approved", "manager") in hist and hist[-1] == ("ended", None)
    done = approval.inbox.tasks(approval.ctx("mgr1"), status="done")
    assert done["total"] == 1


def test_start_if_and_the_exclusive_gateway(approval: Flows) -> None:
    none = approval.create(title="零", amount=Decimal("0"))
    assert approval.inbox.instance(approval.ctx("admin"), "request", none["id"]) is None
    big = approval.create(title="大", amount=Decimal("60000"))
    assert approval.instance(big["id"])["waiting"] == ["director"]


def test_the_second_actor_gets_a_conflict_and_others_are_refused(approval: Flows) -> None:
    r = approval.create(title="A", amount=Decimal("10"))
    task = approval.task_of(r["id"], "manager")
    with pytest.raises(PermissionDenied):
        approval.act("fin1", task["id"], "approve")
    approval.act("mgr1", task["id"], "approve")
    with pytest.raises(Conflict) as exc:
        approval.act("mgr2", task["id"], "approve")
    assert "已被处理" in exc.value.text("zh-CN")


def test_node_fields_and_checks(approval: Flows) -> None:
    r = approval.create(title="A", amount=Decimal("10"))
    task = approval.task_of(r["id"], "manager")
    view = approval.inbox.task(approval.ctx("mgr1"), task["id"])
    assert view["editable"] == ["discount", "remark"] and view["visible"] == ["amount", "discount", "title"]
    assert "approve" in view["actions"] and view["instance"]["path"][-1] == "manager"
    with pytest.raises(ValidationError) as bad:
        approval.act("mgr1", task["id"], "approve", values={"amount": 1})
    assert list(bad.value.fields) == ["amount"]
    with pytest.raises(ValidationError) as failed:
        approval.act("mgr1", task["id"], "approve", values={"discount": Decimal("0.5")})
    assert failed.value.fields == {"_task": ["折扣不能超过两成"]}
    assert approval.record(r["id"])["discount"] == "0.0000"  # the refused step wrote nothing
    approval.act("mgr1", task["id"], "approve", values={"discount": "0.1"})
    assert approval.record(r["id"])["discount"] == "0.1000"


def test_reject_needs_a_comment_and_ends_rejected(approval: Flows) -> None:
    r = approval.create(title="A", amount=Decimal("10"))
    task = approval.task_of(r["id"], "manager")
    with pytest.raises(ValidationError) as exc:
        approval.act("mgr1", task["id"], "reject")
    assert exc.value.fields == {"comment": ["退回必须填写意见"]}
    approval.act("mgr1", task["id"], "reject", comment="预算不足")
    inst = approval.instance(r["id"])
    assert inst["status"] == "rejected" and inst["tasks"] == []
    assert ("rejected", "manager") in approval.history(r["id"])


def test_reject_to_the_start_and_the_starter_resubmits(approval: Flows) -> None:
    r = approval.create(title="A", amount=Decimal("10"))
    task = approval.task_of(r["id"], "manager")
    approval.act("mgr1", task["id"], "reject", comment="补充材料", to_node="start")
    back = approval.task_of(r["id"], "start")
    assert back["assignee_id"] == approval.ctx("staff1").user_id and back["kind"] == "start"
    approval.act("staff1", back["id"], "submit", comment="已补充")
    assert approval.instance(r["id"])["waiting"] == ["manager"]


def test_reject_back_to_a_chosen_earlier_node(approval: Flows) -> None:
    r = approval.create(title="A", amount=Decimal("10"))
    approval.act("mgr1", approval.task_of(r["id"], "manager")["id"], "approve")
    fin = approval.task_of(r["id"], "finance")
    with pytest.raises(ValidationError) as bad:
        approval.act("fin1", fin["id"], "reject", comment="重审", to_node="director")
    assert "director" in bad.value.fields["to_node"][0]
    approval.act("fin1", fin["id"], "reject", comment="重审", to_node="manager")
    inst = approval.instance(r["id"])
    assert inst["waiting"] == ["manager"]
    returned = [e for e in inst["history"] if e["action"] == "returned"]
    assert returned[0]["from_node"] == "finance" and returned[0]["to_node"] == "manager"


def test_transfer_and_comment_with_attachments(approval: Flows) -> None:
    r = approval.create(title="A", amount=Decimal("10"))
    task = approval.task_of(r["id"], "manager")
    approval.act("mgr1", task["id"], "comment", comment="看附件", attachments=[7, 8])
    approval.act("mgr1", task["id"], "transfer", to_user="mgr2", comment="请你处理")
    moved = approval.task_of(r["id"], "manager")
    assert moved["assignee_id"] == approval.ctx("mgr2").user_id and moved["assignee_name"] == "mgr2"
    with pytest.raises(PermissionDenied):
        approval.act("mgr1", task["id"], "approve")
    approval.act("mgr2", task["id"], "approve")
    events = {e["action"]: e for e in approval.instance(r["id"])["history"]}
    assert events["commented"]["attachments"] == [7, 8] and events["transferred"]["changes"] == {"to": "mgr2"}


def test_withdraw_before_the_first_approval_only(approval: Flows) -> None:
    r = approval.create(title="A", amount=Decimal("10"))
    with pytest.raises(PermissionDenied):
        approval.inbox.withdraw(approval.ctx("staff2"), "request", r["id"])
    out = approval.inbox.withdraw(approval.ctx("staff1"), "request", r["id"], "不要了")
    assert out["status"] == "withdrawn" and out["tasks"] == []
    r2 = approval.create(title="B", amount=Decimal("10"))
    approval.act("mgr1", approval.task_of(r2["id"], "manager")["id"], "approve")
    with pytest.raises(PermissionDenied) as exc:
        approval.inbox.withdraw(approval.ctx("staff1"), "request", r2["id"])
    assert "已有人审批" in exc.value.text("zh-CN")


def test_a_running_instance_stays_on_its_revision(approval: Flows) -> None:
    r = approval.create(title="A", amount=Decimal("10"))
    pinned = approval.instance(r["id"])["revision"]
    approval.publish(approval=APPROVAL.replace("{from: manager, to: finance}", "{from: manager, to: done}"))
    approval.act("mgr1", approval.task_of(r["id"], "manager")["id"], "approve")
    assert approval.instance(r["id"])["waiting"] == ["finance"]  # the old graph
    r2 = approval.create(title="B", amount=Decimal("10"))
    assert approval.instance(r2["id"])["revision"] == pinned + 1
    approval.act("mgr1", approval.task_of(r2["id"], "manager")["id"], "approve")
    assert approval.instance(r2["id"])["status"] == "completed"  # the new one
