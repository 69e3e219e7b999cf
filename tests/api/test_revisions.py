"""A record created under revision 1 still runs by revision 1 after revision 2 removed one of
its fields: read (API and workspace page), its JavaScript, validated and recomputed (preview),
while revision 2 runs new records; each revision is compiled once."""

from __future__ import annotations

import re
from typing import Any

from engine import runtime
from tests.api.revision_packs import DROPS, PACK, QUOTE, files, make, token
from tests.workspace.conftest import csrf_of


def _publish_2(platform: Any) -> None:
    result = platform.publish(PACK, files(2), migrations=DROPS)
    assert result.revision == 2
    assert result.schema_changes == [
        "add_column f_quote.channel",
        "drop_column f_quote.discount (no longer defined)",
        "drop_column f_quote__lines.note (no longer defined)",
    ]


def test_a_revision_1_record_is_read_validated_and_recomputed_by_revision_1_after_revision_2(db_url: str) -> None:
    platform, app = make(db_url)
    client = app.test_client()
    admin = token(client, "admin")
    made = client.post("/api/v1/records/quote", headers=admin, json=QUOTE).get_json()
    assert made["amount"] == "10.00" and made["saving"] == "10.00", made
    assert [f["colour"] for f in made["flags"]] == ["red"]
    _publish_2(platform)

    # revision 2 (active) no longer has the field; the stored amount is kept
    now = client.get(f"/api/v1/records/quote/{made['id']}", headers=admin).get_json()
    assert "discount" not in now and "saving" not in now and "note" not in now["lines"][0]
    assert now["amount"] == "10.00" and now["channel"] is None
    # revision 1 reads it with the field, the column and its live formula, from the journal
    resp = client.get(f"/api/v1/records/quote/{made['id']}?revision=1", headers=admin)
    assert resp.status_code == 200 and resp.headers["ETag"] == '"1"'
    then = resp.get_json()
    assert then["discount"] == "0.5000" and then["saving"] == "10.00" and "channel" not in then
    assert then["lines"][0]["note"] == "易碎 / fragile" and then["lines"][0]["weight"] == "1.5000"
    assert [f["colour"] for f in then["flags"]] == ["red"]

    # validated and recomputed by revision 1, nothing written
    url = f"/api/v1/records/quote/{made['id']}/preview"
    same = client.post(url + "?revision=1", headers=admin, json={}).get_json()
    assert same["amount"] == "10.00" and same["discount"] == "0.5000", same
    changed = client.post(url + "?revision=1", headers=admin, json={"discount": "0.25"}).get_json()
    assert changed["amount"] == "15.00" and changed["saving"] == "5.00", changed
    bad = client.post(url + "?revision=1", headers=admin, json={"discount": "2", "qty": 0})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"discount", "qty"}
    gone = client.post(url + "?revision=1", headers=admin, json={"discount": None}).get_json()
    assert gone["error"]["fields"] == {"discount": ["必填"]}
    # the active revision computes by its own formula, and knows no discount
    assert client.post(url, headers=admin, json={}).get_json()["amount"] == "20.00"
    unknown = client.post(url, headers=admin, json={"discount": "0.1"})
    assert unknown.status_code == 422 and "discount" in unknown.get_json()["error"]["fields"]
    after = client.get(f"/api/v1/records/quote/{made['id']}", headers=admin).get_json()
    assert after["version"] == 1 and after["amount"] == "10.00"

    # revision 2 works for new records; revision 1 sees them without the field it never had
    new = client.post(
        "/api/v1/records/quote",
        headers=admin,
        json={"ref": "Q-2", "qty": 600, "price": "2.00", "channel": "tmall", "lines": [{"item": "把手"}]},
    ).get_json()
    assert new["amount"] == "1200.00" and [f["colour"] for f in new["flags"]] == ["orange"]
    old_view = client.get(f"/api/v1/records/quote/{new['id']}?revision=1", headers=admin).get_json()
    assert old_view["discount"] is None and old_view["lines"][0]["note"] is None
    assert client.post(f"/api/v1/records/quote/{new['id']}/preview?revision=1", headers=admin, json={}).get_json()[
        "error"
    ]["fields"] == {"discount": ["必填"]}
    assert (
        client.post(
            f"/api/v1/records/quote/{new['id']}/preview?revision=1", headers=admin, json={"discount": "0.1"}
        ).get_json()["amount"]
        == "1080.00"
    )


def test_the_workspace_shows_a_record_and_its_javascript_by_revision_1(db_url: str) -> None:
    platform, app = make(db_url)
    client = app.test_client()
    made = client.post("/api/v1/records/quote", headers=token(client, "admin"), json=QUOTE).get_json()
    _publish_2(platform)
    client.post(
        "/login", data={"username": "clerk", "password": "clerk123", "csrf_token": csrf_of(client.get("/login").text)}
    )

    page = client.get(f"/w/quote/{made['id']}?revision=1")
    assert page.status_code == 200
    assert 'data-field="discount"' in page.text and "折扣率" in page.text and "易碎 / fragile" in page.text
    assert 'data-revision="1"' in page.text and 'data-field="channel"' not in page.text
    # hidden from the clerk: saving by revision 1, the lines' weight by revision 2
    assert 'data-field="saving"' not in page.text and "重量" not in page.text and "品名" in page.text
    assert "/edit" not in page.text  # read only: changes go through the active revision
    active = client.get(f"/w/quote/{made['id']}")
    assert 'data-field="discount"' not in active.text and 'data-field="channel"' in active.text

    version = re.search(r"/w/_js/quote\.(\w+)\.js", client.get("/w/quote/new").text)[1]  # type: ignore[index]
    now = client.get(f"/w/_js/quote.{version}.js")
    assert "discount" not in now.text and now.headers["Cache-Control"].endswith("immutable")
    then = client.get(f"/w/_js/quote.{version}.js?revision=1")
    assert then.status_code == 200 and '"discount"' in then.text and '"amount"' in then.text
    assert '"saving"' not in then.text  # revision 1 hides it from the clerk
    assert then.text != now.text
    assert client.get(f"/w/quote/{made['id']}?revision=7").status_code == 404
    assert client.get(f"/w/quote/{made['id']}?revision=x").status_code == 404


def test_pinned_reads_name_what_is_wrong(db_url: str) -> None:
    platform, app = make(db_url)
    client = app.test_client()
    admin = token(client, "admin")
    made = client.post("/api/v1/records/quote", headers=admin, json=QUOTE).get_json()
    bad = client.get(f"/api/v1/records/quote/{made['id']}?revision=0", headers=admin)
    assert bad.status_code == 400
    assert bad.get_json()["error"]["message"] == "revision 必须是从 1 起的整数，而不是 '0'"
    missing = client.get(f"/api/v1/records/quote/{made['id']}?revision=3", headers={**admin, "Accept-Language": "en"})
    assert missing.status_code == 404
    assert missing.get_json()["error"]["message"] == "pack 'quotes' has no revision 3"
    assert (
        client.get(f"/api/v1/records/quote/{made['id']}?revision=3", headers=admin).get_json()["error"]["message"]
        == "包 'quotes' 没有第 3 修订版"
    )
    # what either revision hides from the clerk stays hidden when reading by revision 1
    platform.publish(PACK, files(2), migrations=DROPS)
    clerk = token(client, "clerk")
    then = client.get(f"/api/v1/records/quote/{made['id']}?revision=1", headers=clerk).get_json()
    assert "saving" not in then and "weight" not in then["lines"][0] and then["discount"] == "0.5000"
    now = client.get(f"/api/v1/records/quote/{made['id']}", headers=clerk).get_json()
    assert "weight" not in now["lines"][0] and now["lines"][0]["item"] == "合页"
    # the clerk may not write the price, under any revision
    refused = client.post(
        f"/api/v1/records/quote/{made['id']}/preview?revision=1", headers=clerk, json={"price": "1.00"}
    )
    assert refused.status_code == 403 and set(refused.get_json()["error"]["fields"]) == {"price"}


def test_each_revision_is_compiled_once_for_every_caller(db_url: str) -> None:
    before = runtime.COMPILATIONS.copy()
    platform, app = make(db_url)
    key1 = platform.definitions().key
    assert key1 == (("quotes", 1),) and runtime.COMPILATIONS[key1] - before[key1] == 1
    client = app.test_client()
    admin = token(client, "admin")
    # validation, formulas and rules (a create), a list, a read
    made = client.post("/api/v1/records/quote", headers=admin, json=QUOTE).get_json()
    assert made["flags"]
    assert client.get("/api/v1/records/quote?filter=amount > 1", headers=admin).get_json()["total"] == 1
    client.post(
        "/login", data={"username": "admin", "password": "admin123", "csrf_token": csrf_of(client.get("/login").text)}
    )
    # the workspace: a page, its JavaScript, a server-side compute
    page = client.get("/w/quote/new").text
    version = re.search(r"/w/_js/quote\.(\w+)\.js", page)[1]  # type: ignore[index]
    assert "qty * price" not in client.get(f"/w/_js/quote.{version}.js").text  # compiled, not the source
    assert (
        client.post("/w/quote/compute", json={"qty": "2"}, headers={"X-CSRF-Token": csrf_of(page)}).status_code == 200
    )
    defs = platform.definitions()
    assert runtime.COMPILATIONS[key1] - before[key1] == 1
    # one form logic for the store, the rules' rollups and the workspace's JavaScript
    logic = defs.logic("quote")
    assert platform.store().logic("quote") is logic
    from apps.workspace.clientjs import compiled

    spec = defs.forms["quote"]
    assert compiled(defs, "quote", None, spec.field("amount"), "formula") is logic.expression(None, "amount", "formula")

    _publish_2(platform)
    key2 = platform.definitions().key
    assert key2 == (("quotes", 2),) and runtime.COMPILATIONS[key2] - before[key2] == 1
    # revision 1 is still the same compiled object, not compiled again
    assert platform.definitions_at("quotes", 1) is defs
    client.get(f"/api/v1/records/quote/{made['id']}?revision=1", headers=admin)
    client.get(f"/w/quote/{made['id']}?revision=1")
    client.post("/api/v1/records/quote", headers=admin, json={"ref": "Q-3", "qty": 1, "price": "1"})
    assert runtime.COMPILATIONS[key1] - before[key1] == 1
    assert runtime.COMPILATIONS[key2] - before[key2] == 1

    # another process (its own platform) compiles each revision it runs once, too
    from engine.platform import Platform
    from engine.store.db import Database

    other = Platform(Database(db_url), reload_seconds=0)
    assert other.definitions().key == key2
    for _ in range(3):
        other.definitions_at("quotes", 1)
        other.definitions()
    assert runtime.COMPILATIONS[key1] - before[key1] == 2
    assert runtime.COMPILATIONS[key2] - before[key2] == 2
    other.db.dispose()


def test_every_expression_of_a_revision_is_compiled_once(db_url: str, monkeypatch: Any) -> None:
    """Loading a revision checks its expressions; the write-time logic, the rules and the
    workspace's JavaScript use those same compiled expressions (none compiled twice)."""
    from engine.expr import compiled as expr

    first, _ = make(db_url)
    first.db.dispose()
    made: dict[tuple[str, str], int] = {}
    init = expr.CompiledExpr.__init__

    def counting(self: Any, source: str, tree: Any, names: Any, form: str) -> None:
        made[(source, form)] = made.get((source, form), 0) + 1
        init(self, source, tree, names, form)

    monkeypatch.setattr(expr.CompiledExpr, "__init__", counting)
    expr.clear_cache()
    from apps import create_app
    from engine.platform import Platform
    from engine.store.db import Database

    platform = Platform(Database(db_url), reload_seconds=0)  # a process starting on the published revision
    client = create_app({"TESTING": True, "PLATFORM": platform, "SECRET_KEY": "t"}).test_client()
    client.post("/api/v1/records/quote", headers=token(client, "admin"), json=QUOTE)
    client.post(
        "/login", data={"username": "admin", "password": "admin123", "csrf_token": csrf_of(client.get("/login").text)}
    )
    version = re.search(r"/w/_js/quote\.(\w+)\.js", client.get("/w/quote/new").text)[1]  # type: ignore[index]
    assert client.get(f"/w/_js/quote.{version}.js").status_code == 200
    assert ("qty * price * (1 - discount)", "quote") in made and ("discount > 0.3", "quote") in made
    assert {k: n for k, n in made.items() if n > 1} == {}
    platform.db.dispose()
