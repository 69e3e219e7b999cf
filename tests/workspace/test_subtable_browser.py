"""Sub-table column permissions in a real browser (the depot pack): the packer edits an order
whose line prices are hidden from them. No price reaches the page or its requests; amounts and
totals that follow from a price show what the server computed; the saved order keeps its prices."""

from __future__ import annotations

import os
from typing import Any, Callable, Iterator

import pytest

pytest.importorskip("playwright")
pytest.importorskip("pytest_playwright")

from playwright.sync_api import Browser, Request, expect  # noqa: E402

from tests.workspace.browsing import CHROMIUM, DESKTOP, signed_in  # noqa: E402
from tests.workspace.conftest import make_platform, serve  # noqa: E402
from tests.workspace.test_subtable_access import DEPOT, seed_depot  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="apt-get install chromium first")


@pytest.fixture(scope="module")
def depot_app(database_for: Callable[[str], str]) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    platform = make_platform(database_for("depot-browser"), DEPOT)
    ids = seed_depot(platform)
    with serve(platform) as base:
        yield base, platform, ids


def test_the_packer_edits_lines_without_ever_seeing_a_price(browser: Browser, depot_app: Any) -> None:
    from engine.service import Records

    base, platform, ids = depot_app
    sent: list[str] = []

    def keep(request: Request) -> None:
        sent.append(f"{request.url} {request.post_data or ''}")

    with signed_in(browser, base, f"/w/order/{ids['order']}/edit", "packer1", "packer1-pw", **DESKTOP) as page:
        page.on("request", keep)
        page.reload()
        scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.getAttribute('src'))")
        received = [page.content()] + [page.request.get(src).text() for src in scripts if "/w/_js/" in src]
        rows = page.locator('[data-table="lines"] tbody tr')
        expect(rows).to_have_count(2)
        expect(page.locator('[data-col="unit_price"]')).to_have_count(0)
        first = rows.nth(0)
        first.locator('[data-col="qty"] input').fill("4")
        first.locator('[data-col="bin"] input').fill("C-03")
        # amount = qty x unit_price: not computed in the browser, it keeps the server's value
        expect(first.locator('[data-col="amount"] output')).to_have_text("¥25.00")
        expect(page.locator('[data-field="total"] output')).to_have_text("¥55.00")
        expect(page.locator('[data-field="cost"]')).to_have_count(0)
        with page.expect_navigation():
            page.click("button[type=submit].primary")
        expect(page.locator(".banner.ok")).to_be_visible()
        expect(page.locator("dl.record")).to_contain_text("50.00")  # the amount the server computed
        expect(page.locator("dl.record")).to_contain_text("80.00")  # and the total
        page.goto("/w/order")
        assert "12.50" not in page.content()
    assert len(received) == 3 and not [body for body in received if "12.50" in body or "unit_price" in body]
    assert sent and not [line for line in sent if "unit_price" in line or "12.50" in line]
    record = Records(platform).get(platform.system_context(), "order", ids["order"])
    assert [(r["qty"], r["unit_price"], r["bin"], r["amount"]) for r in record["lines"]] == [
        (4, "12.50", "C-03", "50.00"),
        (1, "30.00", "B-02", "30.00"),
    ]
    assert record["total"] == "80.00" and record["cost"] == "27.50"
