"""A write guard holds on every write path: one guard that refuses ``material.status`` to every
writer but the rule "库存状态", tried through the API, the workspace (a form post), a batch,
a CSV import over HTTP, a rule's ``set`` and a rule's ``update ... set`` (the stock test pack;
SQLite, and PostgreSQL with ``DATABASE_URL``)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from apps import create_app
from engine.context import FixedClock
from engine.definitions.loader import read_pack_files
from engine.platform import Platform
from engine.store.db import Database
from engine.store.guards import FieldOwner
from engine.store.writer import Writer, WriteRequest
from tests.engine.rules.conftest import PACK
from tests.workspace.conftest import csrf_of
from tests.workspace.htmlform import errors_of

OWNER = "库存状态"
OWNED = "由规则「库存状态」维护, 不能修改"
RULES = f"""on material
rule "{OWNER}"
  when updated if changed(on_hand) and on_hand == 0
  then set status = "empty"

rule "盘点"
  when updated if changed(on_hand) and on_hand == 99
  then set status = "counted"

on order
rule "预留"
  when created
  then for line in lines
         update material where id == line.material set reserved = reserved + line.qty

rule "冻结"
  when created if status == "freeze"
  then for line in lines
         update material where id == line.material set status = "frozen"
"""
# the same set-based update, by the rule that owns the field
OWNER_UPDATES = RULES.replace(f'rule "{OWNER}"', 'rule "清空"').replace('rule "冻结"', f'rule "{OWNER}"')


def status_guard() -> FieldOwner:
    return FieldOwner(
        "material", frozenset({"status"}), lambda w: w.kind == "rule" and w.name == OWNER, f"规则「{OWNER}」"
    )


def _platform(db_url: str, rules: str = RULES) -> Platform:
    p = Platform(Database(db_url), FixedClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc)), reload_seconds=0)
    files = read_pack_files(PACK)
    files["rules/stock.rules"] = rules
    p.publish(PACK, files)
    with p.db.begin() as conn:
        p.users.add(conn, "admin", "admin-pw", ["admin"])
    p.bus.add_guard(status_guard(), name="material.status")
    return p


class Site:
    """The app over the platform: an API client with admin's token, a workspace login."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.app = create_app({"TESTING": True, "PLATFORM": platform, "SECRET_KEY": "guards"})
        self.client = self.app.test_client()
        token = self.client.post("/api/v1/auth/login", json={"username": "admin", "password": "admin-pw"})
        self.h = {"Authorization": f"Bearer {token.get_json()['token']}"}

    def api(self, method: str, path: str, **kw: Any) -> Any:
        return self.client.open("/api/v1" + path, method=method, headers=self.h, **kw)

    def material(self, **values: Any) -> dict[str, Any]:
        resp = self.api("POST", "/records/material", json={"name": "钢板", "on_hand": 10, **values})
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    def row(self, record_id: int) -> dict[str, Any]:
        table = self.platform.definitions().tables.table("material")
        with self.platform.db.connect() as conn:
            return dict(conn.execute(sa.select(table).where(table.c.id == record_id)).mappings().one())

    def login(self) -> str:
        page = self.client.get("/login")
        self.client.post("/login", data={"username": "admin", "password": "admin-pw", "csrf_token": csrf_of(page.text)})
        return csrf_of(self.client.get("/w/").text)


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    s = Site(_platform(db_url))
    yield s
    s.platform.db.dispose()


def test_the_api_may_not_write_the_field_but_writes_the_others(site: Site) -> None:
    resp = site.api("POST", "/records/material", json={"name": "钢板", "status": "ok"})
    assert resp.status_code == 403
    assert resp.get_json()["error"]["fields"] == {"status": [OWNED]}
    m = site.material()
    resp = site.api("PATCH", f"/records/material/{m['id']}", json={"status": "ok", "version": 1})
    assert resp.status_code == 403 and resp.get_json()["error"]["fields"] == {"status": [OWNED]}
    ok = site.api("PATCH", f"/records/material/{m['id']}", json={"on_hand": 12, "status": None, "version": 1})
    assert ok.status_code == 200, ok.get_json()  # an unchanged value is no change
    assert (site.row(m["id"])["on_hand"], site.row(m["id"])["status"]) == (12, None)
    en = site.api("PATCH", f"/records/material/{m['id']}?lang=en", json={"status": "ok", "version": 2})
    assert en.get_json()["error"]["fields"] == {"status": [f"is kept by 规则「{OWNER}」 and cannot be changed"]}


def test_a_workspace_form_post_may_not_write_it(site: Site) -> None:
    token = site.login()
    resp = site.client.post("/w/material/new", data={"csrf_token": token, "name": "钢板", "status": "ok"})
    assert resp.status_code == 403
    assert errors_of(resp.text, "status") == [OWNED]
    m = site.material()
    edit = site.client.post(
        f"/w/material/{m['id']}/edit",
        data={"csrf_token": token, "version": "1", "name": "钢板", "status": "ok", "on_hand": "10"},
    )
    assert edit.status_code == 403 and errors_of(edit.text, "status") == [OWNED]
    same = site.client.post(
        f"/w/material/{m['id']}/edit",
        data={"csrf_token": token, "version": "1", "name": "钢板 A", "status": "", "on_hand": "10"},
    )
    assert same.status_code == 302  # every field posted, the owned one unchanged
    assert site.row(m["id"])["name"] == "钢板 A"


def test_a_batch_may_not_write_it(site: Site) -> None:
    m = site.material()
    resp = site.api("POST", "/records/material/batch", json={"items": [{"name": "A"}, {"name": "B", "status": "ok"}]})
    assert resp.status_code == 403
    assert resp.get_json()["error"]["fields"] == {"items[1].status": [OWNED]}
    resp = site.api(
        "POST",
        "/records/material/batch",
        json={"items": [{"name": "C"}, {"id": m["id"], "version": 1, "status": "ok"}]},
    )
    assert resp.status_code == 403
    assert resp.get_json()["error"]["fields"] == {"items[1].status": [OWNED]}
    table = site.platform.definitions().tables.table("material")
    with site.platform.db.connect() as conn:  # all or nothing: neither A nor C was written
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 1


def test_a_csv_import_may_not_write_it(site: Site) -> None:
    body = "名称,在库,状态\n钢板,10,ok\n螺母,5,\n".encode("utf-8")
    resp = site.api(
        "POST",
        "/records/material/import",
        data={"file": (io.BytesIO(body), "m.csv")},
        content_type="multipart/form-data",
    )
    report = resp.get_json()
    assert resp.status_code == 422 and not report["written"]
    assert [(e["row"], e["column"], e["message"]) for e in report["errors"]] == [(2, "状态", OWNED)]
    resp = site.api(
        "POST",
        "/records/material/import",
        data={"file": (io.BytesIO(body), "m.csv"), "mode": "skip-invalid"},
        content_type="multipart/form-data",
    )
    assert resp.get_json()["created"] == 1 and resp.get_json()["failed"] == 1


def test_a_rule_set_is_refused_unless_it_is_the_owner(site: Site) -> None:
    m = site.material()
    resp = site.api("PATCH", f"/records/material/{m['id']}", json={"on_hand": 99, "version": 1})
    assert resp.status_code == 422
    assert "rule '盘点' failed in its 'set' action" in resp.get_json()["error"]["message"]
    assert OWNED in resp.get_json()["error"]["message"]
    assert (site.row(m["id"])["on_hand"], site.row(m["id"])["version"]) == (10, 1)  # rolled back
    resp = site.api("PATCH", f"/records/material/{m['id']}", json={"on_hand": 0, "version": 1})
    assert resp.status_code == 200 and resp.get_json()["status"] == "empty"


def test_a_rule_update_set_is_refused_unless_it_is_the_owner(site: Site) -> None:
    m = site.material()
    resp = site.api("POST", "/records/order", json={"status": "freeze", "lines": [{"material": m["id"], "qty": 2}]})
    assert resp.status_code == 422
    assert "rule '冻结' failed in its 'update' action" in resp.get_json()["error"]["message"]
    assert (site.row(m["id"])["reserved"], site.row(m["id"])["status"]) == (0, None)
    resp = site.api("POST", "/records/order", json={"lines": [{"material": m["id"], "qty": 2}]})
    assert resp.status_code == 201  # the same rule file, without the owned field
    assert site.row(m["id"])["reserved"] == 2


def test_the_owner_rule_may_update_set_it(db_url: str) -> None:
    site = Site(_platform(db_url, OWNER_UPDATES))
    try:
        m = site.material()
        resp = site.api("POST", "/records/order", json={"status": "freeze", "lines": [{"material": m["id"], "qty": 2}]})
        assert resp.status_code == 201, resp.get_json()
        row = site.row(m["id"])
        assert (row["reserved"], row["status"], row["version"]) == (2, "frozen", 3)
        hist = site.api("GET", f"/records/material/{m['id']}/history").get_json()
        assert [(a["source"], a["changes"]) for a in hist["audit"][1:]] == [
            ("rule", {"reserved": [0, 2]}),
            ("rule", {"status": [None, "frozen"]}),
        ]
    finally:
        site.platform.db.dispose()


def test_guards_see_the_writer_of_every_path(site: Site) -> None:
    """What the guard is told: kind, source, user and rule name, per path."""
    seen: list[tuple[str, str, str, Any, Any]] = []

    def spy(conn: Any, request: WriteRequest) -> None:
        w = request.writer
        seen.append((request.action, request.form, w.kind, w.source, w.name))

    site.platform.bus.add_guard(spy, name="spy")
    m = site.material()
    b = site.api("POST", "/records/material/batch", json={"items": [{"name": "B"}]}).get_json()["items"][0]
    site.api(
        "POST",
        "/records/material/import",
        data={"file": (io.BytesIO("名称\n螺母\n".encode()), "m.csv")},
        content_type="multipart/form-data",
    )
    token = site.login()
    site.client.post("/w/material/new", data={"csrf_token": token, "name": "W"})
    site.api("PATCH", f"/records/material/{m['id']}", json={"on_hand": 0, "version": 1})
    site.api("POST", "/records/order", json={"lines": [{"material": m["id"], "qty": 1}]})
    assert site.api("DELETE", f"/records/material/{b['id']}").status_code == 204
    assert seen == [
        ("create", "material", "user", "api", None),
        ("create", "material", "user", "batch", None),
        ("create", "material", "import", "import", None),
        ("create", "material", "user", "web", None),
        ("update", "material", "user", "api", None),
        ("update", "material", "rule", "rule", OWNER),
        ("create", "order", "user", "api", None),
        ("update", "material", "rule", "rule", "预留"),
        ("delete", "material", "user", "api", None),
    ]
    admin = site.platform.user_context("admin")
    assert Writer.user(admin, "api").user_id == admin.user_id


def test_a_guard_plugin_is_registered_from_its_entry_point(
    db_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from engine import plugins

    (tmp_path / "frozen_guard-1.0.dist-info").mkdir()
    (tmp_path / "frozen_guard-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: frozen-guard\nVersion: 1.0\n"
    )
    (tmp_path / "frozen_guard-1.0.dist-info" / "entry_points.txt").write_text(
        "[lowcode.guards]\nno_prices = frozen_guard:NoPrices\n"
    )
    (tmp_path / "frozen_guard.py").write_text(
        "from engine.store.writer import WriteRefused\n"
        "class NoPrices:\n"
        "    def __call__(self, conn, request):\n"
        "        if request.form == 'material' and request.changes_field('price'):\n"
        "            raise WriteRefused('prices are frozen', {'price': ['frozen']})\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins.clear_cache()
    try:
        site = Site(_platform(db_url))
        assert "no_prices" in site.platform.bus.guards
        resp = site.api("POST", "/records/material", json={"name": "钢板", "price": "3.00"})
        assert resp.status_code == 403 and resp.get_json()["error"]["fields"] == {"price": ["frozen"]}
        site.platform.db.dispose()
    finally:
        plugins.clear_cache()
        sys.modules.pop("frozen_guard", None)
