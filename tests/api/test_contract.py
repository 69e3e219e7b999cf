"""The API answers only what its OpenAPI document says, and never 500.

The walk reads ``/api/v1/openapi.json`` and sends every operation in it requests a client
gets wrong (no token, a bad token, a role without the right, bodies that are not JSON, not an
object or too large, values of the wrong type or beyond the database's range, bad versions,
ids beyond 32 bits, bad query parameters, a reused Idempotency-Key). Each answer must be a
status the operation documents, and an error must be the one Error object.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any, Iterator

import jsonschema

from apps.api.openapi import ERROR_SCHEMA

HUGE = "99999999999999999999"
BAD_IDS = ("999999", "2147483648", "9223372036854775808", HUGE, "0")
BAD_VALUES: tuple[Any, ...] = (int(HUGE), 2**31, -1, 1.5, "x", "", None, [], {}, [{"qty": int(HUGE)}], True)
BAD_QUERY = ("", "x", "0", "-1", HUGE, "1e5", "a,b", "(", "==", '"', "null")
BAD_FILTERS = ("qty > " + HUGE, "id == 2147483648", "sum(lines.qty) > " + HUGE, "nothing == 1", "(", "a and and b")
LIMIT = 64 * 1024


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def _fill(path: str, **values: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


def _json_kind(op: dict[str, Any]) -> str | None:
    content = op.get("requestBody", {}).get("content", {})
    return "json" if "application/json" in content else "multipart" if "multipart/form-data" in content else None


def _properties(doc: dict[str, Any], op: dict[str, Any]) -> list[str]:
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return list(schema.get("properties", {}))


def _cases(doc: dict[str, Any], path: str, op: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Requests for one operation, as keyword arguments of the test client's ``open``."""
    names = {p["name"]: p for p in op.get("parameters", [])}
    base = _fill(path, id="1", name="nope")
    yield {"path": base}
    for value in BAD_IDS if "{id}" in path else ():
        yield {"path": _fill(path, id=value, name="nope")}
    for name, param in names.items():
        if param["in"] != "query":
            continue
        for value in BAD_QUERY + (BAD_FILTERS if name == "filter" else ()):
            yield {"path": base, "query_string": {name: value}}
    if "filter" in names:
        for key, value in (("nofield", "1"), ("qty__gt", "x"), ("qty__zz", "1"), ("id", HUGE), ("id__in", HUGE)):
            yield {"path": base, "query_string": {key: value}}
    if "If-Match" in names:
        for tag in ('W/"m"', '"999"', '"abc"', "*", '"-1"', f'"{HUGE}"'):
            yield {"path": base, "headers": {"If-Match": tag}, "json": {}}
    kind = _json_kind(op)
    if kind == "json":
        for raw, ctype in (
            ("x", "text/plain"),
            ("{", "application/json"),
            ("null", "application/json"),
            ("[]", "application/json"),
            ('"s"', "application/json"),
            ("", "application/json"),
            ('{"a": "' + "x" * LIMIT + '"}', "application/json"),
            ("{}", None),
        ):
            yield {"path": base, "data": raw, "content_type": ctype}
        yield {"path": base, "json": {}, "headers": {"Idempotency-Key": "k" * 201}}
        for prop in _properties(doc, op):
            for value in BAD_VALUES:
                yield {"path": base, "json": {prop: value}, "headers": {"If-Match": '"1"'}}
    elif kind == "multipart":
        for name, data in (
            ("x.xlsx", b"not a workbook"),
            ("x.txt", b"a,b"),
            ("x.csv", b""),
            ("big.csv", b"a" * (LIMIT + 1)),
        ):
            yield {"path": base, "data": {"file": (io.BytesIO(data), name)}, "content_type": "multipart/form-data"}
        yield {"path": base, "data": {"other": "1"}, "content_type": "multipart/form-data"}
        yield {"path": base, "json": {"file": "x"}}


def _check(failures: list[str], op: dict[str, Any], method: str, case: dict[str, Any], resp: Any) -> None:
    where = (
        f"{method.upper()} {case['path']} {case.get('query_string') or ''} "
        f"{str(case.get('json') or case.get('data') or '')[:60]} {case.get('headers') or ''}"
    )
    status = str(resp.status_code)
    if status not in op["responses"]:
        failures.append(f"{where}: {status} is not documented ({resp.get_data(as_text=True)[:200]})")
        return
    if resp.status_code >= 400:
        try:
            jsonschema.validate(json.loads(resp.get_data(as_text=True)), ERROR_SCHEMA)
        except (ValueError, jsonschema.ValidationError) as exc:
            failures.append(f"{where}: {status} is not the Error object: {str(exc)[:200]}")


def test_every_operation_answers_only_documented_statuses(client, auth, seed):
    client.application.config["MAX_CONTENT_LENGTH"] = LIMIT
    client.application.config["IMPORT_MAX_BYTES"] = LIMIT
    doc = client.get("/api/v1/openapi.json").get_json()
    tokens = {
        "anonymous": {},
        "bad token": {"Authorization": "Bearer nope"},
        "admin": auth("admin"),
        "wh1": auth("wh1"),
        "buyer1": auth("buyer1"),
    }
    failures: list[str] = []
    sent = 0
    for path, method, op in _operations(doc):
        public = op.get("security") == []
        for who, headers in tokens.items():
            cases = list(_cases(doc, path, op)) if who == "admin" else [{"path": _fill(path, id="1", name="nope")}]
            for case in cases:
                case = dict(case)
                if path == "/auth/logout":  # the walk's own tokens stay valid
                    case["headers"] = {}
                resp = client.open(
                    "/api/v1" + case["path"],
                    method=method.upper(),
                    headers={**headers, **case.get("headers", {})},
                    **{k: v for k, v in case.items() if k not in ("path", "headers")},
                )
                sent += 1
                _check(failures, op, method, case, resp)
                if who == "anonymous" and not public and resp.status_code != 401:
                    failures.append(f"{method.upper()} {case['path']} without a token: {resp.status_code}, not 401")
    assert sent > 1000
    assert not failures, f"{len(failures)} answers out of {sent} break the document:\n" + "\n".join(failures[:60])


def test_a_reused_idempotency_key_with_another_body_is_409(client, auth, seed):
    sales = auth("sales1")
    key = {**sales, "Idempotency-Key": "order-77"}
    body = {
        "customer": seed["c1"]["id"],
        "order_date": "2026-11-02",
        "po_number": "IDEM-77",
        "lines": [{"product": seed["p1"]["id"], "qty": 2, "unit_price": "12.50"}],
    }
    first = client.post("/api/v1/records/sales_order", headers=key, json=body)
    again = client.post("/api/v1/records/sales_order", headers=key, json=body)
    assert first.status_code == 201 and again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    other = client.post(
        "/api/v1/records/sales_order", headers={**key, "Accept-Language": "en"}, json={**body, "po_number": "IDEM-78"}
    )
    assert other.status_code == 409
    assert other.get_json()["error"]["message"] == (
        "the Idempotency-Key 'order-77' was already used with a different body; use a new key for a new request"
    )
    listed = client.get("/api/v1/records/sales_order?po_number__contains=IDEM-", headers=sales).get_json()
    assert [o["po_number"] for o in listed["items"]] == ["IDEM-77"]


def test_ids_and_numbers_beyond_the_database_are_404_or_422_naming_the_field(client, auth, seed):
    admin = {**auth("admin"), "Accept-Language": "en"}
    for rid in ("2147483648", "9223372036854775808", HUGE):
        resp = client.get(f"/api/v1/records/product/{rid}", headers=admin)
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    resp = client.post(
        "/api/v1/records/sales_order",
        headers=admin,
        json={
            "customer": 2**31,
            "order_date": "2026-11-02",
            "lines": [{"product": int(HUGE), "qty": 1, "unit_price": "1"}],
        },
    )
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    assert fields["customer"] == ["refers to record 2147483648, which does not exist"]
    assert fields["lines[1].product"] == [f"refers to record {HUGE}, which does not exist"]
    resp = client.get("/api/v1/records/product", headers=admin, query_string={"page": HUGE})
    assert resp.status_code == 400 and "page" in resp.get_json()["error"]["fields"]
    resp = client.get("/api/v1/records/product", headers=admin, query_string={"filter": f"stock > {HUGE}"})
    body = resp.get_json()["error"]
    assert resp.status_code == 400 and body["message"].startswith("filter:1:9: the number")
    resp = client.get("/api/v1/records/product", headers=admin, query_string={"stock__gt": HUGE})
    assert resp.status_code in (400, 422) and "stock" in str(resp.get_json()["error"])


def test_a_stale_if_match_is_412_and_a_stale_body_version_409(client, auth, seed):
    admin = {**auth("admin"), "Accept-Language": "en"}
    pid = seed["p1"]["id"]
    ok = client.patch(f"/api/v1/records/product/{pid}", headers={**admin, "If-Match": '"1"'}, json={"name": "新"})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    stale = client.patch(f"/api/v1/records/product/{pid}", headers={**admin, "If-Match": '"1"'}, json={"name": "x"})
    assert stale.status_code == 412 and stale.get_json()["error"]["code"] == "precondition_failed"
    assert stale.get_json()["error"]["message"] == (
        f"Product {pid} was changed by someone else (version 2, you have 1); reload and try again"
    )
    body = client.patch(f"/api/v1/records/product/{pid}", headers=admin, json={"name": "x", "version": 1})
    assert body.status_code == 409 and body.get_json()["error"]["code"] == "conflict"
    gone = client.delete(f"/api/v1/records/product/{pid}", headers={**admin, "If-Match": '"1"'})
    assert gone.status_code == 412
    assert client.get(f"/api/v1/records/product/{pid}", headers=admin).get_json()["name"] == "新"


def test_small_answers_the_review_asked_for(client, auth, seed):
    admin = auth("admin")
    hook = client.post("/api/v1/hooks/no-such-hook", data=b"{}", content_type="application/json")
    assert hook.status_code == 404 and hook.get_json()["error"]["code"] == "not_found"
    empty = client.get(f"/api/v1/records/product/{seed['p1']['id']}/history?at=", headers=admin)
    assert empty.status_code == 422 and list(empty.get_json()["error"]["fields"]) == ["at"]
    csv = client.get("/api/v1/records/product/export?format=csv", headers=admin)
    assert csv.status_code == 200 and csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = client.post("/api/v1/records/product", headers=admin, data="sku=1", content_type="text/plain")
    assert text.status_code == 415 and text.get_json()["error"]["code"] == "unsupported_media_type"
    null = client.post("/api/v1/records/product", headers=admin, data="null", content_type="application/json")
    assert null.status_code == 400


def test_the_top_level_message_speaks_the_language_of_the_field_errors(client, auth):
    for lang, message, field in (
        ("zh-CN", "数据有误：sku: 必填; name: 必填", "必填"),
        ("en", "the data is not valid: sku: is required; name: is required", "is required"),
    ):
        resp = client.post(
            "/api/v1/records/product", headers={**auth("admin"), "Accept-Language": lang}, json={"price": "1"}
        )
        error = resp.get_json()["error"]
        assert resp.status_code == 422 and error["message"] == message and error["fields"]["sku"] == [field]
    resp = client.get("/api/v1/records/product", headers={"Accept-Language": "zh-CN"})
    assert resp.status_code == 401 and resp.get_json()["error"]["message"].startswith("请先登录")
    resp = client.get("/api/v1/records/product", headers={"Authorization": "Bearer x", "Accept-Language": "en"})
    assert resp.get_json()["error"]["message"] == "invalid, expired or revoked token"


def test_every_api_route_is_in_the_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    forms = sorted({p.split("/")[2] for p in doc["paths"] if p.startswith("/records/")})
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    for rule in client.application.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        path = path.replace("{record_id}", "{id}").replace("{run_id}", "{id}").replace("{file_id}", "{id}")
        path = path.replace("{change_id}", "{id}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            for form in forms if "{form}" in path else [None]:
                concrete = path.replace("{form}", form) if form else path
                assert (concrete, method.lower()) in documented, f"{method} {rule.rule} is not documented"
