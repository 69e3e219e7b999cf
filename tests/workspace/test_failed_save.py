"""A failed save draws the form again as the user saw it: what they typed, and what the browser
does not post (read-only and computed fields, link pickers with the linked record's name,
sub-table rows, files already attached), over real HTTP."""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator

import pytest
import requests

from tests.workspace.conftest import EVERY, USERS, csrf_of, make_platform, seed_crowd, seed_every, serve
from tests.workspace.htmlform import HtmlForm, errors_of
from tests.workspace.test_pages import order_form
from tests.workspace.test_roundtrip import attach, choose, parts, png, text, tick


def session(base: str, username: str, password: str) -> requests.Session:
    http = requests.Session()
    page = http.get(base + "/login")
    resp = http.post(
        base + "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        allow_redirects=False,
    )
    assert resp.status_code == 302, resp.text
    return http


@pytest.fixture(scope="module")
def every(
    tmp_path_factory: pytest.TempPathFactory, database_for: Callable[[str], str]
) -> Iterator[tuple[str, dict[str, int]]]:
    """The every-type pack with a clerk (most fields read-only) and, after Hinge and Handle, a
    crowd of parts: the chosen ones are not among the newest a picker lists."""
    platform = make_platform(database_for("failed-save"), EVERY)
    ids = seed_every(platform)
    seed_crowd(platform, "part", lambda n: {"name": f"Part {n:03}"})
    with platform.db.begin() as conn:
        platform.users.add(conn, "clerk", "clerk123", ["clerk"])
    with serve(platform, {"FILES_DIR": str(tmp_path_factory.mktemp("files"))}) as base:
        yield base, ids


def found(ids: dict[str, int], *names: str) -> Callable[[HtmlForm, str], None]:
    """What the searchable picker does for records beyond the first page: it adds their options, chosen."""

    def fill(form: HtmlForm, name: str) -> None:
        [select] = [c for c in form.of(name) if c.tag == "select"]
        select.options = [(v, label, False) for v, label, _ in select.options if v not in {str(ids[n]) for n in names}]
        select.options += [(str(ids[n]), n, True) for n in names]

    return fill


def submit(http: requests.Session, url: str, form: HtmlForm) -> requests.Response:
    return http.post(url, files=form.encode(), allow_redirects=False)


def shown(html: str) -> dict[str, Any]:
    """Everything the form shows: each control (value, choices, ticks, disabled) and each
    computed value, by name; the one-time tokens left out."""
    form = HtmlForm(html)
    out: dict[str, Any] = {}
    for c in form.controls:
        if c.name in ("csrf_token", "once") or not c.name or c.kind == "file":
            continue
        value = (
            [(v, label) for v, label, sel in c.options if sel]
            if c.tag == "select"
            else (c.checked if c.kind in ("checkbox", "radio") else c.value)
        )
        out.setdefault(c.name, []).append((c.kind, value, "disabled" in c.attrs))
    for name, value, text_ in re.findall(
        r'<output id="f-([^"]+)" class="computed" data-out="[^"]+" '
        r'data-value="([^"]*)">([^<]*)</output>',
        html,
    ):
        out["output:" + name] = (value, text_)
    files = re.findall(r'<a href="/w/files/(\d+)" target="_blank" rel="noopener">([^<]+)</a>', html)
    out["files"] = files
    return out


def test_a_failed_edit_shows_every_value_the_user_saw(every: tuple[str, dict[str, int]]) -> None:
    base, ids = every
    admin = session(base, "admin", USERS["admin"][0])
    form = HtmlForm(admin.get(base + "/w/every/new").text)
    for name, fill in (
        ("f_money", text("12345.6")),
        ("f_select", choose("银色")),
        ("f_date", text("2026-11-08")),
        ("f_datetime", text("2026-11-08 09:30")),
        ("f_link", found(ids, "Hinge")),
        ("f_multilink", found(ids, "Handle", "Hinge")),
        ("f_checkboxes", tick("red", "black")),
        ("f_location", parts(lat="29.8683", lng="121.544")),
        ("f_text", text("before")),
        ("f_integer", text("4")),
    ):
        fill(form, name)
    form.one("f_boolean", "checkbox").checked = True
    attach("spec.txt", b"the spec", "text/plain")(form, "f_attachment")
    row = form.add_row("f_table")
    [n] = [c for c in form.of("f_table", "n", row) if c.kind == "text"]
    n.value = "3"
    [part] = form.of("f_table", "part", row)
    part.options.append((str(ids["Handle"]), "Handle", True))
    resp = submit(admin, base + "/w/every/new", form)
    assert resp.status_code == 302, re.findall(r'<p class="error">([^<]*)', resp.text)
    record_id = int(re.search(r"/w/every/(\d+)", resp.headers["Location"])[1])

    clerk = session(base, "clerk", "clerk123")
    page = clerk.get(f"{base}/w/every/{record_id}/edit").text
    before = shown(page)
    assert before["f_select"] == [("select", [("silver", "银色")], True)]  # read-only, drawn disabled
    assert before["f_link"] == [("select", [(str(ids["Hinge"]), "Hinge")], True)]
    assert before["f_money"] == [("text", "¥12,345.60", True)]  # as it reads, value kept aside
    assert 'data-value="12345.60"' in page
    assert before["files"] == [(before["files"][0][0], "spec.txt")]
    assert before["output:f_formula"] == ("8", "8")
    edit = HtmlForm(page)
    text("after")(edit, "f_text")
    text("not an address")(edit, "f_email")
    resp = submit(clerk, f"{base}/w/every/{record_id}/edit", edit)
    assert resp.status_code == 422, re.findall(r'<p class="error">([^<]*)|<li>([^<]*)', resp.text)
    assert errors_of(resp.text, "f_email") == ["不是有效的邮箱地址"]
    after = shown(resp.text)
    assert after["f_text"] == [("text", "after", False)] and after["f_email"] == [("email", "not an address", False)]
    for key in before.keys() - {"f_text", "f_email"}:
        assert after.get(key) == before[key], key
    assert after.keys() == before.keys()


def test_a_failed_create_keeps_the_links_names_and_the_attached_files(every: tuple[str, dict[str, int]]) -> None:
    base, ids = every
    admin = session(base, "admin", USERS["admin"][0])
    form = HtmlForm(admin.get(base + "/w/every/new").text)
    found(ids, "Handle")(form, "f_link")  # not among the newest parts the picker lists
    attach("photo.png", png(), "image/png")(form, "f_image")
    text("2026/11/31")(form, "f_date")
    text("2026-11-08 09:30")(form, "f_datetime")
    resp = submit(admin, base + "/w/every/new", form)
    assert resp.status_code == 422
    assert errors_of(resp.text, "f_date") == ["必须是日期 (YYYY-MM-DD)"]
    again = HtmlForm(resp.text)
    [link] = [c for c in again.of("f_link") if c.tag == "select"]
    assert [(v, label) for v, label, sel in link.options if sel] == [(str(ids["Handle"]), "Handle")]
    assert again.one("f_date").value == "2026/11/31" and again.one("f_datetime").value == "2026-11-08 09:30"
    assert re.search(
        r'<img class="thumb" src="/w/files/\d+" alt=""><a href="/w/files/\d+" target="_blank" '
        r'rel="noopener">photo.png</a>',
        resp.text,
    )


def test_a_failed_create_keeps_read_only_defaults(client: Any, login: Callable[..., str], shop_ids: Any) -> None:
    """Sales may not change an order's status: its default is drawn disabled, so not posted."""
    token = login("sales1")
    resp = client.post("/w/order/new", data=order_form(token, shop_ids, order_date=""))
    assert resp.status_code == 422
    assert re.search(
        r'<select name="status" id="f-status" disabled><option value="">请选择</option>'
        r'<option value="draft" selected>草稿</option>',
        resp.text,
    )
