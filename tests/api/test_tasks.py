"""The inbox through the REST API over a real database (SQLite, or PostgreSQL with DATABASE_URL):
an expense claim's tasks approved, rejected back to a chosen node, acted on twice (409), by the
wrong user (403), in a batch; withdrawn; its flow read; the graph drawn; all in the OpenAPI document."""

from __future__ import annotations

import io
from typing import Any, Callable, Iterator

import jsonschema
import pytest

from apps import create_app
from engine.platform import Platform
from tests.api.flowpack import FLOW, approvals_platform, login_headers

Headers = Callable[[str], dict[str, str]]


@pytest.fixture
def platform(db_url: str) -> Iterator[Platform]:
    p = approvals_platform(db_url)
    yield p
    p.db.dispose()


@pytest.fixture
def client(platform: Platform) -> Any:
    return create_app({"TESTING": True, "PLATFORM": platform}).test_client()


@pytest.fixture
def auth(client: Any) -> Headers:
    return login_headers(client)


def claim(client: Any, auth: Headers, amount: str, title: str = "出差北京", user: str = "staff1") -> int:
    resp = client.post(
        "/api/v1/records/expense",
        headers=auth(user),
        json={"title": title, "amount": amount, "bank_account": "6222 0000 1111"},
    )
    assert resp.status_code == 201, resp.get_json()
    return int(resp.get_json()["id"])


def open_tasks(client: Any, auth: Headers, user: str, **query: str) -> dict[str, Any]:
    resp = client.get("/api/v1/tasks", headers=auth(user), query_string=query)
    assert resp.status_code == 200, resp.get_json()
    return dict(resp.get_json())


def task_of(client: Any, auth: Headers, user: str, record: int) -> dict[str, Any]:
    """The open task ``user`` has on the expense ``record`` (exactly one)."""
    found = [t for t in open_tasks(client, auth, user)["items"] if t["record_id"] == record]
    assert len(found) == 1, found
    return found[0]


def flow_of(client: Any, auth: Headers, record: int, user: str = "admin") -> dict[str, Any]:
    resp = client.get(f"/api/v1/records/expense/{record}/flow", headers=auth(user))
    assert resp.status_code == 200, resp.get_json()
    return dict(resp.get_json())


def test_the_inbox_lists_my_roles_tasks_with_counts_and_approve_moves_the_record_on(client, auth):
    small, large = claim(client, auth, "800.00"), claim(client, auth, "25000.00", "采购服务器")
    inbox = open_tasks(client, auth, "mgr1")
    assert inbox["total"] == 2 and inbox["counts"] == {FLOW: 2}
    assert {(t["record_id"], t["node"]) for t in inbox["items"]} == {(small, "manager"), (large, "manager")}
    assert open_tasks(client, auth, "mgr2")["total"] == 2  # the role's tasks: every manager sees them
    assert open_tasks(client, auth, "fin1")["total"] == 0
    assert open_tasks(client, auth, "mgr1", flow="nothing")["total"] == 0
    one = client.get(f"/api/v1/tasks/{task_of(client, auth, 'mgr1', small)['id']}", headers=auth("mgr1")).get_json()
    assert one["node"] == "manager" and set(one["editable"]) == {"note"}
    assert "bank_account" not in one["record"]  # the node shows title, amount, category, note only

    done = client.post(
        f"/api/v1/tasks/{one['id']}/approve", headers=auth("mgr1"), json={"comment": "同意", "values": {"note": "ok"}}
    )
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "done"
    record = client.get(f"/api/v1/records/expense/{small}", headers=auth("admin")).get_json()
    assert record["note"] == "ok"  # the node's editable field, written with the approval
    assert task_of(client, auth, "fin1", small)["node"] == "finance"  # small: the default edge, no director
    assert open_tasks(client, auth, "mgr1")["counts"] == {FLOW: 1}


def test_a_second_approve_is_409_and_someone_elses_task_403(client, auth):
    record = claim(client, auth, "800.00")
    task = task_of(client, auth, "mgr1", record)
    denied = client.post(f"/api/v1/tasks/{task['id']}/approve", headers=auth("fin1"), json={})
    assert denied.status_code == 403 and denied.get_json()["error"]["code"] == "forbidden"
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=auth("staff2")).status_code == 403
    first = client.post(f"/api/v1/tasks/{task['id']}/approve", headers=auth("mgr1"))
    assert first.status_code == 200, first.get_json()
    again = client.post(f"/api/v1/tasks/{task['id']}/approve", headers=auth("mgr2"), json={"comment": "me too"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    history = flow_of(client, auth, record)["history"]
    assert [e["action"] for e in history].count("approved") == 1
    assert client.post("/api/v1/tasks/999999/approve", headers=auth("mgr1")).status_code == 404


def test_reject_needs_a_comment_and_goes_back_to_the_chosen_node(client, auth):
    record = claim(client, auth, "25000.00", "采购服务器")
    for user, node in (("mgr1", "manager"), ("dir1", "director")):
        task = task_of(client, auth, user, record)
        assert task["node"] == node
        assert client.post(f"/api/v1/tasks/{task['id']}/approve", headers=auth(user)).status_code == 200
    task = task_of(client, auth, "fin1", record)
    bare = client.post(f"/api/v1/tasks/{task['id']}/reject", headers=auth("fin1"), json={"to_node": "manager"})
    assert bare.status_code == 422 and list(bare.get_json()["error"]["fields"]) == ["comment"]
    bad = client.post(f"/api/v1/tasks/{task['id']}/reject", headers=auth("fin1"), json={"comment": 5, "where": "up"})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"comment", "where"}
    back = client.post(
        f"/api/v1/tasks/{task['id']}/reject",
        headers=auth("fin1"),
        json={"comment": "发票抬头不对", "to_node": "manager"},
    )
    assert back.status_code == 200, back.get_json()
    again = task_of(client, auth, "mgr1", record)
    assert again["node"] == "manager" and again["id"] != task["id"]
    assert open_tasks(client, auth, "fin1")["total"] == 0
    flow = flow_of(client, auth, record)
    assert flow["status"] == "running"
    rejected = [e for e in flow["history"] if e["action"] in ("rejected", "returned")]
    assert rejected and rejected[-1]["comment"] == "发票抬头不对" and rejected[-1]["to_node"] == "manager"


def test_batch_approve_says_which_were_refused(client, auth):
    ids = [claim(client, auth, f"{n}00.00", f"报销 {n}") for n in (1, 2, 3)]
    tasks = [task_of(client, auth, "mgr1", r)["id"] for r in ids]
    assert client.post(f"/api/v1/tasks/{tasks[2]}/approve", headers=auth("mgr2")).status_code == 200
    resp = client.post(
        "/api/v1/tasks/batch-approve", headers=auth("mgr1"), json={"ids": tasks + [999999], "comment": "批量同意"}
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["approved"] == 2 and body["refused"] == 2
    why = {i["id"]: i["error"]["code"] for i in body["items"] if not i["ok"]}
    assert why == {tasks[2]: "conflict", 999999: "not_found"}
    assert {task_of(client, auth, "fin1", r)["node"] for r in ids} == {"finance"}
    bad = client.post("/api/v1/tasks/batch-approve", headers=auth("mgr1"), json={"ids": []})
    assert bad.status_code == 422 and list(bad.get_json()["error"]["fields"]) == ["ids"]


def test_the_starter_withdraws_before_the_first_approval_only(client, auth):
    record = claim(client, auth, "300.00")
    other = client.post(f"/api/v1/records/expense/{record}/flow/withdraw", headers=auth("staff2"))
    assert other.status_code == 404  # staff2 may not even read staff1's claims (rows: owner == me)
    manager = client.post(f"/api/v1/records/expense/{record}/flow/withdraw", headers=auth("mgr1"))
    assert manager.status_code == 403
    assert manager.get_json()["error"]["message"] == "only the starter can withdraw flow 'expense_approval'"
    resp = client.post(
        f"/api/v1/records/expense/{record}/flow/withdraw", headers=auth("staff1"), json={"comment": "填错了"}
    )
    assert resp.status_code == 200, resp.get_json()
    assert flow_of(client, auth, record)["status"] == "withdrawn"
    assert open_tasks(client, auth, "mgr1")["total"] == 0
    later = claim(client, auth, "300.00")
    task = task_of(client, auth, "mgr1", later)
    assert client.post(f"/api/v1/tasks/{task['id']}/approve", headers=auth("mgr1")).status_code == 200
    refused = client.post(f"/api/v1/records/expense/{later}/flow/withdraw", headers=auth("staff1"))
    assert refused.status_code == 403 and flow_of(client, auth, later)["status"] == "running"
    assert refused.get_json()["error"]["message"] == (
        "flow 'expense_approval' cannot be withdrawn after the first approval"
    )
    again = client.post(f"/api/v1/records/expense/{record}/flow/withdraw", headers=auth("staff1"))
    assert again.status_code == 404  # withdrawn already: no running flow


def test_the_record_flow_shows_instance_path_tasks_and_history(client, auth):
    record = claim(client, auth, "25000.00")
    task = task_of(client, auth, "mgr1", record)
    client.post(f"/api/v1/tasks/{task['id']}/approve", headers=auth("mgr1"), json={"comment": "可以"})
    flow = flow_of(client, auth, record, "staff1")
    assert flow["flow"] == FLOW and flow["status"] == "running"
    path = [s if isinstance(s, str) else s["node"] for s in flow["path"]]
    assert path[:3] == ["start", "manager", "route"] and path[-1] == "director"
    assert [t["node"] for t in flow["tasks"] if t["status"] == "open"] == ["director"]
    assert any(
        e["action"] == "approved" and e["comment"] == "可以" and e["user_name"] == "mgr1" for e in flow["history"]
    )
    nothing = client.post(
        "/api/v1/records/expense", headers=auth("staff1"), json={"title": "零元", "amount": "0"}
    ).get_json()
    gone = client.get(f"/api/v1/records/expense/{nothing['id']}/flow", headers=auth("admin"))
    assert gone.status_code == 404  # amount 0: the flow's start condition does not hold
    started = client.post(
        f"/api/v1/records/expense/{nothing['id']}/flow/start", headers=auth("admin"), json={"flow": FLOW}
    )
    assert started.status_code == 201, started.get_json()
    assert started.get_json()["status"] == "running"


def test_flows_and_the_graph_as_svg(client, auth):
    listed = client.get("/api/v1/flows", headers=auth("staff1")).get_json()
    assert [f["name"] for f in listed["items"]] == [FLOW]
    assert [n["id"] for n in listed["items"][0]["nodes"]] == [
        "start",
        "manager",
        "route",
        "director",
        "finance",
        "done",
    ]
    plain = client.get(f"/api/v1/flows/{FLOW}/graph.svg", headers=auth("staff1"))
    assert plain.status_code == 200 and plain.mimetype == "image/svg+xml"
    text = plain.get_data(as_text=True)
    assert text.startswith("<svg") and "Manager approval" in text and " current" not in text
    chinese = client.get(f"/api/v1/flows/{FLOW}/graph.svg?lang=zh-CN", headers=auth("staff1")).get_data(as_text=True)
    assert "经理审批" in chinese
    record = claim(client, auth, "800.00")
    marked = client.get(f"/api/v1/flows/{FLOW}/graph.svg?record={record}", headers=auth("staff1"))
    drawn = marked.get_data(as_text=True)
    assert marked.status_code == 200
    assert '<g class="node start visited" data-node="start">' in drawn  # the path so far
    assert '<g class="node approval current" data-node="manager">' in drawn  # where it stands
    assert '<g class="edge visited" data-from="start" data-to="manager">' in drawn
    assert client.get(f"/api/v1/flows/{FLOW}/graph.svg?record={record}", headers=auth("staff2")).status_code == 404
    assert client.get("/api/v1/flows/nope/graph.svg", headers=auth("staff1")).status_code == 404
    assert client.get(f"/api/v1/flows/{FLOW}/graph.svg?record=x", headers=auth("staff1")).status_code == 400


def test_every_inbox_route_is_in_the_openapi_document(client, auth):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    for action in ("approve", "reject", "transfer", "add-approver", "comment", "submit"):
        op = paths[f"/tasks/{{id}}/{action}"]["post"]
        assert {"200", "403", "404", "409", "422"} <= set(op["responses"]), action
        assert set(op["requestBody"]["content"]["application/json"]["schema"]["properties"]) == {
            "comment",
            "values",
            "to_node",
            "to_user",
            "where",
            "attachments",
        }
    assert {"200", "400", "401"} <= set(paths["/tasks"]["get"]["responses"])
    assert "422" in paths["/tasks/batch-approve"]["post"]["responses"]
    for suffix in ("", "/start", "/withdraw"):
        assert f"/records/expense/{{id}}/flow{suffix}" in paths
    assert "image/svg+xml" in paths["/flows/{name}/graph.svg"]["get"]["responses"]["200"]["content"]
    for path, ops in paths.items():
        for method, op in ops.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body and "$ref" not in body["schema"]:
                jsonschema.Draft202012Validator.check_schema(body["schema"])
            for status, answer in op["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if schema and "$ref" not in schema:
                    jsonschema.Draft202012Validator.check_schema(schema)
                assert status.isdigit(), (path, method, status)


def test_transfer_add_an_approver_and_comment_with_an_attachment(client, auth):
    record = claim(client, auth, "800.00")
    task = task_of(client, auth, "mgr1", record)
    upload = client.post(
        "/api/v1/files",
        headers=auth("mgr1"),
        data={"file": (io.BytesIO(b"%PDF-1.4 invoice"), "发票.pdf")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.get_json()
    file_id = upload.get_json()["id"]
    said = client.post(
        f"/api/v1/tasks/{task['id']}/comment",
        headers=auth("mgr1"),
        json={"comment": "见附件发票", "attachments": [file_id]},
    )
    assert said.status_code == 200 and said.get_json()["status"] == "open"
    bad = client.post(f"/api/v1/tasks/{task['id']}/transfer", headers=auth("mgr1"), json={"comment": "x"})
    assert bad.status_code == 422 and list(bad.get_json()["error"]["fields"]) == ["to_user"]
    nobody = client.post(f"/api/v1/tasks/{task['id']}/transfer", headers=auth("mgr1"), json={"to_user": "ghost"})
    assert nobody.status_code == 422 and list(nobody.get_json()["error"]["fields"]) == ["to_user"]
    moved = client.post(f"/api/v1/tasks/{task['id']}/transfer", headers=auth("mgr1"), json={"to_user": "mgr2"})
    assert moved.status_code == 200, moved.get_json()
    assert open_tasks(client, auth, "mgr1")["total"] == 0  # now mgr2's own task, no longer the role's
    mine = task_of(client, auth, "mgr2", record)
    assert mine["assignee_name"] == "mgr2"
    added = client.post(
        f"/api/v1/tasks/{mine['id']}/add-approver", headers=auth("mgr2"), json={"to_user": "dir1", "where": "after"}
    )
    assert added.status_code == 200, added.get_json()
    assert client.post(f"/api/v1/tasks/{mine['id']}/approve", headers=auth("mgr2")).status_code == 200
    extra = task_of(client, auth, "dir1", record)
    assert extra["node"] == "manager"  # 加签 after: one more approval at the same node
    assert client.post(f"/api/v1/tasks/{extra['id']}/approve", headers=auth("dir1")).status_code == 200
    assert task_of(client, auth, "fin1", record)["node"] == "finance"
    history = flow_of(client, auth, record)["history"]
    commented = next(e for e in history if e["action"] == "commented")
    assert commented["comment"] == "见附件发票" and commented["attachments"] == [file_id]
    assert [e["action"] for e in history if e["action"] in ("transferred", "added_approver", "approved")] == [
        "transferred",
        "added_approver",
        "approved",
        "approved",
    ]
