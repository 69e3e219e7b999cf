"""The inbox in a real browser (Chromium), on the expense approval pack: a manager approves a
claim from its task page (correcting the note the node lets them edit) and another by batch
from the inbox; the director sends the second back to the manager's node with a comment."""

from __future__ import annotations

import os
import re
from typing import Any, Callable, Iterator

import pytest

pytest.importorskip("playwright")
pytest.importorskip("pytest_playwright")

from playwright.sync_api import Browser, Page, expect  # noqa: E402

from engine.platform import Platform  # noqa: E402
from engine.service import Records  # noqa: E402
from tests.api.flowpack import USERS, approvals_platform  # noqa: E402
from tests.workspace.browsing import CHROMIUM, DESKTOP, signed_in  # noqa: E402
from tests.workspace.conftest import serve  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="apt-get install chromium first")


@pytest.fixture(scope="module")
def approvals_app(database_for: Callable[[str], str]) -> Iterator[tuple[str, Platform, dict[str, int]]]:
    """Two claims by staff1: a small one (manager, then finance) and a large one (manager,
    director, finance); the base URL, the platform, the claims' ids."""
    platform = approvals_platform(database_for("inbox-browser"))
    records = Records(platform)
    ctx = platform.user_context("staff1")
    ids = {
        "small": records.create(ctx, "expense", {"title": "出差北京", "amount": "800.00"})["id"],
        "large": records.create(ctx, "expense", {"title": "采购服务器", "amount": "25000.00"})["id"],
    }
    with serve(platform) as base:
        yield base, platform, ids


def open_nodes(platform: Platform, record: int) -> list[str]:
    """The nodes where the claim's flow waits now, read through the inbox facade."""
    from engine.inbox import Inbox

    found = Inbox(platform).instance(platform.system_context(), "expense", record)
    assert found is not None
    return [t["node"] for t in found["tasks"] if t["status"] == "open"]


def row_of(page: Page, title: str) -> Any:
    return page.locator("table.tasks tbody tr", has_text=title)


def test_approve_from_the_inbox_and_reject_back_to_a_chosen_node(browser: Browser, approvals_app: Any) -> None:
    base, platform, ids = approvals_app
    manager = ("mgr1", USERS["mgr1"][0])
    with signed_in(browser, base, "/w/inbox", *manager, **DESKTOP) as page:
        expect(page.locator("h1")).to_contain_text("我的待办")
        expect(page.locator(".inbox-link .badge")).to_have_text("2")
        expect(page.locator(".flow-counts [data-flow=expense_approval] .badge")).to_have_text("2")
        expect(page.locator("table.tasks tbody tr")).to_have_count(2)
        row_of(page, "出差北京").get_by_role("link").click()
        expect(page.locator("h1")).to_contain_text("经理审批")
        record = page.locator("dl.record")
        expect(record.locator("[data-field=amount] dd")).to_contain_text("800")
        expect(record.locator("[data-field=bank_account]")).to_have_count(0)  # not visible at this node
        expect(page.locator(".task-meta .due")).to_contain_text("还剩")
        expect(page.locator(".flow-graph img")).to_have_attribute("data-path", re.compile("manager"))
        page.fill("#f-note", "发票已核对")
        page.fill("#c-decide", "同意报销")
        with page.expect_navigation():
            page.get_by_role("button", name="同意", exact=True).click()
        expect(page).to_have_url(re.compile(r"/w/inbox\?done=\d+"))
        expect(page.locator(".banner.ok")).to_contain_text("已处理任务")
        expect(page.locator("table.tasks tbody tr")).to_have_count(1)
        batch = page.locator("button.batch-approve")
        expect(batch).to_be_disabled()
        row_of(page, "采购服务器").get_by_role("checkbox").check()
        expect(batch).to_be_enabled()
        with page.expect_navigation():
            batch.click()
        expect(page.locator(".banner[data-approved]")).to_have_attribute("data-approved", "1")
        expect(page.locator(".inbox-link .badge")).to_have_text("0")
    assert open_nodes(platform, ids["small"]) == ["finance"]
    assert open_nodes(platform, ids["large"]) == ["director"]
    stored = Records(platform).get(platform.system_context(), "expense", ids["small"])
    assert stored["note"] == "发票已核对"

    with signed_in(browser, base, "/w/inbox", "dir1", USERS["dir1"][0], **DESKTOP) as page:
        row_of(page, "采购服务器").get_by_role("link").click()
        expect(page.locator("h1")).to_contain_text("总监审批")
        choices = page.locator("#to-node option")
        expect(choices).to_have_text(["发起人 (开始)", "经理审批"])
        page.get_by_role("button", name="退回").click()  # no comment: refused, the page says why
        expect(page.locator(".errors")).to_contain_text("退回时必须填写意见")
        page.select_option("#to-node", "manager")
        page.fill("#c-decide", "预算超了, 请经理重新确认")
        with page.expect_navigation():
            page.get_by_role("button", name="退回").click()
        expect(page.locator(".banner.ok")).to_contain_text("已处理任务")
    assert open_nodes(platform, ids["large"]) == ["manager"]

    with signed_in(browser, base, f"/w/expense/{ids['large']}", "staff1", USERS["staff1"][0], **DESKTOP) as page:
        panel = page.locator("section.flow-panel")
        expect(panel).to_contain_text("报销审批")
        returned = panel.locator("tr[data-action]", has_text="退回")
        expect(returned).to_contain_text("预算超了, 请经理重新确认")
        expect(returned).to_contain_text("总监审批 → 经理审批")
        expect(returned).to_contain_text("dir1")
        expect(panel.locator("button", has_text="撤回")).to_have_count(0)  # approved once: no withdraw
