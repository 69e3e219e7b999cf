"""The workspace under its Content-Security-Policy in a real browser: no page breaks a rule.

Every document gets a ``securitypolicyviolation`` listener before its own scripts run (an init
script, which the policy does not govern); Chromium's console reports of refused resources are
collected as well. A page passes when both stay empty while it is used.
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterator

import pytest

pytest.importorskip("playwright")
pytest.importorskip("pytest_playwright")

from playwright.sync_api import Browser, BrowserContext, Page, expect  # noqa: E402

from tests.workspace.browsing import CHROMIUM, DESKTOP, log_in, pick  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="apt-get install chromium first")

LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(
  `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`));
"""


@pytest.fixture
def watched(browser: Browser, every_app: Any) -> Iterator[tuple[Page, list[str]]]:
    """A page on the every-type app that records CSP violations; the console's CSP reports."""
    context: BrowserContext = browser.new_context(base_url=every_app[0], **DESKTOP)
    context.add_init_script(LISTEN)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        yield page, console
    finally:
        context.close()


def violations(page: Page, console: list[str]) -> list[str]:
    return list(page.evaluate("window.__csp")) + console


def assert_clean(page: Page, console: list[str]) -> None:
    found = violations(page, console)
    assert not found, f"{page.url} breaks the policy:\n" + "\n".join(found)


def test_form_list_and_login_pages_break_no_csp_rule(watched: tuple[Page, list[str]]) -> None:
    page, console = watched
    login = page.goto("/login")
    assert login is not None and "script-src 'self'" in login.headers["content-security-policy"]
    assert_clean(page, console)
    log_in(page, "admin", "admin123")

    page.goto("/w/every/new")
    expect(page.locator("html")).to_have_class(re.compile(r"\blc-js\b"))  # the head script ran
    expect(page.locator('[data-field="f_link"] select')).to_be_hidden()  # the pickers took over
    pick(page, page.locator('[data-field="f_link"]'), "Hinge", "Hinge")
    page.locator('[data-table="f_table"] .add-row').click()
    expect(page.locator('[data-table="f_table"] tbody tr')).to_have_count(1)
    canvas = page.locator('[data-field="f_signature"] canvas')
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 10, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + 80, box["y"] + 40)
    page.mouse.up()
    expect(page.locator("#f-f_signature")).to_have_value(re.compile(r"^data:image/png;base64,"))
    assert_clean(page, console)

    page.goto("/w/part")
    with page.expect_response(lambda r: "/w/part" in r.url and "q=Hinge" in r.url and r.status == 200):
        page.locator('input[name="q"]').fill("Hinge")  # htmx swaps the results in
    expect(page.locator("#results")).to_contain_text("Hinge")
    assert_clean(page, console)


def test_the_listener_sees_an_inline_script_refused(watched: tuple[Page, list[str]]) -> None:
    """The control: the policy refuses an inline script, and the test would notice one."""
    page, console = watched
    page.goto("/login")
    page.evaluate("""() => { const s = document.createElement("script");
                             s.textContent = "window.__ran = true"; document.head.appendChild(s); }""")
    page.wait_for_function("window.__csp.length > 0")
    assert page.evaluate("window.__ran === undefined")
    assert any(v.startswith("script-src-elem blocked inline") for v in violations(page, console))
