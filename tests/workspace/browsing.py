"""What the browser tests share: Chromium's place, a phone, logging in, link pickers, the stored record.

Import it after ``pytest.importorskip("playwright")``: it needs Playwright.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Browser, Locator, Page, Response, expect

CHROMIUM = "/usr/bin/chromium"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def log_in(page: Page, username: str = "sales1", password: str = "sales123") -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r".*/w/$"))


def searched(query: str) -> Callable[[Response], bool]:
    """The picker's answer to the search ``query`` (``/w/<form>/options?q=...``)."""

    def match(r: Response) -> bool:
        url = urlparse(r.url)
        return url.path.endswith("/options") and parse_qs(url.query).get("q", [""]) == [query] and r.status == 200

    return match


def search(page: Page, box: Locator, query: str) -> Locator:
    """Type ``query`` into the link picker inside ``box``; the options it lists."""
    with page.expect_response(searched(query)):
        box.locator(".combo-search").fill(query)
    return box.get_by_role("option")


def pick(page: Page, box: Locator, query: str, label: str) -> None:
    """Search the link picker inside ``box`` for ``query`` and choose the record ``label``."""
    search(page, box, query)
    box.get_by_role("option", name=label, exact=True).click()


def stored(platform: Any, page: Page, form: str = "every") -> dict[str, Any]:
    """The record the page shows (after a save), read through the service."""
    from engine.service import Records

    record_id = int(re.search(rf"/w/{form}/(\d+)", page.url)[1])  # type: ignore[index]
    return Records(platform).get(platform.system_context(), form, record_id)


@contextlib.contextmanager
def signed_in(
    browser: Browser, base: str, path: str, username: str = "sales1", password: str = "sales123", **options: Any
) -> Iterator[Page]:
    """A page in a new browser context (``options``: viewport, device, geolocation...) on the app
    at ``base``, signed in as ``username`` and showing ``path``; the context is closed after."""
    context = browser.new_context(base_url=base, **options)
    try:
        page = context.new_page()
        log_in(page, username, password)
        page.goto(path)
        yield page
    finally:
        context.close()


def no_sideways_scroll(page: Page, what: str = "the page") -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{what} scrolls sideways: {widths}"
