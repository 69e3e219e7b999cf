"""The workspace's edit of a record under a flow's change control: nothing is written, the
record page says a change request was opened and names it (SQLite, and PostgreSQL with
DATABASE_URL)."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.api.change_site import Site, make_site
from tests.workspace.conftest import csrf_of


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    s = make_site(db_url)
    yield s
    s.platform.db.dispose()


def _login(site: Site, username: str) -> None:
    page = site.client.get("/login")
    resp = site.client.post(
        "/login", data={"username": username, "password": username + "-pw", "csrf_token": csrf_of(page.text)}
    )
    assert resp.status_code == 302, resp.text


def test_an_edit_that_opens_a_change_request_says_so_and_writes_nothing(site: Site) -> None:
    order = site.approved_order()
    _login(site, "sales1")
    edit = site.client.get(f"/w/order/{order['id']}/edit")
    assert edit.status_code == 200
    resp = site.client.post(
        f"/w/order/{order['id']}/edit",
        data={"csrf_token": csrf_of(edit.text), "version": str(order["version"]), "remark": "加急"},
    )
    assert resp.status_code == 302, resp.text
    change = site.ok("sales1", "GET", f"/records/order/{order['id']}/changes")["items"][0]
    assert resp.headers["Location"].endswith(f"/w/order/{order['id']}?change={change['id']}")
    assert change["status"] == "pending" and change["diff"]["remark"] == [None, "加急"]
    page = site.client.get(resp.headers["Location"], headers={"Accept-Language": "zh-CN"})
    assert f"已提交变更申请 #{change['id']}，审批通过后生效" in page.text
    assert "已保存" not in page.text
    assert site.get("order", order["id"])["remark"] is None  # nothing written before approval


def test_an_ordinary_edit_still_says_saved(site: Site) -> None:
    order = site.ok("sales1", "POST", "/records/order", 201, json={"number": "SO-2", "qty": 1, "price": "2.00"})
    _login(site, "sales1")
    edit = site.client.get(f"/w/order/{order['id']}/edit")
    resp = site.client.post(
        f"/w/order/{order['id']}/edit",
        data={"csrf_token": csrf_of(edit.text), "version": str(order["version"]), "remark": "普通"},
    )
    assert resp.status_code == 302, resp.text
    assert resp.headers["Location"].endswith("saved=1")
    assert site.get("order", order["id"])["remark"] == "普通"
