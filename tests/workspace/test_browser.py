"""The generated forms in a real browser: Debian's Chromium driven by pytest-playwright.

Chromium comes from ``apt-get install chromium`` (``playwright install`` cannot download here);
the launch arguments below point Playwright at it. The app is served by werkzeug in a thread.
Waits are on responses and navigations, never sleeps.
"""
from __future__ import annotations

import os
import re
from typing import Any, Iterator

import pytest

pytest.importorskip("playwright")
pytest.importorskip("pytest_playwright")

from playwright.sync_api import Browser, Page, expect  # noqa: E402

from tests.workspace.conftest import OMS, SHOP, make_platform, seed_shop, serve  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="apt-get install chromium first")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True,
         "has_touch": True}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync"]}


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int]]]:
    url = "sqlite:///" + str(tmp_path_factory.mktemp("browser") / "shop.db")
    platform = make_platform(url, SHOP)
    ids = seed_shop(platform)
    with serve(platform) as base:
        yield base, ids


@pytest.fixture(scope="session")
def oms_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The order-management pack itself, with two customers and two products."""
    from engine.service import Records

    platform = make_platform("sqlite:///" + str(tmp_path_factory.mktemp("oms") / "oms.db"), OMS)
    ctx, records = platform.system_context(), Records(platform)
    records.create(ctx, "customer", {"code": "C001", "name": "宁波海曙精密五金有限公司", "tier": "A"})
    records.create(ctx, "product", {"sku": "P-100", "name": "不锈钢合页", "price": "12.50", "cost": "7.20"})
    records.create(ctx, "product", {"sku": "P-200", "name": "Brass handle", "price": "30.00", "cost": "18.00"})
    with serve(platform) as base:
        yield base


@pytest.fixture(scope="session")
def base_url(live_app: tuple[str, dict[str, int]]) -> str:
    return live_app[0]


def log_in(page: Page, username: str = "sales1", password: str = "sales123") -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r".*/w/$"))


def fill_line(page: Page, row: int, item: str, qty: str, price: str) -> None:
    tr = page.locator(f'[data-table="lines"] tbody tr[data-row="{row}"]')
    tr.locator("select").select_option(label=item)
    tr.locator('[data-col="qty"] input').fill(qty)
    tr.locator('[data-col="unit_price"] input').fill(price)


def test_create_an_order_with_two_lines_and_live_formulas(page: Page, live_app: Any) -> None:
    log_in(page)
    page.goto("/w/order/new")
    with page.expect_response(lambda r: "/compute" in r.url and r.status == 200):
        page.select_option("#f-client", label="宁波海曙五金")
    expect(page.locator('[data-field="client_tier"] output')).to_have_text("A")   # computed by the server
    page.fill("#f-order_date", "2026-11-02")
    page.click(".add-row")
    page.click(".add-row")
    fill_line(page, 0, "不锈钢合页", "2", "12.50")
    fill_line(page, 1, "Brass handle", "3", "30")
    rows = page.locator('[data-table="lines"] tbody tr')
    expect(rows.nth(0).locator('[data-col="amount"] output')).to_have_text("25.00")
    expect(rows.nth(1).locator('[data-col="amount"] output')).to_have_text("90.00")
    expect(page.locator('[data-field="total"] output')).to_have_text("115.00")
    page.fill('[data-row="1"] [data-col="qty"] input', "1")                       # live as the user types
    expect(page.locator('[data-field="total"] output')).to_have_text("55.00")

    address = page.locator('[data-field="address"]')
    expect(address).to_be_hidden()
    page.check('input[name=delivery][value=ship]')
    expect(address).to_be_visible()
    expect(address.locator(".req")).to_be_visible()
    page.fill("#f-address", "宁波市海曙区 1 号")

    with page.expect_navigation():
        page.click("button[type=submit].primary")
    expect(page.locator(".banner.ok")).to_have_text("已保存")
    record = page.locator("dl.record")
    expect(record).to_contain_text("宁波海曙五金")
    expect(record).to_contain_text("不锈钢合页")
    expect(record).to_contain_text("Brass handle")
    expect(record.locator('[data-field="lines"] tbody tr')).to_have_count(2)


def test_readonly_if_and_remove_row_and_errors_in_place(page: Page, live_app: Any) -> None:
    log_in(page)
    page.goto("/w/order/new")
    discount = page.locator("#f-discount")
    expect(discount).to_be_disabled()                 # readonly_if: not urgent
    page.check("#f-urgent")
    expect(discount).to_be_enabled()
    expect(page.locator("#f-status")).to_be_disabled()  # read-only for sales by permission
    page.click(".add-row")
    page.click(".add-row")
    fill_line(page, 0, "不锈钢合页", "0", "1")
    fill_line(page, 1, "Brass handle", "1", "2")
    page.locator('[data-row="1"] .remove-row').click()
    expect(page.locator('[data-table="lines"] tbody tr')).to_have_count(1)
    expect(page.locator('[data-field="total"] output')).to_have_text("0.00")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    expect(page.locator('[id="e-order_date"]')).to_have_text("必填")
    expect(page.locator('[id="e-lines[1].qty"]')).to_have_text("不能小于 1")
    expect(page.locator('[data-row="0"] [data-col="qty"] input')).to_have_value("0")   # input kept


def test_phone_size_no_horizontal_scroll_and_submit_reachable(browser: Browser, live_app: Any) -> None:
    context = browser.new_context(base_url=live_app[0], **PHONE)
    page = context.new_page()
    try:
        log_in(page)
        page.goto("/w/order/new")
        with page.expect_response(lambda r: "/compute" in r.url):
            page.select_option("#f-client", label="Bright Shop")
        page.fill("#f-order_date", "2026-11-03")
        page.click(".add-row")
        page.click(".add-row")
        fill_line(page, 0, "不锈钢合页", "2", "12.50")
        fill_line(page, 1, "Brass handle", "1", "30")
        expect(page.locator('[data-field="total"] output')).to_have_text("55.00")
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"horizontal scroll: {widths}"
        page.screenshot(path="/tmp/order_phone.png", full_page=True)
        submit = page.locator("button[type=submit].primary")
        submit.scroll_into_view_if_needed()
        expect(submit).to_be_in_viewport()
        box = submit.bounding_box()
        assert box is not None and box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 390
        with page.expect_navigation():
            submit.tap()
        expect(page.locator(".banner.ok")).to_be_visible()
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1]
        page.goto("/w/order")
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"list page scrolls sideways: {widths}"
    finally:
        context.close()


def test_desktop_screenshot_and_english(browser: Browser, live_app: Any) -> None:
    context = browser.new_context(base_url=live_app[0], viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        log_in(page)
        page.goto("/w/order/new?lang=en")
        expect(page.locator('label[for="f-order_date"]')).to_contain_text("Order date")
        page.click(".add-row")
        fill_line(page, 0, "Brass handle", "4", "30")
        expect(page.locator('[data-field="total"] output')).to_have_text("120.00")
        page.screenshot(path="/tmp/order_desktop.png", full_page=True)
        page.goto("/w/order/new?lang=zh-CN")
    finally:
        context.close()


def test_link_picker_searches_the_server(page: Page, live_app: Any) -> None:
    log_in(page)
    page.goto("/w/order/new")
    search = page.locator('[data-field="client"] .picker-search')
    with page.expect_response(lambda r: "/w/client/options" in r.url and r.status == 200):
        search.fill("bright")
    options = page.locator("#f-client option")
    expect(options).to_have_count(2)                    # "choose" + the one match
    expect(options.nth(1)).to_have_text("Bright Shop")


def test_oms_sales_order_with_two_lines(browser: Browser, oms_app: str) -> None:
    """The shipped pack: prices looked up by the server as products are picked, amounts and
    the total computed live in the browser, then saved by sales1."""
    context = browser.new_context(base_url=oms_app, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        log_in(page)
        page.goto("/w/sales_order/new")
        expect(page.locator('[data-field="cost"]')).to_have_count(0)      # hidden from sales
        page.select_option("#f-customer", label="宁波海曙精密五金有限公司")
        page.fill("#f-order_date", "2026-11-02")
        page.fill("#f-due_date", "2026-11-20")
        page.click(".add-row")
        page.click(".add-row")
        for row, (product, qty) in enumerate([("不锈钢合页", "10"), ("Brass handle", "2")]):
            tr = page.locator(f'[data-table="lines"] tbody tr[data-row="{row}"]')
            with page.expect_response(lambda r: "/compute" in r.url and r.status == 200):
                tr.locator('[data-col="product"] select').select_option(label=product)
            tr.locator('[data-col="qty"] input').fill(qty)
        rows = page.locator('[data-table="lines"] tbody tr')
        expect(rows.nth(0).locator('[data-col="unit_price"] output')).to_have_text("12.50")
        expect(rows.nth(0).locator('[data-col="amount"] output')).to_have_text("125.00")
        expect(rows.nth(1).locator('[data-col="amount"] output')).to_have_text("60.00")
        expect(page.locator('[data-field="total"] output')).to_have_text("185.00")
        with page.expect_navigation():
            page.click("button[type=submit].primary")
        expect(page.locator(".banner.ok")).to_be_visible()
        record = page.locator("dl.record")
        expect(record.locator('[data-field="lines"] tbody tr')).to_have_count(2)
        expect(record.locator('[data-field="total"] dd')).to_have_text("185.00")
        expect(record).not_to_contain_text("毛利")
    finally:
        context.close()
