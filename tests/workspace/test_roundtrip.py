"""Every registered field type round-trips through the generated HTML form, over real HTTP.

For each type: log in (CSRF), open the new-record page of ``packs/every`` (one field
``f_<type>`` per type), fill the inputs the page generated for that field as a browser would
(names and choices read from the HTML, never hard-coded), post it, read the record back
through the REST API and compare; then open the edit page, post it unchanged, and check the
value is still the same.
"""

from __future__ import annotations

import base64
import re
import zlib
from typing import Any, Callable, Iterator

import pytest
import requests

from engine.forms import FIELD_TYPES
from tests.workspace.conftest import EVERY, USERS, csrf_of, make_platform, seed_every, serve
from tests.workspace.htmlform import HtmlForm, errors_of


def png(width: int = 4, height: int = 3) -> bytes:
    """A small valid PNG (white pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    raw = b"".join(b"\x00" + b"\xff" * (3 * width) for _ in range(height))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


class Site:
    """A signed-in browser session on the live app, and an API token to read records back."""

    def __init__(self, base: str, ids: dict[str, int]) -> None:
        self.base, self.ids = base, ids
        self.http = requests.Session()
        page = self.http.get(base + "/login")
        resp = self.http.post(
            base + "/login",
            data={"username": "sales1", "password": USERS["sales1"][0], "csrf_token": csrf_of(page.text)},
            allow_redirects=False,
        )
        assert resp.status_code == 302, resp.text
        token = requests.post(
            base + "/api/v1/auth/login", json={"username": "admin", "password": USERS["admin"][0]}
        ).json()["token"]
        self.api = {"Authorization": f"Bearer {token}"}

    def page(self, path: str) -> HtmlForm:
        resp = self.http.get(self.base + path)
        assert resp.status_code == 200, resp.text
        return HtmlForm(resp.text)

    def submit(self, path: str, form: HtmlForm) -> requests.Response:
        assert form.attrs.get("enctype") == "multipart/form-data"
        return self.http.post(self.base + path, files=form.encode(), allow_redirects=False)

    def record(self, record_id: int) -> dict[str, Any]:
        resp = requests.get(f"{self.base}/api/v1/records/every/{record_id}", headers=self.api)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def file_name(self, file_id: int) -> str:
        resp = self.http.get(f"{self.base}/w/files/{file_id}")
        assert resp.status_code == 200
        return re.findall(r"filename\*=UTF-8''(.+)$", resp.headers["Content-Disposition"])[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, database_for: Callable[[str], str]) -> Iterator[Site]:
    """The every-type pack served over HTTP, once for the module."""
    platform = make_platform(database_for("every"), EVERY)
    ids = seed_every(platform)
    with platform.db.connect() as conn:
        ids["sales1"] = platform.users.by_name(conn, "sales1").id
    with serve(platform, {"FILES_DIR": str(tmp_path_factory.mktemp("files"))}) as base:
        yield Site(base, ids)


def text(value: str) -> Callable[[HtmlForm, str], None]:
    def fill(form: HtmlForm, name: str) -> None:
        form.one(name).value = value

    return fill


def choose(*labels: str) -> Callable[[HtmlForm, str], None]:
    def fill(form: HtmlForm, name: str) -> None:
        form.one(name, "select").choose(*labels)

    return fill


def tick(*values: str) -> Callable[[HtmlForm, str], None]:
    """Tick the check boxes / the radio button with these values."""

    def fill(form: HtmlForm, name: str) -> None:
        boxes = [c for c in form.of(name) if c.kind in ("checkbox", "radio")]
        assert {v for v in values} <= {c.attrs["value"] for c in boxes}
        for c in boxes:
            c.checked = c.attrs["value"] in values

    return fill


def parts(**values: str) -> Callable[[HtmlForm, str], None]:
    """Fill the inputs of a widget made of parts, found by their ``data-part``."""

    def fill(form: HtmlForm, name: str) -> None:
        for part, value in values.items():
            form.one(name, data_part=part).value = value

    return fill


def attach(name_: str, content: bytes, ctype: str) -> Callable[[HtmlForm, str], None]:
    def fill(form: HtmlForm, name: str) -> None:
        form.one(name, "file").files = [(name_, content, ctype)]

    return fill


def sign(form: HtmlForm, name: str) -> None:
    """What the signature pad's script does: a PNG data URL into the hidden input."""
    hidden = [c for c in form.of(name) if c.kind == "hidden"]
    assert len(hidden) == 1
    hidden[0].value = "data:image/png;base64," + base64.b64encode(png()).decode()


def group(form: HtmlForm, name: str) -> None:
    form.one(name, id=f"f-{name}.name").value = "Ann"
    form.one(name, id=f"f-{name}.credit").value = "10"


def rows(form: HtmlForm, name: str) -> None:
    """Add three rows from the template, fill them, remove the middle one."""
    first, middle, last = form.add_row(name), form.add_row(name), form.add_row(name)
    for row, qty in ((first, "2"), (middle, "9"), (last, "3")):
        [n] = [c for c in form.of(name, "n", row) if c.kind == "text"]
        n.value = qty
    [part] = form.of(name, "part", first)
    part.choose("Handle")
    for key, value in (("lat", "29.87"), ("lng", "121.55")):
        [c] = [c for c in form.of(name, "spot", first) if c.attrs.get("data-part") == key]
        c.value = value
    form.remove_row(name, middle)


def nothing(form: HtmlForm, name: str) -> None:
    """Computed fields: the page shows an output, no input to fill."""
    assert not [c for c in form.controls if c.field == name]


def is_file_list(names: list[str]) -> Callable[[Site, Any], bool]:
    def check(site: Site, value: Any) -> bool:
        return isinstance(value, list) and [site.file_name(i) for i in value] == names

    return check


def is_signature(site: Site, value: Any) -> bool:
    return isinstance(value, int) and site.file_name(value) == "signature.png"


#: type -> (fill the field's inputs, the value the API gives back, or a check of it)
CASES: dict[str, tuple[Callable[[HtmlForm, str], None], Any]] = {
    "text": (text("  Hello 你好 "), "Hello 你好"),
    "textarea": (text("line 1\nline 2"), "line 1\nline 2"),
    "richtext": (text("<p>Hi <b>there</b><script>alert(1)</script></p>"), "<p>Hi <b>there</b></p>"),
    "email": (text("Sales@Example.COM"), "sales@example.com"),
    "phone": (text("13800138000"), "13800138000"),
    "url": (text("https://example.com/a?b=1"), "https://example.com/a?b=1"),
    "integer": (text("1,200"), 1200),
    "decimal": (text("12.5"), "12.5000"),
    "number": (text("3.14"), "3.140000"),
    "money": (text("99.5"), "99.50"),
    "percent": (text("0.15"), "0.1500"),
    "boolean": (tick("on"), True),
    "date": (text("2026-11-21"), "2026-11-21"),
    "datetime": (text("2026-11-05T09:30"), "2026-11-05T01:30:00+00:00"),
    "time": (text("08:15"), "08:15:00"),
    "duration": (text("2h30m"), 9000),
    "select": (choose("黑色"), "black"),
    "radio": (tick("b"), "b"),
    "multiselect": (tick("a", "c"), ["a", "c"]),
    "checkboxes": (tick("red", "silver"), ["red", "silver"]),
    "cascade": (choose("浙江省 / 宁波 / 海曙"), ["浙江", "宁波", "海曙"]),
    "department": (choose("车间"), "workshop"),
    "role": (choose("销售"), "sales"),
    "user": (choose("sales1"), lambda site, v: v == site.ids["sales1"]),
    "link": (choose("Hinge"), lambda site, v: v == site.ids["Hinge"]),
    "multilink": (
        choose("Hinge", "Handle"),
        lambda site, v: sorted(v) == sorted([site.ids["Hinge"], site.ids["Handle"]]),
    ),
    "autonumber": (nothing, lambda site, v: re.fullmatch(r"EV-\d{4}", v) is not None),
    "json": (text('{"a": [1, 2.5], "b": {"c": null}, "d": "文字"}'), {"a": [1, 2.5], "b": {"c": None}, "d": "文字"}),
    "attachment": (attach("说明.txt", "你好".encode(), "text/plain"), is_file_list(["%E8%AF%B4%E6%98%8E.txt"])),
    "image": (attach("photo.png", png(), "image/png"), is_file_list(["photo.png"])),
    "signature": (sign, is_signature),
    "location": (parts(lat="29.87", lng="121.55", address="宁波"), {"lat": 29.87, "lng": 121.55, "address": "宁波"}),
    "address": (
        parts(province="浙江", city="宁波", district="海曙", detail="中山西路 1 号"),
        {"province": "浙江", "city": "宁波", "district": "海曙", "detail": "中山西路 1 号"},
    ),
    "barcode": (text("4006381333931"), "4006381333931"),
    "formula": (nothing, 0),
    "rollup": (nothing, 0),
    "rating": (tick("4"), 4),
    "colour": (text("#abc"), "#AABBCC"),
    "tags": (text("急单，样品, 急单"), ["急单", "样品"]),
    "table": (
        rows,
        lambda site, v: (
            [(r["n"], r["part"], r["spot"]) for r in v]
            == [(2, site.ids["Handle"], {"lat": 29.87, "lng": 121.55}), (3, None, None)]
        ),
    ),
    "group": (group, {"name": "Ann", "credit": "10.00"}),
}


def matches(site: Site, expected: Any, value: Any) -> bool:
    return bool(expected(site, value)) if callable(expected) else value == expected


def test_the_pack_has_a_field_and_a_case_for_every_registered_type() -> None:
    from engine.definitions import load_pack

    fields = {f.name: f.type for f in load_pack(EVERY).forms["every"].fields}
    assert {f"f_{t}": t for t in FIELD_TYPES.names()} == fields
    assert sorted(CASES) == FIELD_TYPES.names()


@pytest.mark.parametrize("type_name", FIELD_TYPES.names())
def test_round_trip_through_the_html_form(site: Site, type_name: str) -> None:
    name = f"f_{type_name}"
    fill, expected = CASES[type_name]
    form = site.page("/w/every/new")
    fill(form, name)
    resp = site.submit("/w/every/new", form)
    assert resp.status_code == 302, re.findall(r'<p class="error">([^<]*)', resp.text)
    record_id = int(re.search(r"/w/every/(\d+)\?saved=1", resp.headers["Location"])[1])
    created = site.record(record_id)
    assert matches(site, expected, created[name]), created[name]

    edit = site.page(f"/w/every/{record_id}/edit")
    resp = site.submit(f"/w/every/{record_id}/edit", edit)
    assert resp.status_code == 302, re.findall(r'<p class="error">([^<]*)', resp.text)
    again = site.record(record_id)
    if type_name == "table":  # rows keep their ids
        assert [r["id"] for r in again[name]] == [r["id"] for r in created[name]]
    assert again[name] == created[name]


def test_unreadable_and_invalid_inputs_are_shown_by_field_and_uploads_are_kept(site: Site) -> None:
    form = site.page("/w/every/new")
    text('{"a": ')(form, "f_json")
    parts(lat="95", lng="121.55")(form, "f_location")
    attach("big.txt", b"x" * 3000, "text/plain")(form, "f_attachment")
    attach("photo.png", png(), "image/png")(form, "f_image")
    text("abc")(form, "f_integer")
    parts(city="宁波")(form, "f_address")
    resp = site.submit("/w/every/new", form)
    assert resp.status_code == 422
    assert errors_of(resp.text, "f_address") == ["必须是地址 {province, city, district, detail}"]
    assert errors_of(resp.text, "f_json") == ["不是有效的 JSON"]
    assert errors_of(resp.text, "f_location") == ["纬度必须在 -90 到 90 之间"]
    assert errors_of(resp.text, "f_attachment") == ["文件 big.txt 超过 2000 字节"]
    assert errors_of(resp.text, "f_integer") == ["必须是整数"]
    again = HtmlForm(resp.text)
    assert again.one("f_location", data_part="lat").value == "95"  # input kept
    kept = [c.value for c in again.of("f_image") if c.kind == "hidden" and c.value]
    assert len(kept) == 1  # the upload is kept
    text('{"a": 1}')(again, "f_json")
    parts(lat="29.5", lng="121.55")(again, "f_location")
    text("7")(again, "f_integer")
    parts(province="浙江")(again, "f_address")
    resp = site.submit("/w/every/new", again)
    assert resp.status_code == 302, re.findall(r'<p class="error">([^<]*)', resp.text)
    record = site.record(int(re.search(r"/w/every/(\d+)", resp.headers["Location"])[1]))
    assert record["f_image"] == [int(kept[0])] and record["f_json"] == {"a": 1}
    assert record["f_formula"] == 14 and record["f_address"] == {"province": "浙江", "city": "宁波"}


def test_files_are_removed_and_added_on_edit(site: Site) -> None:
    form = site.page("/w/every/new")
    attach("a.txt", b"first", "text/plain")(form, "f_attachment")
    resp = site.submit("/w/every/new", form)
    record_id = int(re.search(r"/w/every/(\d+)", resp.headers["Location"])[1])
    [first] = site.record(record_id)["f_attachment"]
    edit = site.page(f"/w/every/{record_id}/edit")
    [remove] = [c for c in edit.of("f_attachment") if c.kind == "checkbox"]
    assert remove.attrs["value"] == str(first)
    remove.checked = True
    attach("b.txt", b"second", "text/plain")(edit, "f_attachment")
    assert site.submit(f"/w/every/{record_id}/edit", edit).status_code == 302
    [second] = site.record(record_id)["f_attachment"]
    assert second != first and site.file_name(second) == "b.txt"
    view = site.http.get(f"{site.base}/w/every/{record_id}").text
    assert "b.txt" in view and "a.txt" not in view
    edit = site.page(f"/w/every/{record_id}/edit")
    [remove] = [c for c in edit.of("f_attachment") if c.kind == "checkbox"]
    remove.checked = True
    assert site.submit(f"/w/every/{record_id}/edit", edit).status_code == 302
    assert site.record(record_id)["f_attachment"] is None


def test_an_upload_kept_by_a_failed_post_is_served_to_its_uploader_only(site: Site) -> None:
    other = requests.Session()
    page = other.get(site.base + "/login")
    other.post(
        site.base + "/login",
        data={"username": "sales2", "password": USERS["sales2"][0], "csrf_token": csrf_of(page.text)},
    )
    form = site.page("/w/every/new")
    attach("mine.txt", b"private", "text/plain")(form, "f_attachment")
    text("not a number")(form, "f_integer")
    resp = site.submit("/w/every/new", form)
    assert resp.status_code == 422
    [file_id] = [c.value for c in HtmlForm(resp.text).of("f_attachment") if c.kind == "hidden" and c.value]
    mine = site.http.get(f"{site.base}/w/files/{file_id}")
    assert mine.status_code == 200 and mine.content == b"private"
    assert mine.headers["Content-Disposition"].startswith("attachment;")
    assert other.get(f"{site.base}/w/files/{file_id}").status_code == 404
