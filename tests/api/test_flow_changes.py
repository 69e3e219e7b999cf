"""Change requests through the API: an approved order's edit opens a change request (202),
its work orders are frozen on every write path and their flow tasks paused, approval applies
the diff as a new version (the rules on the changed fields run again), rejection leaves the
order as it was, a stale base is 409 (SQLite, and PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

import io
from typing import Iterator

import pytest

from engine.errors import Conflict
from engine.store.writer import Writer
from tests.api.change_site import Site, make_site


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    s = make_site(db_url)
    yield s
    s.platform.db.dispose()


def _request(s: Site, order: dict, **values: object) -> dict:
    return dict(
        s.ok("sales1", "PATCH", f"/records/order/{order['id']}", 202, json={"version": order["version"], **values})
    )


def test_an_edit_of_an_approved_order_opens_a_change_request(site: Site) -> None:
    order = site.approved_order()
    assert (order["qty"], order["amount"], order["version"]) == (10, "50.00", 1)
    change = _request(site, order, qty=20, remark="加量")
    assert change["status"] == "pending" and change["base_version"] == 1
    assert change["diff"] == {"qty": [10, 20], "remark": [None, "加量"]}
    assert change["requested_by_name"] == "sales1" and change["flow"] == "approval"
    again = site.get("order", order["id"])
    assert (again["qty"], again["remark"], again["version"]) == (10, None, 1)  # nothing written
    listed = site.ok("sales1", "GET", f"/records/order/{order['id']}/changes")
    assert listed["pending"] == change["id"] and [c["id"] for c in listed["items"]] == [change["id"]]
    assert site.ok("sales1", "GET", f"/changes/{change['id']}")["diff"]["qty"] == [10, 20]
    # the manager's inbox holds its approval task, on the order's instance
    mine = site.inbox.tasks(site.platform.user_context("mgr1"))
    task = next(t for t in mine["items"] if t["kind"] == "change")
    assert task["id"] == change["task_id"] and task["form"] == "order" and task["record_id"] == order["id"]
    view = site.inbox.task(site.platform.user_context("mgr1"), task["id"])
    assert view["actions"] == ["approve", "reject", "comment"] and view["change_request"]["id"] == change["id"]
    # a second edit while it is pending is refused, naming it
    resp = site.api("sales1", "PATCH", f"/records/order/{order['id']}", json={"version": 1, "qty": 30})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["fields"] == {
        "_": [f"order {order['id']} 有待审批的变更申请 #{change['id']}，审批完成前不能修改"]
    }


def test_approval_applies_the_diff_as_a_new_version_and_the_rules_run_again(site: Site) -> None:
    order = site.approved_order()
    wo = site.work_order(order["id"])
    assert wo["need"] == 0
    change = _request(site, order, qty=20)
    refused = site.api("sales1", "POST", f"/changes/{change['id']}/approve")
    assert refused.status_code == 403  # not the approver's
    done = site.ok("mgr1", "POST", f"/changes/{change['id']}/approve", json={"comment": "同意"})
    assert done["status"] == "approved" and done["decided_by_name"] == "mgr1" and done["applied_version"] == 2
    after = site.get("order", order["id"])
    assert (after["qty"], after["amount"], after["version"]) == (20, "100.00", 2)  # rule 金额 ran again
    assert site.get("work_order", wo["id"])["need"] == 40  # rule 物料需求 wrote the unfrozen work order
    again = site.api("mgr1", "POST", f"/changes/{change['id']}/approve")
    assert again.status_code == 409
    # every version stays viewable and diffable
    diff = site.ok("sales1", "GET", f"/records/order/{order['id']}/versions/1/diff/2")
    assert diff["changes"] == {"qty": [10, 20], "amount": ["50.00", "100.00"]}
    assert site.api("sales1", "GET", f"/records/order/{order['id']}/versions/1/diff/9").status_code == 404
    hist = site.ok("sales1", "GET", f"/records/order/{order['id']}/history")
    assert [v["version"] for v in hist["versions"]] == [1, 2]
    assert [a["source"] for a in hist["audit"]] == ["api", "rule", "flow", "rule"]  # the rule amends each version
    actions = [
        e["action"] for e in site.inbox.instance(site.platform.user_context("admin"), "order", order["id"])["history"]
    ]
    assert actions[-2:] == ["change_requested", "change_approved"]
    # unfrozen: the work order is written again, its task is actionable
    site.ok("plan1", "PATCH", f"/records/work_order/{wo['id']}", json={"version": 2, "remark": "ok"})
    task = site.open_task("work_order", wo["id"])
    site.inbox.act(site.platform.user_context("plan1"), task["id"], "submit")


def test_rejection_leaves_the_order_as_it_was_and_unfreezes(site: Site) -> None:
    order = site.approved_order()
    wo = site.work_order(order["id"])
    change = _request(site, order, qty=30, lines=[{"item": "钢板", "qty": 3}])
    assert change["diff"] == {"qty": [10, 30], "lines": [[], [{"item": "钢板", "qty": 3}]]}
    no_comment = site.api("mgr1", "POST", f"/changes/{change['id']}/reject")
    assert no_comment.status_code == 422 and "comment" in no_comment.get_json()["error"]["fields"]
    done = site.ok("mgr1", "POST", f"/changes/{change['id']}/reject", json={"comment": "产能不足"})
    assert done["status"] == "rejected" and done["comment"] == "产能不足" and done["applied_version"] is None
    after = site.get("order", order["id"])
    assert (after["qty"], after["lines"], after["version"]) == (10, [], 1)
    site.ok("plan1", "PATCH", f"/records/work_order/{wo['id']}", json={"version": 1, "remark": "ok"})
    # and the next edit opens a new request
    assert _request(site, after, qty=11)["base_version"] == 1


def test_frozen_work_orders_refuse_every_write_path(site: Site) -> None:
    order = site.approved_order()
    wo = site.work_order(order["id"])
    change = _request(site, order, qty=20)
    cid, oid = change["id"], order["id"]
    zh = f"work_order {wo['id']} 已冻结：order {oid} 的变更申请 #{cid} 正在审批"
    # the API
    resp = site.api("plan1", "PATCH", f"/records/work_order/{wo['id']}", json={"version": 1, "remark": "x"})
    assert resp.status_code == 403 and resp.get_json()["error"]["fields"] == {"_": [zh]}
    en = site.api("plan1", "PATCH", f"/records/work_order/{wo['id']}?lang=en", json={"version": 1, "remark": "x"})
    assert (
        en.get_json()["error"]["message"]
        == f"work_order {wo['id']} is frozen: change request #{cid} of order {oid} is pending"
    )
    assert site.api("plan1", "DELETE", f"/records/work_order/{wo['id']}").status_code == 403
    new = site.api("plan1", "POST", "/records/work_order", json={"code": "WO-2", "order": oid})
    assert new.status_code == 403 and f"#{cid}" in new.get_json()["error"]["fields"]["_"][0]
    # a batch
    batch = site.api(
        "plan1", "POST", "/records/work_order/batch", json={"items": [{"id": wo["id"], "version": 1, "need": 5}]}
    )
    assert batch.status_code == 403 and batch.get_json()["error"]["fields"] == {"items[0]._": [zh]}
    # an import (update by code)
    body = "工单号,需求量\nWO-1,7\n".encode()
    imp = site.api(
        "plan1",
        "POST",
        "/records/work_order/import",
        data={"file": (io.BytesIO(body), "wo.csv"), "key": "code"},
        content_type="multipart/form-data",
    )
    report = imp.get_json()
    assert imp.status_code == 422 and not report["written"], report
    assert [e["message"] for e in report["errors"]] == [zh]
    # a rule's update ... set (a note on the work order)
    note = site.api("plan1", "POST", "/records/note", json={"text": "急", "wo": wo["id"]})
    assert note.status_code == 422 and zh in note.get_json()["error"]["message"]
    assert site.get("work_order", wo["id"])["version"] == 1  # nothing got through
    # after the decision the same note goes through
    site.ok("mgr1", "POST", f"/changes/{cid}/reject", json={"comment": "不改"})
    site.ok("plan1", "POST", "/records/note", 201, json={"text": "急", "wo": wo["id"]})
    assert site.get("work_order", wo["id"])["remark"] == "急"


def test_the_frozen_records_tasks_are_paused(site: Site) -> None:
    order = site.approved_order()
    wo = site.work_order(order["id"])
    task = site.open_task("work_order", wo["id"], "report")
    change = _request(site, order, qty=20)
    plan1 = site.platform.user_context("plan1")
    with pytest.raises(Conflict) as paused:
        site.inbox.act(plan1, task["id"], "submit")
    assert (
        paused.value.text("zh-CN")
        == f"任务 {task['id']} 已暂停：order {order['id']} 的变更申请 #{change['id']} 正在审批"
    )
    site.inbox.act(plan1, task["id"], "comment", comment="等变更")  # a comment is no action
    assert site.open_task("work_order", wo["id"], "report")["id"] == task["id"]
    site.ok("mgr1", "POST", f"/changes/{change['id']}/approve")
    site.inbox.act(plan1, task["id"], "submit")
    assert site.inbox.instance(plan1, "work_order", wo["id"])["status"] == "completed"


def test_a_stale_base_is_refused_with_409(site: Site) -> None:
    order = site.approved_order()
    change = _request(site, order, qty=20)
    p = site.platform
    ctx = p.system_context()
    with p.db.begin() as conn:  # the flow writes the order meanwhile
        p.store().update(conn, ctx, "order", order["id"], {"remark": "流程写入"}, writer=Writer.flow(ctx, "approval"))
    resp = site.api("mgr1", "POST", f"/changes/{change['id']}/approve")
    assert resp.status_code == 409
    assert resp.get_json()["error"]["message"].startswith(
        f"变更申请 #{change['id']} 基于 order {order['id']} 的第 1 版"
    )
    assert site.ok("mgr1", "GET", f"/changes/{change['id']}")["status"] == "pending"  # rolled back
    assert site.get("order", order["id"])["qty"] == 10
    done = site.ok("mgr1", "POST", f"/changes/{change['id']}/reject", json={"comment": "基准已变"})
    assert done["status"] == "rejected"


def test_edits_before_approval_overwrite_as_usual(site: Site) -> None:
    order = site.ok("sales1", "POST", "/records/order", 201, json={"number": "SO-2", "qty": 1, "price": "2.00"})
    after = site.ok("sales1", "PATCH", f"/records/order/{order['id']}", json={"version": 1, "qty": 2})
    assert (after["qty"], after["amount"], after["version"]) == (2, "4.00", 2)
    assert site.ok("sales1", "GET", f"/records/order/{order['id']}/changes") == {"items": [], "pending": None}
