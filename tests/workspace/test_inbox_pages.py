"""The inbox pages through the Flask test client on a real database: the menu's count, the
inbox's counts by flow, a task page drawn with the node's field permissions, an action taken
twice (the second is told someone was first), the record page's flow panel and its withdraw."""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator

import pytest

from apps import create_app
from engine.platform import Platform
from engine.service import Records
from tests.api.flowpack import USERS, approvals_platform
from tests.workspace.conftest import csrf_of


@pytest.fixture
def platform(db_url: str) -> Iterator[Platform]:
    p = approvals_platform(db_url)
    yield p
    p.db.dispose()


@pytest.fixture
def client(platform: Platform) -> Any:
    return create_app({"TESTING": True, "PLATFORM": platform, "SECRET_KEY": "test-secret"}).test_client()


@pytest.fixture
def login(client: Any) -> Callable[[str], str]:
    def do(username: str) -> str:
        client.post("/logout", data={"csrf_token": csrf_of(client.get("/login").text)})
        page = client.get("/login")
        resp = client.post(
            "/login", data={"username": username, "password": USERS[username][0], "csrf_token": csrf_of(page.text)}
        )
        assert resp.status_code == 302, resp.text
        return csrf_of(client.get("/w/").text)

    return do


def claim(platform: Platform, amount: str, title: str) -> int:
    return int(
        Records(platform).create(platform.user_context("staff1"), "expense", {"title": title, "amount": amount})["id"]
    )


def task_id(html: str, title: str) -> int:
    found = re.search(r'<tr data-task="(\d+)"[^>]*>(?:(?!</tr>).)*' + re.escape(title), html, re.S)
    assert found, f"no task row for {title}"
    return int(found[1])


def test_the_inbox_counts_by_flow_and_the_menu_counts_open_tasks(platform, client, login):
    claim(platform, "800.00", "出差北京")
    claim(platform, "25000.00", "采购服务器")
    login("mgr1")
    page = client.get("/w/inbox")
    assert page.status_code == 200
    html = page.text
    assert re.search(r'class="inbox-link"[^>]*>待办 <span class="badge" data-open="2">2</span>', html)
    assert re.search(r'data-flow="expense_approval"><a [^>]*>报销审批 <span class="badge">2</span>', html)
    assert html.count('<tr data-task="') == 2 and "经理审批" in html
    english = client.get("/w/inbox?lang=en").text
    assert "My tasks" in english and "Manager approval" in english and "Approve selected" in english
    login("fin1")
    assert 'data-open="0"' in client.get("/w/inbox").text


def test_the_task_page_draws_the_nodes_field_permissions(platform, client, login):
    record = claim(platform, "800.00", "出差北京")
    Records(platform).update(
        platform.system_context(), "expense", record, {"bank_account": "6222 0000 1111"}, version=1
    )
    login("mgr1")
    tid = task_id(client.get("/w/inbox").text, "出差北京")
    html = client.get(f"/w/tasks/{tid}").text
    assert 'data-field="amount"' in html and "6222 0000 1111" not in html  # bank_account: not visible here
    assert re.search(r'<input type="text" [^>]*name="note"', html)  # editable here
    assert not re.search(r'<input [^>]*name="amount"', html)  # read only here
    assert '<option value="start">发起人 (开始)</option>' in html  # reject: back to the start at least
    assert "还剩 2天" in html  # due 48h after creation, at the fixed clock
    assert f"/w/flows/expense_approval/graph.svg?record={record}" in html


def test_an_action_taken_twice_says_someone_was_first(platform, client, login):
    record = claim(platform, "800.00", "出差北京")
    csrf = login("mgr1")
    tid = task_id(client.get("/w/inbox").text, "出差北京")
    no_comment = client.post(f"/w/tasks/{tid}/reject", data={"csrf_token": csrf, "to_node": "start"})
    assert no_comment.status_code == 422 and "退回时必须填写意见" in no_comment.text
    done = client.post(f"/w/tasks/{tid}/approve", data={"csrf_token": csrf, "note": "已核对", "comment": "同意"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/w/inbox?done={tid}")
    assert Records(platform).get(platform.system_context(), "expense", record)["note"] == "已核对"
    csrf = login("mgr2")
    again = client.post(f"/w/tasks/{tid}/approve", data={"csrf_token": csrf})
    assert again.status_code == 409 and 'role="alert"' in again.text
    login("staff2")
    assert client.get(f"/w/tasks/{tid}").status_code == 403


def test_the_record_page_shows_the_flow_and_the_starter_withdraws(platform, client, login):
    record = claim(platform, "300.00", "打印纸")
    csrf = login("staff1")
    html = client.get(f"/w/expense/{record}").text
    assert 'class="flow-panel card"' in html and "报销审批" in html and "经理审批" in html
    assert f'action="/w/expense/{record}/flow/withdraw"' in html
    svg = client.get(f"/w/flows/expense_approval/graph.svg?record={record}")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    resp = client.post(f"/w/expense/{record}/flow/withdraw", data={"csrf_token": csrf, "comment": "不需要了"})
    assert resp.status_code == 302
    html = client.get(resp.headers["Location"]).text
    assert 'data-status="withdrawn"' in html and "不需要了" in html
    assert "/flow/withdraw" not in html


def test_a_delegated_task_shows_both_names(platform, client, login):
    from engine.security import delegation

    record = claim(platform, "800.00", "出差北京")
    with platform.db.begin() as conn:
        ids = {u.username: u.id for u in platform.users.all(conn)}
        delegation.add_delegation(
            conn,
            {"from_id": ids["dir1"], "to_id": ids["mgr2"], "starts_at": "2026-11-01", "ends_at": "2026-11-30"},
            now=platform.clock.now(),
            created_by="test",
            timezone="Asia/Shanghai",
        )
    csrf = login("mgr1")
    tid = task_id(client.get("/w/inbox").text, "出差北京")
    moved = client.post(f"/w/tasks/{tid}/transfer", data={"csrf_token": csrf, "to_user": "dir1"})
    assert moved.status_code == 302, moved.text
    login("mgr2")
    html = client.get("/w/inbox").text
    assert re.search(r"<td>mgr2 \(代 dir1\)</td>", html), html
    assert record == task_record_id(platform, tid)


def task_record_id(platform: Platform, tid: int) -> int:
    from engine.inbox import Inbox

    return int(Inbox(platform).task(platform.system_context(), tid)["record_id"])
