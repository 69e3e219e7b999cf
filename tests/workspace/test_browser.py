"""The generated forms in a real browser: Debian's Chromium driven by pytest-playwright.

Chromium comes from ``apt-get install chromium`` (``playwright install`` cannot download here);
the launch arguments below point Playwright at it. The app is served by werkzeug in a thread.
Waits are on responses and navigations, never sleeps.
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable, Iterator

import pytest

pytest.importorskip("playwright")
pytest.importorskip("pytest_playwright")

from playwright.sync_api import Browser, Page, expect  # noqa: E402

from tests.workspace.browsing import (  # noqa: E402,E501
    CHROMIUM,
    DESKTOP,
    PHONE,
    log_in,
    no_sideways_scroll,
    pick,
    search,
    signed_in,
    stored,
)
from tests.workspace.conftest import SHOP, make_platform, seed_shop, serve  # noqa: E402
from tests.workspace.test_roundtrip import png  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="apt-get install chromium first")


@pytest.fixture(scope="session")
def live_app(database_for: Callable[[str], str]) -> Iterator[tuple[str, dict[str, int]]]:
    platform = make_platform(database_for("browser"), SHOP)
    ids = seed_shop(platform)
    with serve(platform) as base:
        yield base, ids


@pytest.fixture(scope="session")
def base_url(live_app: tuple[str, dict[str, int]]) -> str:
    return live_app[0]


def fill_line(page: Page, row: int, item: str, qty: str, price: str) -> None:
    tr = page.locator(f'[data-table="lines"] tbody tr[data-row="{row}"]')
    pick(page, tr.locator('[data-col="item"]'), item, item)
    tr.locator('[data-col="qty"] input').fill(qty)
    tr.locator('[data-col="unit_price"] input').fill(price)


def test_create_an_order_with_two_lines_and_live_formulas(page: Page, live_app: Any) -> None:
    log_in(page)
    page.goto("/w/order/new")
    with page.expect_response(lambda r: "/compute" in r.url and r.status == 200):
        pick(page, page.locator('[data-field="client"]'), "海曙", "宁波海曙五金")
    expect(page.locator('[data-field="client_tier"] output')).to_have_text("A")  # computed by the server
    page.fill("#f-order_date", "2026-11-02")
    page.click(".add-row")
    page.click(".add-row")
    fill_line(page, 0, "不锈钢合页", "2", "12.50")
    fill_line(page, 1, "Brass handle", "3", "30")
    rows = page.locator('[data-table="lines"] tbody tr')
    expect(rows.nth(0).locator('[data-col="amount"] output')).to_have_text("¥25.00")
    expect(rows.nth(1).locator('[data-col="amount"] output')).to_have_text("¥90.00")
    expect(page.locator('[data-field="total"] output')).to_have_text("¥115.00")
    page.fill('[data-row="1"] [data-col="qty"] input', "1")  # live as the user types
    expect(page.locator('[data-field="total"] output')).to_have_text("¥55.00")

    address = page.locator('[data-field="address"]')
    expect(address).to_be_hidden()
    page.check("input[name=delivery][value=ship]")
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
    expect(discount).to_be_disabled()  # readonly_if: not urgent
    page.check("#f-urgent")
    expect(discount).to_be_enabled()
    expect(page.locator("#f-status")).to_be_disabled()  # read-only for sales by permission
    page.click(".add-row")
    page.click(".add-row")
    fill_line(page, 0, "不锈钢合页", "0", "1")
    fill_line(page, 1, "Brass handle", "1", "2")
    page.locator('[data-row="1"] .remove-row').click()
    expect(page.locator('[data-table="lines"] tbody tr')).to_have_count(1)
    expect(page.locator('[data-field="total"] output')).to_have_text("¥0.00")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    expect(page.locator('[id="e-order_date"]')).to_have_text("必填")
    expect(page.locator('[id="e-lines[1].qty"]')).to_have_text("不能小于 1")
    expect(page.locator('[data-row="0"] [data-col="qty"] input')).to_have_value("0")  # input kept
    expect(page.locator("#f-status")).to_have_value("draft")  # read-only: not posted, still shown
    expect(page.locator('[data-row="0"] [data-col="item"] .combo-search')).to_have_value("不锈钢合页")


def test_phone_size_no_horizontal_scroll_and_submit_reachable(browser: Browser, live_app: Any, tmp_path: Any) -> None:
    with signed_in(browser, live_app[0], "/w/order/new", **PHONE) as page:
        with page.expect_response(lambda r: "/compute" in r.url):
            pick(page, page.locator('[data-field="client"]'), "bright", "Bright Shop")
        page.fill("#f-order_date", "2026-11-03")
        page.click(".add-row")
        page.click(".add-row")
        fill_line(page, 0, "不锈钢合页", "2", "12.50")
        fill_line(page, 1, "Brass handle", "1", "30")
        expect(page.locator('[data-field="total"] output')).to_have_text("¥55.00")
        no_sideways_scroll(page)
        page.screenshot(path=str(tmp_path / "order_phone.png"), full_page=True)
        submit = page.locator("button[type=submit].primary")
        submit.scroll_into_view_if_needed()
        expect(submit).to_be_in_viewport()
        box = submit.bounding_box()
        assert box is not None and box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 390
        with page.expect_navigation():
            submit.tap()
        expect(page.locator(".banner.ok")).to_be_visible()
        no_sideways_scroll(page)
        page.goto("/w/order")
        no_sideways_scroll(page, "the list page")


def test_desktop_screenshot_and_english(browser: Browser, live_app: Any, tmp_path: Any) -> None:
    with signed_in(browser, live_app[0], "/w/order/new?lang=en", **DESKTOP) as page:
        expect(page.locator('label[for="f-order_date"]')).to_contain_text("Order date")
        page.click(".add-row")
        fill_line(page, 0, "Brass handle", "4", "30")
        expect(page.locator('[data-field="total"] output')).to_have_text("CN¥120.00")
        page.screenshot(path=str(tmp_path / "order_desktop.png"), full_page=True)
        page.goto("/w/order/new?lang=zh-CN")


def test_link_picker_searches_the_server(page: Page, live_app: Any) -> None:
    log_in(page)
    page.goto("/w/order/new")
    client = page.locator('[data-field="client"]')
    expect(client.locator("select")).to_be_hidden()  # with JavaScript, the search box stands in
    options = search(page, client, "bright")
    expect(options).to_have_count(1)  # only the one match
    expect(options.nth(0)).to_have_text("Bright Shop")
    options.nth(0).click()
    expect(client.locator(".combo-search")).to_have_value("Bright Shop")
    expect(client.locator("select")).to_have_value(str(live_app[1]["c2"]))


def test_oms_sales_order_with_two_lines(browser: Browser, oms_app: Any) -> None:
    """The shipped pack: prices looked up by the server as products are picked, amounts and
    the total computed live in the browser, then saved by sales1."""
    with signed_in(browser, oms_app[0], "/w/sales_order/new", **DESKTOP) as page:
        expect(page.locator('[data-field="cost"]')).to_have_count(0)  # hidden from sales
        pick(page, page.locator('[data-field="customer"]'), "海曙", "宁波海曙精密五金有限公司")
        page.fill("#f-order_date", "2026-11-02")
        page.fill("#f-due_date", "2026-11-20")
        page.click(".add-row")
        page.click(".add-row")
        for row, (product, qty) in enumerate([("不锈钢合页", "10"), ("Brass handle", "2")]):
            tr = page.locator(f'[data-table="lines"] tbody tr[data-row="{row}"]')
            with page.expect_response(lambda r: "/compute" in r.url and r.status == 200):
                pick(page, tr.locator('[data-col="product"]'), product, product)
            tr.locator('[data-col="qty"] input').fill(qty)
        rows = page.locator('[data-table="lines"] tbody tr')
        expect(rows.nth(0).locator('[data-col="unit_price"] output')).to_have_text("¥12.50")
        expect(rows.nth(0).locator('[data-col="amount"] output')).to_have_text("¥125.00")
        expect(rows.nth(1).locator('[data-col="amount"] output')).to_have_text("¥60.00")
        expect(page.locator('[data-field="total"] output')).to_have_text("¥185.00")
        with page.expect_navigation():
            page.click("button[type=submit].primary")
        expect(page.locator(".banner.ok")).to_be_visible()
        record = page.locator("dl.record")
        expect(record.locator('[data-field="lines"] tbody tr')).to_have_count(2)
        expect(record.locator('[data-field="total"] dd')).to_have_text("¥185.00")
        expect(record).not_to_contain_text("毛利")


# ---- the widgets that need JavaScript, on the every-type pack -------------------------------


def draw(page: Page, selector: str) -> None:
    """A stroke with the mouse across the signature pad."""
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 30)
    page.mouse.down()
    for step in range(1, 8):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 30 + (step % 3) * 30)
    page.mouse.up()


def test_signature_files_location_and_rows_in_a_browser(browser: Browser, every_app: Any) -> None:
    base, platform, ids = every_app
    with signed_in(
        browser,
        base,
        "/w/every/new",
        **DESKTOP,
        permissions=["geolocation"],
        geolocation={"latitude": 29.8683, "longitude": 121.544},
    ) as page:
        signature = page.locator("#f-f_signature")
        draw(page, '[data-field="f_signature"] canvas')
        expect(signature).to_have_value(re.compile(r"^data:image/png;base64,"))
        page.click('[data-field="f_signature"] .sig-clear')
        expect(signature).to_have_value("")
        draw(page, '[data-field="f_signature"] canvas')
        expect(signature).to_have_value(re.compile(r"^data:image/png;base64,.{200,}"))

        page.set_input_files(
            "#f-f_attachment",
            files=[
                {"name": "a.txt", "mimeType": "text/plain", "buffer": b"first"},
                {"name": "b.txt", "mimeType": "text/plain", "buffer": b"second"},
            ],
        )
        page.set_input_files("#f-f_image", files=[{"name": "p.png", "mimeType": "image/png", "buffer": png()}])
        page.click('[data-field="f_location"] button.geo')
        expect(page.locator('[id="f-f_location.lat"]')).to_have_value("29.868300")
        expect(page.locator('[id="f-f_location.lng"]')).to_have_value("121.544000")
        page.locator('[data-colour-for="f-f_colour"]').fill("#ff8800")
        expect(page.locator("#f-f_colour")).to_have_value("#FF8800")
        page.check('input[name=f_rating][value="5"]')
        for part in ("Hinge", "Handle"):
            pick(page, page.locator('[data-field="f_multilink"]'), part, part)

        table = page.locator('[data-table="f_table"]')
        for _ in range(3):
            table.locator(".add-row").click()
        rows = table.locator("tbody tr")
        expect(rows).to_have_count(3)
        for row, qty in enumerate(("2", "9", "3")):
            rows.nth(row).locator('[data-col="n"] input').fill(qty)
        rows.nth(0).locator("button.geo").click()
        expect(rows.nth(0).locator('input[data-part="lat"]')).to_have_value("29.868300")
        rows.nth(0).locator("input[type=file]").set_input_files(
            files=[{"name": "row.png", "mimeType": "image/png", "buffer": png()}]
        )
        rows.nth(1).locator(".remove-row").click()
        expect(rows).to_have_count(2)

        with page.expect_navigation():
            page.click("button[type=submit].primary")
        expect(page.locator(".banner.ok")).to_be_visible()
        record = stored(platform, page)
        assert isinstance(record["f_signature"], int)
        assert len(record["f_attachment"]) == 2 and len(record["f_image"]) == 1
        assert record["f_location"] == {"lat": 29.8683, "lng": 121.544}
        assert record["f_colour"] == "#FF8800" and record["f_rating"] == 5
        assert sorted(record["f_multilink"]) == sorted([ids["Hinge"], ids["Handle"]])
        assert [r["n"] for r in record["f_table"]] == [2, 3] and record["f_rollup"] == 5
        assert record["f_table"][0]["spot"] == {"lat": 29.8683, "lng": 121.544}
        assert len(record["f_table"][0]["photo"]) == 1 and record["f_table"][1]["photo"] is None

        view = page.locator("dl.record")
        expect(view).to_contain_text("a.txt")
        expect(view).to_contain_text("b.txt")
        for img in ('[data-field="f_signature"] img', '[data-field="f_image"] img'):
            page.wait_for_function(
                "(sel) => { const i = document.querySelector(sel); return i && i.complete && i.naturalWidth > 0; }",
                arg=img,
            )

        # edit: remove one attachment, keep the rest unchanged
        page.click("text=编辑")
        expect(page.locator('[data-field="f_signature"] img.sig-current')).to_be_visible()
        page.locator('[data-field="f_attachment"] li', has_text="a.txt").locator("input[type=checkbox]").check()
        with page.expect_navigation():
            page.click("button[type=submit].primary")
        expect(page.locator(".banner.ok")).to_be_visible()
        after = stored(platform, page)
        assert after["f_attachment"] == record["f_attachment"][1:]
        for key in ("f_signature", "f_image", "f_location", "f_colour", "f_rating", "f_table", "f_multilink"):
            assert after[key] == record[key], key


def test_signature_by_touch_on_a_phone(browser: Browser, every_app: Any) -> None:
    base, platform, _ = every_app
    with signed_in(browser, base, "/w/every/new", **PHONE) as page:
        canvas = page.locator('[data-field="f_signature"] canvas')
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        assert box is not None and box["width"] <= 390 and box["height"] >= 150
        for kind, dx in (("pointerdown", 10), ("pointermove", 60), ("pointermove", 120), ("pointerup", 120)):
            canvas.dispatch_event(
                kind,
                {
                    "pointerId": 7,
                    "pointerType": "touch",
                    "isPrimary": True,
                    "bubbles": True,
                    "clientX": box["x"] + dx,
                    "clientY": box["y"] + 40 + dx / 4,
                },
            )
        expect(page.locator("#f-f_signature")).to_have_value(re.compile(r"^data:image/png;base64,"))
        for control in (
            '[data-field="f_signature"] .sig-clear',
            '[data-field="f_location"] button.geo',
            "#f-f_attachment",
            '[id="f-f_location.lat"]',
        ):
            size = page.locator(control).bounding_box()
            assert size is not None and size["height"] >= 44, control
        no_sideways_scroll(page)
        with page.expect_navigation():
            page.locator("button[type=submit].primary").tap()
        expect(page.locator(".banner.ok")).to_be_visible()
        assert isinstance(stored(platform, page)["f_signature"], int)
