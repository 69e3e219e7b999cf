"""The organisation through HTTP: departments, a user's department, delegations; who may do
what (403), bad bodies (422 naming the field, in the caller's language), and the documents."""

from __future__ import annotations

from typing import Any, Callable

from engine.platform import Platform
from engine.security import org

Auth = Callable[[str], dict[str, str]]


def _ids(platform: Platform) -> dict[str, int]:
    with platform.db.connect() as conn:
        return {u.username: u.id for u in platform.users.all(conn)}


def _tree(client: Any, auth: Auth, ids: dict[str, int]) -> dict[str, int]:
    admin = auth("admin")
    office = client.post(
        "/api/v1/departments",
        headers=admin,
        json={"name": "office", "label": {"zh-CN": "总经办", "en": "Office"}, "head_id": ids["admin"]},
    )
    assert office.status_code == 201, office.get_json()
    assert office.headers["Location"] == f"/api/v1/departments/{office.get_json()['id']}"
    sales = client.post(
        "/api/v1/departments",
        headers=admin,
        json={
            "name": "sales",
            "label": {"zh-CN": "销售部"},
            "parent_id": office.get_json()["id"],
            "head_id": ids["sales1"],
        },
    )
    assert sales.status_code == 201, sales.get_json()
    for user in ("sales1", "sales2"):
        put = client.put(
            f"/api/v1/users/{ids[user]}/department", headers=admin, json={"department_id": sales.get_json()["id"]}
        )
        assert put.status_code == 200 and put.get_json()["department"]["name"] == "sales", put.get_json()
    return {"office": office.get_json()["id"], "sales": sales.get_json()["id"]}


def test_an_admin_builds_the_tree_and_staff_read_it(client: Any, auth: Auth, platform: Platform) -> None:
    ids = _ids(platform)
    tree = _tree(client, auth, ids)
    listed = client.get("/api/v1/departments", headers=auth("wh1"))
    assert listed.status_code == 200
    body = listed.get_json()
    assert body["total"] == 2
    assert body["items"][1] == {
        "id": tree["sales"],
        "name": "sales",
        "label": {"zh-CN": "销售部"},
        "parent_id": tree["office"],
        "head_id": ids["sales1"],
        "head": "sales1",
        "members": [ids["sales1"], ids["sales2"]],
    }
    with platform.db.connect() as conn:
        assert org.heads_above(conn, ids["sales2"], 2) == [ids["sales1"], ids["admin"]]
        assert org.heads_above(conn, ids["sales1"], 2) == [ids["admin"]]
    me = client.get("/api/v1/auth/me", headers=auth("sales2")).get_json()
    assert me["user"]["department_id"] == tree["sales"]
    renamed = client.patch(
        f"/api/v1/departments/{tree['sales']}", headers=auth("admin"), json={"name": "sales-east", "head_id": None}
    )
    assert (
        renamed.status_code == 200 and renamed.get_json()["head"] is None and renamed.get_json()["name"] == "sales-east"
    )
    out = client.put(f"/api/v1/users/{ids['sales2']}/department", headers=auth("admin"), json={"department_id": None})
    assert out.status_code == 200 and out.get_json() == {"user_id": ids["sales2"], "department": None}


def test_only_an_admin_changes_the_organisation_and_portal_users_do_not_see_it(
    client: Any, auth: Auth, platform: Platform
) -> None:
    ids = _ids(platform)
    tree = _tree(client, auth, ids)
    for who in ("sales1", "wh1", "buyer1"):
        for resp in (
            client.post("/api/v1/departments", headers=auth(who), json={"name": "x"}),
            client.patch(f"/api/v1/departments/{tree['sales']}", headers=auth(who), json={"name": "x"}),
            client.put(f"/api/v1/users/{ids[who]}/department", headers=auth(who), json={"department_id": None}),
        ):
            assert resp.status_code == 403, (who, resp.get_json())
            assert resp.get_json()["error"]["code"] == "forbidden"
    refused = client.post("/api/v1/departments", headers={**auth("sales1"), "Accept-Language": "zh-CN"}, json={})
    assert refused.get_json()["error"]["message"] == "只有管理员可以修改部门或用户所属部门"
    portal = client.get("/api/v1/departments", headers={**auth("buyer1"), "Accept-Language": "en"})
    assert portal.status_code == 403
    assert portal.get_json()["error"]["message"] == "the organisation is for staff: a portal user cannot see it"
    assert client.get("/api/v1/departments").status_code == 401


def test_bad_department_bodies_are_422_naming_the_field(client: Any, auth: Auth, platform: Platform) -> None:
    ids = _ids(platform)
    tree = _tree(client, auth, ids)
    zh = {**auth("admin"), "Accept-Language": "zh-CN"}
    bad = client.post("/api/v1/departments", headers=zh, json={"name": "", "head_id": 999, "label": "销售部"})
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["fields"]
    assert fields == {
        "name": ["必填"],
        "head_id": ["用户 999 不存在"],
        "label": ['必须是按语言给出的文字，如 {"zh-CN": "销售部", "en": "Sales"}'],
    }
    assert bad.get_json()["error"]["message"].startswith("数据有误")
    loop = client.patch(f"/api/v1/departments/{tree['office']}", headers=zh, json={"parent_id": tree["sales"]})
    assert loop.status_code == 422 and list(loop.get_json()["error"]["fields"]) == ["parent_id"]
    taken = client.post("/api/v1/departments", headers=zh, json={"name": "sales"})
    assert taken.status_code == 409 and taken.get_json()["error"]["message"] == "已有名为 'sales' 的部门"
    missing = client.patch("/api/v1/departments/999", headers=zh, json={"name": "x"})
    assert missing.status_code == 404 and missing.get_json()["error"]["message"] == "部门 999 不存在"
    no_user = client.put("/api/v1/users/999/department", headers=zh, json={"department_id": None})
    assert no_user.status_code == 404 and no_user.get_json()["error"]["message"] == "用户 999 不存在"
    en = {**auth("admin"), "Accept-Language": "en"}
    put = client.put(f"/api/v1/users/{ids['wh1']}/department", headers=en, json={"dept": 1})
    assert put.status_code == 422
    assert put.get_json()["error"]["fields"] == {"dept": ["unknown field"], "department_id": ["is required"]}
    put = client.put(f"/api/v1/users/{ids['wh1']}/department", headers=en, json={"department_id": "x"})
    assert put.status_code == 422 and put.get_json()["error"]["fields"] == {"department_id": ["must be a record id"]}


def test_a_user_delegates_their_own_and_an_admin_anyones(client: Any, auth: Auth, platform: Platform) -> None:
    ids = _ids(platform)
    made = client.post(
        "/api/v1/delegations",
        headers=auth("sales1"),
        json={"to_id": ids["sales2"], "starts_at": "2026-11-03", "ends_at": "2026-11-05", "flows": ["order_approval"]},
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["from"], body["to"], body["flows"], body["created_by"]) == (
        "sales1",
        "sales2",
        ["order_approval"],
        "sales1",
    )
    assert body["starts_at"] == "2026-11-02T16:00:00+00:00"  # the pack's time zone is Asia/Shanghai
    assert body["ends_at"] == "2026-11-05T16:00:00+00:00"  # through the 5th
    other = client.post(
        "/api/v1/delegations",
        headers=auth("sales2"),
        json={"from_id": ids["sales1"], "to_id": ids["sales2"], "starts_at": "2026-12-01", "ends_at": "2026-12-02"},
    )
    assert other.status_code == 403 and other.get_json()["error"]["code"] == "forbidden"
    by_admin = client.post(
        "/api/v1/delegations",
        headers=auth("admin"),
        json={"from_id": ids["wh1"], "to_id": ids["sales2"], "starts_at": "2026-11-01", "ends_at": "2026-11-30"},
    )
    assert by_admin.status_code == 201 and by_admin.get_json()["created_by"] == "admin"
    overlap = client.post(
        "/api/v1/delegations",
        headers=auth("sales1"),
        json={"to_id": ids["wh1"], "starts_at": "2026-11-04", "ends_at": "2026-11-10"},
    )
    assert overlap.status_code == 409, overlap.get_json()

    mine = client.get("/api/v1/delegations", headers=auth("sales2")).get_json()  # taken ones too
    assert [d["id"] for d in mine["items"]] == [body["id"], by_admin.get_json()["id"]]
    assert [d["id"] for d in client.get("/api/v1/delegations", headers=auth("wh1")).get_json()["items"]] == [
        by_admin.get_json()["id"]
    ]
    assert client.get("/api/v1/delegations", headers=auth("admin")).get_json()["total"] == 2
    assert client.get(f"/api/v1/delegations?user={ids['sales1']}", headers=auth("wh1")).status_code == 403
    assert client.get(f"/api/v1/delegations?user={ids['wh1']}", headers=auth("admin")).get_json()["total"] == 1
    assert client.get("/api/v1/delegations?active=true", headers=auth("admin")).get_json()["total"] == 1  # 2 Nov, 08:00
    assert client.get("/api/v1/delegations?active=maybe", headers=auth("admin")).status_code == 400

    with platform.db.connect() as conn:
        assert org.delegate_for(conn, ids["wh1"], "order_approval", platform.clock.now()) == ids["sales2"]

    theirs = client.delete(f"/api/v1/delegations/{by_admin.get_json()['id']}", headers=auth("sales2"))
    assert theirs.status_code == 403 and "wh1" in theirs.get_json()["error"]["message"]
    own = client.delete(f"/api/v1/delegations/{by_admin.get_json()['id']}", headers=auth("wh1"))
    assert own.status_code == 200 and own.get_json()["revoked_at"] == platform.clock.now().isoformat()
    twice = client.delete(f"/api/v1/delegations/{by_admin.get_json()['id']}", headers=auth("admin"))
    assert twice.status_code == 409
    assert client.delete("/api/v1/delegations/999", headers=auth("admin")).status_code == 404
    with platform.db.connect() as conn:
        assert org.delegate_for(conn, ids["wh1"], "order_approval", platform.clock.now()) is None


def test_bad_delegation_bodies_are_422_naming_the_field(client: Any, auth: Auth, platform: Platform) -> None:
    ids = _ids(platform)
    resp = client.post(
        "/api/v1/delegations",
        headers={**auth("sales1"), "Accept-Language": "zh-CN"},
        json={"to_id": ids["sales1"], "starts_at": "明天", "flows": "all"},
    )
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"] == {
        "to_id": ["不能委托给自己"],
        "starts_at": ["必须是日期 (YYYY-MM-DD) 或日期时间 (ISO 8601)，而不是 '明天'"],
        "ends_at": ["必填"],
        "flows": ["必须是流程名称的列表，或 null 表示全部流程"],
    }
    resp = client.post(
        "/api/v1/delegations",
        headers={**auth("sales1"), "Accept-Language": "en"},
        json={"to_id": ids["sales2"], "starts_at": "2026-11-05", "ends_at": "2026-11-04"},
    )
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"] == {"ends_at": ["must be after starts_at (2026-11-05 00:00)"]}


def test_the_routes_are_in_the_openapi_document(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/departments"]) == {"get", "post"}
    assert set(paths["/departments/{id}"]) == {"patch"}
    assert set(paths["/users/{id}/department"]) == {"put"}
    assert set(paths["/delegations"]) == {"get", "post"}
    assert set(paths["/delegations/{id}"]) == {"delete"}
    post = paths["/delegations"]["post"]
    assert {"201", "403", "409", "422"} <= set(post["responses"])
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["to_id", "starts_at", "ends_at"]
