"""Sub-table column permissions in the workspace (the depot pack): a hidden column is not in
the pages, the form module or the compute answers; a read-only one is drawn disabled; saving
an edit page keeps both columns' stored values, and a tampered hidden cell is refused."""

from __future__ import annotations

import csv
import io
import re
from typing import Any, Callable, Iterator

import openpyxl
import pytest
from werkzeug.datastructures import MultiDict

from apps import create_app
from engine.platform import Platform
from engine.service import Records
from tests.workspace.conftest import HERE, USERS, csrf_of, make_platform
from tests.workspace.htmlform import HtmlForm, errors_of

DEPOT = f"{HERE}/packs/depot"
PEOPLE = {"packer1": ["packer"], "clerk1": ["clerk"]}


def seed_depot(p: Platform) -> dict[str, Any]:
    """Two items, the depot users, and an order with two lines (12.50 and 30.00, bins A-01 and B-02)."""
    with p.db.begin() as conn:
        for name, roles in PEOPLE.items():
            p.users.add(conn, name, f"{name}-pw", roles)
    ctx, records = p.system_context(), Records(p)
    i1 = records.create(ctx, "item", {"name": "Hinge", "price": "12.50"})["id"]
    i2 = records.create(ctx, "item", {"name": "Handle", "price": "30.00"})["id"]
    order = records.create(
        ctx,
        "order",
        {
            "po": "PO-1",
            "lines": [
                {"item": i1, "qty": 2, "unit_price": "12.50", "bin": "A-01"},
                {"item": i2, "qty": 1, "unit_price": "30.00", "bin": "B-02"},
            ],
        },
    )
    return {"order": order["id"], "i1": i1, "i2": i2}


@pytest.fixture
def depot(db_url: str) -> Iterator[tuple[Platform, dict[str, Any]]]:
    p = make_platform(db_url, DEPOT)
    yield p, seed_depot(p)
    p.db.dispose()


@pytest.fixture
def client(depot: tuple[Platform, dict[str, Any]]) -> Any:
    return create_app({"TESTING": True, "PLATFORM": depot[0], "SECRET_KEY": "test-secret"}).test_client()


@pytest.fixture
def login(client: Any) -> Callable[[str], str]:
    def do(username: str) -> str:
        page = client.get("/login?lang=en")
        password = USERS[username][0] if username in USERS else f"{username}-pw"
        resp = client.post(
            "/login", data={"username": username, "password": password, "csrf_token": csrf_of(page.text)}
        )
        assert resp.status_code == 302, resp.text
        return csrf_of(client.get("/w/").text)

    return do


def stored(depot: tuple[Platform, dict[str, Any]]) -> dict[str, Any]:
    p, ids = depot
    return Records(p).get(p.system_context(), "order", ids["order"])


def _module(client: Any, html: str) -> str:
    src = re.search(r'src="(/w/_js/order\.[0-9a-f]+\.js)"', html)
    assert src, "no form module on the page"
    return str(client.get(src[1]).text)


def test_hidden_columns_are_nowhere_in_the_pages_or_the_form_module(client: Any, login: Any, depot: Any) -> None:
    oid = depot[1]["order"]
    login("admin")
    admin_module = _module(client, client.get(f"/w/order/{oid}/edit").text)
    assert '"unit_price"' in admin_module and '"amount": {"formula"' in admin_module
    login("packer1")
    view = client.get(f"/w/order/{oid}").text
    edit = client.get(f"/w/order/{oid}/edit").text
    for html in (view, edit):
        assert "unit_price" not in html and "Unit price" not in html and "12.50" not in html
        assert "list_price" not in html and "List price" not in html
        assert 'data-field="cost"' not in html and "Cost" not in html
        assert "25.00" in html and "55.00" in html  # amounts and the total, computed by the server
    assert 'data-col="bin"' in edit and 'name="lines[0].bin"' in edit and 'name="lines[0].id"' in edit
    module = _module(client, edit)
    assert module != admin_module
    for name in ("unit_price", "list_price", "cost"):
        assert name not in module, name
    # amount, total and margin read a hidden column or field: not computed in the browser
    assert '"amount"' not in module and '"total"' not in module and '"margin"' not in module
    login("clerk1")
    edit = client.get(f"/w/order/{oid}/edit").text
    assert 'data-col="bin"' not in edit and "lines[0].bin" not in edit and "Bin" not in edit and "A-01" not in edit
    assert re.search(r'name="lines\[0\]\.unit_price"[^>]*disabled', edit)
    assert 'data-col="unit_price"' in edit and '"amount": {"formula"' in _module(client, edit)


def test_compute_answers_nothing_hidden(client: Any, login: Any, depot: Any) -> None:
    ids = depot[1]
    body = {"po": "x", "lines": [{"item": str(ids["i1"]), "qty": "2"}]}
    token = login("admin")
    resp = client.post("/w/order/compute", json=body, headers={"X-CSRF-Token": token})
    assert resp.get_json()["rows"] == {"formula:lines.list_price": ["12.50"]}
    token = login("packer1")
    resp = client.post("/w/order/compute", json=body, headers={"X-CSRF-Token": token})
    assert resp.get_json() == {"values": {}, "rows": {}}


def _cell(form: HtmlForm, row: int, col: str) -> Any:
    """The input of one sub-table cell (``lines[row].col``)."""
    (found,) = [c for c in form.of("lines", col=col, row=row) if c.kind != "hidden" and c.name]
    return found


def _post(client: Any, url: str, form: HtmlForm, **extra: str) -> Any:
    pairs = [pair for c in form.controls for pair in c.successful()] + list(extra.items())
    return client.post(url, data=MultiDict(pairs))


def test_saving_the_edit_page_keeps_hidden_and_read_only_columns(client: Any, login: Any, depot: Any) -> None:
    oid = depot[1]["order"]
    login("packer1")
    form = HtmlForm(client.get(f"/w/order/{oid}/edit").text)
    _cell(form, 0, "qty").value = "4"
    resp = _post(client, f"/w/order/{oid}/edit", form)
    assert resp.status_code == 302, resp.text
    record = stored(depot)
    assert [(r["qty"], r["unit_price"], r["bin"], r["amount"]) for r in record["lines"]] == [
        (4, "12.50", "A-01", "50.00"),
        (1, "30.00", "B-02", "30.00"),
    ]
    login("clerk1")
    form = HtmlForm(client.get(f"/w/order/{oid}/edit").text)
    _cell(form, 1, "qty").value = "3"
    row = form.add_row("lines")
    _cell(form, row, "item").choose("Hinge")
    _cell(form, row, "qty").value = "1"
    resp = _post(client, f"/w/order/{oid}/edit", form)
    assert resp.status_code == 302, resp.text
    record = stored(depot)
    assert [(r["qty"], r["unit_price"], r["bin"]) for r in record["lines"]] == [
        (4, "12.50", "A-01"),
        (3, "30.00", "B-02"),
        (1, None, "A-00"),
    ]  # a new line: the defaults


def test_a_tampered_hidden_cell_is_refused(client: Any, login: Any, depot: Any) -> None:
    oid = depot[1]["order"]
    before = stored(depot)
    login("packer1")
    form = HtmlForm(client.get(f"/w/order/{oid}/edit").text)
    resp = _post(client, f"/w/order/{oid}/edit", form, **{"lines[1].unit_price": "0.01"})
    assert resp.status_code == 403
    assert re.search(r'<div class="banner error" role="alert">[^<]*<ul><li>is read-only</li></ul>', resp.text)
    assert "unit_price" not in resp.text and "Unit price" not in resp.text
    assert "12.50" not in resp.text and "0.01" not in resp.text
    login("clerk1")
    form = HtmlForm(client.get(f"/w/order/{oid}/edit").text)
    resp = _post(client, f"/w/order/{oid}/edit", form, **{"lines[0].unit_price": "1.00"})
    assert resp.status_code == 403
    assert errors_of(resp.text, "lines[1].unit_price") == ["is read-only"]
    assert stored(depot)["version"] == before["version"]


def test_export_and_import_template_pages_leave_hidden_columns_out(client: Any, login: Any, depot: Any) -> None:
    login("packer1")
    text = client.get("/w/order/export?format=csv").get_data(as_text=True)
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert "Lines.Quantity" in header and "Lines.Amount" in header
    assert not {"Lines.Unit price", "Lines.List price", "Cost"} & set(header) and "12.50" not in text
    login("clerk1")
    resp = client.get("/w/order/import/template")
    assert resp.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(resp.get_data())).active.iter_rows(values_only=True))
    assert rows == [("PO number", "Remark", "Cost", "Lines.Item", "Lines.Quantity")]
