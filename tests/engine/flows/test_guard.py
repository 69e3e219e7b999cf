"""State-machine mode: the flow owns ``request.status``; every other writer is refused on
every path (API create and update, workspace form post, batch, CSV import, a rule's ``set``,
a rule's ``update ... set``), while the flow's own actions move it (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from typing import Any, Iterator

import pytest

from apps import create_app
from engine.definitions.loader import read_pack_files
from engine.errors import PermissionDenied
from tests.workspace.conftest import csrf_of
from tests.workspace.htmlform import errors_of

from .runtime_kit import PACK, Flows, clock_fixture, flows_fixture  # noqa: F401  (fixtures)
from .yaml_flows import LIFECYCLE

OWNED = "由流程「订单生命周期」维护, 不能修改"
RULES = """on request
rule "盘点" when updated if changed(title) and title == "改" then set status = "counted"

on part
rule "越权" when created if qty == 7 then update request where title == "单" set status = "hacked"
"""


class Site:
    def __init__(self, flows: Flows) -> None:
        self.flows = flows
        files = read_pack_files(PACK)
        files["flows/lifecycle.yaml"] = LIFECYCLE
        files["rules/guard.rules"] = RULES
        flows.platform.publish(PACK, files)
        self.app = create_app({"TESTING": True, "PLATFORM": flows.platform, "SECRET_KEY": "guard"})
        self.client = self.app.test_client()
        token = self.client.post("/api/v1/auth/login", json={"username": "admin", "password": "admin-pw"})
        self.h = {"Authorization": f"Bearer {token.get_json()['token']}"}

    def api(self, method: str, path: str, **kw: Any) -> Any:
        return self.client.open("/api/v1" + path, method=method, headers=self.h, **kw)

    def request(self, **values: Any) -> dict[str, Any]:
        resp = self.api("POST", "/records/request", json={"title": "单", **values})
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    def login(self) -> str:
        page = self.client.get("/login")
        self.client.post("/login", data={"username": "admin", "password": "admin-pw", "csrf_token": csrf_of(page.text)})
        return csrf_of(self.client.get("/w/").text)


@pytest.fixture
def site(flows: Flows) -> Iterator[Site]:
    yield Site(flows)


def test_the_flow_sets_the_status_and_its_actions_move_it(site: Site) -> None:
    r = site.request()
    assert r["status"] == "待审核"
    flows = site.flows
    task = flows.task_of(r["id"], "pending")
    assert flows.inbox.task(flows.ctx("plan1"), task["id"])["actions"] == ["schedule", "cancel", "comment"]
    with pytest.raises(PermissionDenied):
        flows.act("staff1", task["id"], "schedule")  # the edge needs role planner
    flows.act("plan1", task["id"], "schedule")
    assert flows.record(r["id"])["status"] == "已排产"
    flows.act("plan1", flows.task_of(r["id"], "scheduled")["id"], "ship")
    assert flows.record(r["id"])["status"] == "已出库" and flows.instance(r["id"])["status"] == "completed"


def test_the_api_may_not_write_it(site: Site) -> None:
    resp = site.api("POST", "/records/request", json={"title": "A", "status": "已出库"})
    assert resp.status_code == 403 and resp.get_json()["error"]["fields"] == {"status": [OWNED]}
    r = site.request()
    resp = site.api("PATCH", f"/records/request/{r['id']}", json={"status": "已出库", "version": r["version"]})
    assert resp.status_code == 403 and resp.get_json()["error"]["fields"] == {"status": [OWNED]}
    ok = site.api("PATCH", f"/records/request/{r['id']}", json={"remark": "x", "version": r["version"]})
    assert ok.status_code == 200, ok.get_json()


def test_a_workspace_form_post_may_not_write_it(site: Site) -> None:
    token = site.login()
    r = site.request()
    edit = site.client.post(
        f"/w/request/{r['id']}/edit",
        data={"csrf_token": token, "version": str(r["version"]), "title": "单", "status": "已出库"},
    )
    assert edit.status_code == 403 and errors_of(edit.text, "status") == [OWNED]


def test_a_batch_may_not_write_it(site: Site) -> None:
    r = site.request()
    resp = site.api(
        "POST", "/records/request/batch", json={"items": [{"id": r["id"], "version": r["version"], "status": "x"}]}
    )
    assert resp.status_code == 403 and resp.get_json()["error"]["fields"] == {"items[0].status": [OWNED]}


def test_a_csv_import_may_not_write_it(site: Site) -> None:
    body = "标题,状态\n甲,已出库\n".encode("utf-8")
    resp = site.api(
        "POST",
        "/records/request/import",
        data={"file": (io.BytesIO(body), "r.csv")},
        content_type="multipart/form-data",
    )
    report = resp.get_json()
    assert resp.status_code == 422 and [(e["column"], e["message"]) for e in report["errors"]] == [("状态", OWNED)]


def test_rules_may_not_set_it_nor_update_set_it(site: Site) -> None:
    r = site.request()
    resp = site.api("PATCH", f"/records/request/{r['id']}", json={"title": "改", "version": r["version"]})
    assert resp.status_code == 422 and OWNED in resp.get_json()["error"]["message"]
    resp = site.api("POST", "/records/part", json={"name": "单", "qty": 7})
    assert resp.status_code == 422 and OWNED in resp.get_json()["error"]["message"]
    assert site.flows.record(r["id"])["status"] == "待审核"
