"""The searchable link pickers in a real browser: a multi-link, and the product of an order line.

Both apps hold more records than a picker lists before a search (``CROWD`` created after the
ones the tests choose), so every record chosen here is found by the server's search
(``/w/<form>/options?q=``), never by scrolling a list. Waits are on responses and
navigations, never sleeps.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

pytest.importorskip("playwright")
pytest.importorskip("pytest_playwright")

from playwright.sync_api import Browser, Locator, expect  # noqa: E402

from tests.workspace.browsing import (  # noqa: E402,E501
    CHROMIUM,
    DESKTOP,
    PHONE,
    no_sideways_scroll,
    pick,
    search,
    searched,
    signed_in,
    stored,
)

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="apt-get install chromium first")


def chips(box: Locator) -> Locator:
    return box.locator(".chips .chip span")


def test_order_line_products_beyond_the_first_page_by_keyboard_and_by_tap(
    browser: Browser, oms_app: Any, tmp_path: Any
) -> None:
    """A product older than the first 50 is searched for in a row added from the template,
    chosen with the keyboard (and by a click in the next row); the server's lookup fills the
    unit price, the live formulas the amounts and total; the saved record holds both lines."""
    base, platform, ids = oms_app
    with signed_in(browser, base, "/w/sales_order/new", **DESKTOP) as page:
        pick(page, page.locator('[data-field="customer"]'), "海曙", "宁波海曙精密五金有限公司")
        page.fill("#f-order_date", "2026-11-02")
        page.fill("#f-due_date", "2026-11-20")
        page.click(".add-row")
        first = page.locator('[data-table="lines"] tbody tr[data-row="0"]')
        product = first.locator('[data-col="product"]')
        select = product.locator("select")
        expect(select.locator("option")).to_have_count(51)  # "choose" + the first 50
        expect(select.locator("option", has_text="不锈钢合页")).to_have_count(0)
        expect(select).to_be_hidden()  # the search box stands in for it

        box = product.locator(".combo-search")
        options = search(page, product, "合页")
        expect(options).to_have_text(["不锈钢合页"])
        expect(box).to_have_attribute("aria-expanded", "true")
        page.screenshot(path=str(tmp_path / "picker_order_line.png"))
        box.press("ArrowDown")
        expect(box).to_have_attribute("aria-activedescendant", options.nth(0).get_attribute("id") or "")
        with page.expect_response(lambda r: "/compute" in r.url and r.status == 200):
            box.press("Enter")
        expect(box).to_have_value("不锈钢合页")
        expect(box).to_have_attribute("aria-expanded", "false")
        expect(select).to_have_value(str(ids["P-100"]))
        expect(first.locator('[data-col="unit_price"] output')).to_have_text("¥12.50")  # looked up by the server
        first.locator('[data-col="qty"] input').fill("4")
        expect(first.locator('[data-col="amount"] output')).to_have_text("¥50.00")

        page.click(".add-row")
        second = page.locator('[data-table="lines"] tbody tr[data-row="1"]')
        with page.expect_response(searched("")):  # a tap lists the newest
            second.locator('[data-col="product"] .combo-search').click()
        expect(second.get_by_role("option")).to_have_count(50)
        expect(second.get_by_role("option").first).to_have_text("Bolt M60")
        with page.expect_response(lambda r: "/compute" in r.url and r.status == 200):
            pick(page, second.locator('[data-col="product"]'), "brass", "Brass handle")
        expect(second.locator('[data-col="unit_price"] output')).to_have_text("¥30.00")
        second.locator('[data-col="qty"] input').fill("2")
        expect(second.locator('[data-col="amount"] output')).to_have_text("¥60.00")
        expect(page.locator('[data-field="total"] output')).to_have_text("¥110.00")

        with page.expect_navigation():
            page.click("button[type=submit].primary")
        expect(page.locator(".banner.ok")).to_be_visible()
        record = stored(platform, page, "sales_order")
        assert [(r["product"], r["qty"], r["unit_price"], r["amount"]) for r in record["lines"]] == [
            (ids["P-100"], 4, "12.50", "50.00"),
            (ids["P-200"], 2, "30.00", "60.00"),
        ]
        assert record["total"] == "110.00"


def test_multilink_and_row_link_search_beyond_the_first_page(browser: Browser, every_app: Any) -> None:
    """A multi-link keeps its chosen records as chips (removable, by button or Backspace), adds
    the ones searched for, posts them; the edit page shows them again and saves them unchanged."""
    base, platform, ids = every_app
    with signed_in(browser, base, "/w/every/new", **DESKTOP) as page:
        multi = page.locator('[data-field="f_multilink"]')
        expect(multi.locator("select option")).to_have_count(50)
        expect(multi.locator("select option", has_text="Hinge")).to_have_count(0)

        pick(page, multi, "hin", "Hinge")
        pick(page, multi, "Part 007", "Part 007")
        pick(page, multi, "Part 012", "Part 012")
        expect(chips(multi)).to_have_text(["Hinge", "Part 007", "Part 012"])
        expect(multi.locator(".combo-search")).to_have_value("")
        multi.get_by_role("button", name="移除 Part 007").click()
        expect(chips(multi)).to_have_text(["Hinge", "Part 012"])
        expect(multi.locator(".combo-search")).to_be_focused()
        multi.locator(".combo-search").press("Backspace")  # the last chip goes
        expect(chips(multi)).to_have_text(["Hinge"])
        options = search(page, multi, "h")
        expect(options.filter(has_text="Hinge")).to_have_attribute("aria-selected", "true")
        options.filter(has_text="Handle").click()
        expect(chips(multi)).to_have_text(["Hinge", "Handle"])

        table = page.locator('[data-table="f_table"]')
        table.locator(".add-row").click()
        row = table.locator('tbody tr[data-row="0"]')
        row.locator('[data-col="n"] input').fill("3")
        pick(page, row.locator('[data-col="part"]'), "handle", "Handle")
        expect(row.locator('[data-col="part"] select')).to_have_value(str(ids["Handle"]))

        with page.expect_navigation():
            page.click("button[type=submit].primary")
        expect(page.locator(".banner.ok")).to_be_visible()
        record = stored(platform, page)
        assert record["f_multilink"] == [ids["Hinge"], ids["Handle"]]
        assert [(r["n"], r["part"]) for r in record["f_table"]] == [(3, ids["Handle"])]

        page.click("text=编辑")
        multi = page.locator('[data-field="f_multilink"]')
        expect(chips(multi)).to_have_text(["Hinge", "Handle"])
        expect(page.locator('tbody tr[data-row="0"] [data-col="part"] .combo-search')).to_have_value("Handle")
        with page.expect_navigation():
            page.click("button[type=submit].primary")
        after = stored(platform, page)
        assert after["f_multilink"] == record["f_multilink"] and after["f_table"] == record["f_table"]


def test_pickers_never_offer_rows_the_user_may_not_read(browser: Browser, every_app: Any) -> None:
    """Sales may not read the secret parts (a ``rows`` filter): the admin finds them through
    the same pickers, sales never sees them there, in the multi-link or in a row."""
    base, _, _ = every_app
    for username, password, secrets in (
        ("admin", "admin123", ["Secret handle", "Secret hinge"]),
        ("sales1", "sales123", []),
    ):
        with signed_in(browser, base, "/w/every/new", username, password, **DESKTOP) as page:
            multi = page.locator('[data-field="f_multilink"]')
            expect(multi.locator("select option", has_text="Secret")).to_have_count(len(secrets))
            expect(search(page, multi, "secret")).to_have_text(secrets)
            status = multi.locator(".combo-status")
            expect(status).to_have_text("" if secrets else "没有匹配的记录")
            expect(search(page, multi, "hinge")).to_have_text(["Secret hinge", "Hinge"] if secrets else ["Hinge"])
            page.locator('[data-table="f_table"] .add-row').click()
            row = page.locator('[data-table="f_table"] tbody tr[data-row="0"] [data-col="part"]')
            expect(search(page, row, "SECRET")).to_have_text(secrets)
            expect(row.locator("select option", has_text="Secret")).to_have_count(len(secrets))


def test_pickers_on_a_phone_have_large_touch_targets(browser: Browser, every_app: Any, tmp_path: Any) -> None:
    base, platform, _ = every_app
    with signed_in(browser, base, "/w/every/new", **PHONE) as page:
        multi = page.locator('[data-field="f_multilink"]')
        options = search(page, multi, "Part 04")
        expect(options).to_have_count(10)
        for control in (multi.locator(".combo-search"), options.nth(0)):
            size = control.bounding_box()
            assert size is not None and size["height"] >= 44 and size["x"] + size["width"] <= 390
        no_sideways_scroll(page, "the page with a picker's list open")
        page.screenshot(path=str(tmp_path / "picker_phone.png"))
        options.filter(has_text="Part 042").tap()
        chosen = multi.locator("select").evaluate("s => Array.from(s.selectedOptions, (o) => Number(o.value))")
        expect(chips(multi)).to_have_text(["Part 042"])
        remove = multi.get_by_role("button", name="移除 Part 042")
        size = remove.bounding_box()
        assert size is not None and size["height"] >= 44 and size["width"] >= 44
        with page.expect_navigation():
            page.locator("button[type=submit].primary").tap()
        expect(page.locator(".banner.ok")).to_be_visible()
        assert stored(platform, page)["f_multilink"] == chosen and len(chosen) == 1


def test_without_javascript_the_plain_selects_post(browser: Browser, every_app: Any) -> None:
    """Progressive enhancement: with scripts off the search boxes stay hidden and the selects
    the server drew (first records plus the chosen ones) post as before."""
    base, platform, _ = every_app
    with signed_in(browser, base, "/w/every/new", java_script_enabled=False, **DESKTOP) as page:
        multi = page.locator('[data-field="f_multilink"]')
        expect(multi.locator(".combo-search")).to_be_hidden()
        multi.locator("select").select_option(label=["Part 060", "Part 059"])
        with page.expect_navigation():
            page.click("button[type=submit].primary")
        expect(page.locator(".banner.ok")).to_be_visible()
        record = stored(platform, page)
        page.goto(f"/w/every/{record['id']}/edit")
        expect(page.locator('[data-field="f_multilink"] select option:checked')).to_have_text(["Part 059", "Part 060"])
        with page.expect_navigation():
            page.click("button[type=submit].primary")
        assert stored(platform, page)["f_multilink"] == record["f_multilink"] and len(record["f_multilink"]) == 2
