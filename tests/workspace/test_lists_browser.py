"""The list page, the calendar, live money and the menu of forms in a real browser (Debian's
Chromium, an English browser on zh-CN pages unless said otherwise). Waits are on responses
and navigations, never sleeps."""

from __future__ import annotations

import os
import re
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, urlparse

import pytest

pytest.importorskip("playwright")
pytest.importorskip("pytest_playwright")

from playwright.sync_api import Browser, Page, Response, expect  # noqa: E402

from tests.workspace.browsing import CHROMIUM, DESKTOP, PHONE, no_sideways_scroll, pick, signed_in, stored  # noqa: E402
from tests.workspace.conftest import SHOP, make_platform, seed_shop, serve  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="apt-get install chromium first")
ENGLISH = {**DESKTOP, "locale": "en-US"}  # a browser whose own date format is 11/08/2026


@pytest.fixture(scope="module")
def shop_app(database_for: Callable[[str], str]) -> Iterator[tuple[str, Any, dict[str, int]]]:
    """The shop pack with three orders of sales1 (PO-A, PO-B, PO-C), made through Records."""
    from engine.service import Records

    platform = make_platform(database_for("lists-browser"), SHOP)
    ids = seed_shop(platform)
    with platform.db.connect() as conn:
        sales1 = platform.context(platform.users.by_name(conn, "sales1"), "zh-CN")
    records = Records(platform)
    for po, day, who, delivery in (
        ("PO-A", "2026-11-01", "c1", "pickup"),
        ("PO-B", "2026-11-03", "c2", "ship"),
        ("PO-C", "2026-11-02", "c2", "pickup"),
    ):
        records.create(
            sales1,
            "order",
            {
                "client": ids[who],
                "po": po,
                "order_date": day,
                "delivery": delivery,
                "address": "宁波" if delivery == "ship" else None,
                "lines": [{"item": ids["i1"], "qty": 1000, "unit_price": "12.50"}],
            },
        )
    with serve(platform) as base:
        yield base, platform, ids


def listed(page: Page) -> Callable[[Response], bool]:
    """The list page's own answer (the live search and filters ask for it)."""

    def match(r: Response) -> bool:
        return urlparse(r.url).path == "/w/order" and r.status == 200 and r.request.resource_type == "fetch"

    return match


def shown_pos(page: Page) -> list[str]:
    return page.locator("#results table.records tbody tr td:nth-child(2) > a").all_inner_texts()


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_search_and_filters_update_the_list_the_address_and_the_export(browser: Browser, shop_app: Any) -> None:
    base, _, ids = shop_app
    with signed_in(browser, base, "/w/order", "admin", "admin123", **ENGLISH) as page:
        expect(page.locator("#results tbody tr")).to_have_count(3)
        with page.expect_response(listed(page)):
            page.fill("#list-q", "po-")  # live, as the user types
        expect(page.locator("#results tbody tr")).to_have_count(3)
        page.locator("details.filters > summary").click()
        with page.expect_response(listed(page)):
            page.select_option("#flt-delivery", "pickup")
        expect(page.locator("#results tbody tr")).to_have_count(2)
        assert query(page) == {"q": ["po-"], "delivery": ["pickup"]}  # empty filters left out
        with page.expect_response(listed(page)):
            pick(page, page.locator('[data-filter="client"]'), "bright", "Bright Shop")
        expect(page.locator("#results tbody tr")).to_have_count(1)
        assert shown_pos(page) == ["PO-C"]
        assert query(page)["client"] == [str(ids["c2"])]
        csv = page.locator("#list-actions a", has_text="CSV")
        assert parse_qs(urlparse(csv.get_attribute("href") or "").query) == {
            "format": ["csv"],
            "q": ["po-"],
            "delivery": ["pickup"],
            "client": [str(ids["c2"])],
        }
        expect(page.locator("details.filters > summary")).to_have_text("筛选 · 2")

        # a wrong value is explained next to its filter, the rest still applies
        with page.expect_response(listed(page)):
            page.fill("#flt-order_date__gte", "11/02/2026")
            page.keyboard.press("Enter")
        expect(page.locator('[id="e-flt-order_date__gte"]')).to_have_text("必须是日期 (YYYY-MM-DD)")
        with page.expect_response(listed(page)):
            page.fill("#flt-order_date__gte", "2026-11-03")
            page.keyboard.press("Enter")
        expect(page.locator('[id="e-flt-order_date__gte"]')).to_have_count(0)
        expect(page.locator("#results .empty")).to_be_visible()

        page.reload()  # the address is a bookmark
        expect(page.locator("details.filters")).to_have_attribute("open", "")
        expect(page.locator("#flt-delivery")).to_have_value("pickup")
        expect(page.locator('[data-filter="client"] .combo-search')).to_have_value("Bright Shop")
        expect(page.locator("#flt-order_date__gte")).to_have_value("2026-11-03")
        with page.expect_navigation():
            page.get_by_role("link", name="清除筛选").click()
        assert query(page) == {"q": ["po-"]}
        expect(page.locator("#results tbody tr")).to_have_count(3)


def test_a_column_header_sorts_with_an_arrow(browser: Browser, shop_app: Any) -> None:
    base = shop_app[0]
    with signed_in(browser, base, "/w/order?delivery=pickup", "admin", "admin123", **DESKTOP) as page:
        header = page.locator("th", has_text="下单日期")
        expect(header).to_have_attribute("aria-sort", "none")
        with page.expect_navigation():
            header.locator("a").click()
        expect(page.locator("th", has_text="下单日期")).to_have_attribute("aria-sort", "ascending")
        expect(page.locator("th", has_text="下单日期").locator(".arrow")).to_have_text("▲")
        assert shown_pos(page) == ["PO-A", "PO-C"] and query(page) == {"delivery": ["pickup"], "sort": ["order_date"]}
        with page.expect_navigation():
            page.locator("th", has_text="下单日期").locator("a").click()
        expect(page.locator("th", has_text="下单日期").locator(".arrow")).to_have_text("▼")
        assert shown_pos(page) == ["PO-C", "PO-A"]
        with page.expect_response(listed(page)):  # a filter keeps the sort
            page.fill("#list-q", "PO")
        assert query(page)["sort"] == ["-order_date"]
        expect(page.locator("th", has_text="下单日期").locator(".arrow")).to_have_text("▼")


def test_the_calendar_writes_iso_dates_in_an_english_browser(browser: Browser, shop_app: Any) -> None:
    base, platform, ids = shop_app
    with signed_in(browser, base, "/w/order/new", **ENGLISH) as page:
        assert page.evaluate("navigator.language") == "en-US"
        date = page.locator("#f-order_date")
        expect(date).to_have_attribute("type", "text")
        date.fill("2026-11-08")
        opener = page.locator('[data-field="order_date"] .date-pick')
        opener.click()
        calendar = page.locator('[data-field="order_date"] .calendar')
        expect(calendar).to_be_visible()
        expect(opener).to_have_attribute("aria-expanded", "true")
        expect(calendar.locator(".cal-title")).to_have_text("2026年11月")  # in the page's language
        expect(calendar.locator("th").first).to_have_text("一")  # weeks start on Monday
        chosen = calendar.locator("[aria-pressed=true]")
        expect(chosen).to_have_text("8")
        expect(chosen).to_be_focused()
        expect(chosen).to_have_attribute("aria-label", "2026年11月8日星期日")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowDown")
        expect(calendar.locator(":focus")).to_have_attribute("data-day", "2026-11-16")
        page.keyboard.press("Enter")
        expect(calendar).to_have_count(0)
        expect(date).to_have_value("2026-11-16")
        expect(date).to_be_focused()

        opener.click()
        page.keyboard.press("PageDown")
        expect(calendar.locator(".cal-title")).to_have_text("2026年12月")
        calendar.locator('[data-day="2026-12-24"]').click()
        expect(date).to_have_value("2026-12-24")
        opener.click()
        page.keyboard.press("Escape")
        expect(calendar).to_have_count(0)
        expect(opener).to_be_focused()
        opener.click()
        page.locator("h1").click()  # a tap elsewhere closes it
        expect(calendar).to_have_count(0)

        deliver = page.locator("#f-deliver_by")
        deliver.fill("2026-11-05 09:30")
        page.locator('[data-field="deliver_by"] .date-pick').click()
        page.locator('[data-field="deliver_by"] .calendar [data-day="2026-11-06"]').click()
        expect(deliver).to_have_value("2026-11-06 09:30")  # the time is kept

        pick(page, page.locator('[data-field="client"]'), "bright", "Bright Shop")
        page.click(".add-row")
        tr = page.locator('[data-table="lines"] tbody tr[data-row="0"]')
        pick(page, tr.locator('[data-col="item"]'), "合页", "不锈钢合页")
        tr.locator('[data-col="qty"] input').fill("1000")
        tr.locator('[data-col="unit_price"] input').fill("12.5")
        expect(tr.locator('[data-col="amount"] output')).to_have_text("¥12,500.00")  # grouped, live
        expect(page.locator('[data-field="total"] output')).to_have_text("¥12,500.00")
        expect(tr.locator('[data-col="unit_price"] input')).to_have_value("12.5")  # an input stays a number
        with page.expect_navigation():
            page.click("button[type=submit].primary")
        expect(page.locator(".banner.ok")).to_be_visible()
        record = stored(platform, page, "order")
        assert record["order_date"] == "2026-12-24" and record["deliver_by"].startswith("2026-11-06T01:30")
        view = page.locator("dl.record")
        expect(view.locator('[data-field="order_date"] dd')).to_have_text("2026-12-24")
        expect(view.locator('[data-field="deliver_by"] dd')).to_have_text("2026-11-06 09:30")
        expect(view.locator('[data-field="total"] dd')).to_have_text("¥12,500.00")


def test_the_calendar_in_english_and_in_a_sub_table_row(browser: Browser, shop_app: Any) -> None:
    base = shop_app[0]
    with signed_in(browser, base, "/w/order/new?lang=en", **DESKTOP) as page:
        page.locator('[data-field="order_date"] .date-pick').click()
        calendar = page.locator('[data-field="order_date"] .calendar')
        expect(calendar.locator(".cal-prev")).to_have_attribute("aria-label", "Previous month")
        calendar.locator(".cal-today").click()
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", page.locator("#f-order_date").input_value())
        page.locator('[data-field="order_date"] .date-pick').click()
        calendar.locator(".cal-clear").click()
        expect(page.locator("#f-order_date")).to_have_value("")
        page.locator("#f-order_date").fill("2026-02-10")
        page.locator('[data-field="order_date"] .date-pick').click()
        expect(calendar.locator(".cal-title")).to_have_text("February 2026")
        calendar.locator(".cal-next").click()
        expect(calendar.locator(".cal-title")).to_have_text("March 2026")


def test_the_menu_of_forms_on_a_phone_and_on_a_pc(browser: Browser, shop_app: Any, tmp_path: Any) -> None:
    base = shop_app[0]
    phone = {**PHONE, "viewport": {"width": 375, "height": 740}}
    with signed_in(browser, base, "/w/order", **phone) as page:
        toggle = page.locator(".menu-toggle")
        menu = page.locator("#forms-menu")
        expect(toggle).to_be_visible()
        expect(toggle).to_contain_text("订单")  # the current form
        expect(menu).to_be_hidden()
        toggle.tap()
        expect(menu).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(menu.locator("a[aria-current=page]")).to_have_text("订单")
        for link in menu.locator("a").all():
            box = link.bounding_box()
            assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 375
        no_sideways_scroll(page, "the open menu")
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()
        toggle.tap()
        with page.expect_navigation():
            menu.locator("a", has_text="商品").tap()
        expect(page.locator("h1")).to_have_text("商品")
        expect(page.locator(".menu-toggle")).to_contain_text("商品")
        page.goto("/w/order")
        page.locator("details.filters > summary").tap()
        no_sideways_scroll(page, "the list with its filters open")
        page.locator('[data-filter="order_date"] .date-pick').first.tap()
        no_sideways_scroll(page, "the calendar")
        calendar = page.locator('[data-filter="order_date"] .calendar')
        box = calendar.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
        page.screenshot(path=str(tmp_path / "list_phone.png"), full_page=True)
    with signed_in(browser, base, "/w/order/new", **DESKTOP) as page:
        expect(page.locator(".menu-toggle")).to_be_hidden()
        expect(page.locator("#forms-menu")).to_be_visible()
        expect(page.locator("#forms-menu a[aria-current=page]")).to_have_text("订单")
        page.screenshot(path=str(tmp_path / "list_desktop_menu.png"))


def test_the_list_the_calendar_and_the_menu_break_no_csp_rule(browser: Browser, shop_app: Any) -> None:
    from tests.workspace.test_csp_browser import LISTEN, violations

    base = shop_app[0]
    context = browser.new_context(base_url=base, **{**PHONE, "viewport": {"width": 375, "height": 740}})
    context.add_init_script(LISTEN)
    console: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto("/login")
        page.fill("input[name=username]", "sales1")
        page.fill("input[name=password]", "sales123")
        with page.expect_navigation():
            page.click("button[type=submit]")
        response = page.goto("/w/order?delivery=pickup")
        assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
        page.locator(".menu-toggle").tap()
        expect(page.locator("#forms-menu")).to_be_visible()
        page.keyboard.press("Escape")
        with page.expect_response(listed(page)):
            page.fill("#list-q", "PO")
        page.locator('[data-filter="order_date"] .date-pick').first.tap()
        page.locator('[data-filter="order_date"] .calendar [data-day]').first.tap()
        assert not violations(page, console), violations(page, console)  # each document keeps its own
        page.goto("/w/order/new")
        page.locator('[data-field="order_date"] .date-pick').tap()
        page.locator('[data-field="order_date"] .cal-today').tap()
        page.click(".add-row")
        page.locator('[data-row="0"] [data-col="qty"] input').fill("1000")
        page.locator('[data-row="0"] [data-col="unit_price"] input').fill("1")
        expect(page.locator('[data-field="total"] output')).to_have_text("¥1,000.00")
        assert not violations(page, console), violations(page, console)
    finally:
        context.close()
