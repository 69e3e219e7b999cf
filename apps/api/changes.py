"""Change requests and record versions: ``/records/<form>/<id>/changes``, ``/changes/<id>``
(and its ``approve`` / ``reject`` / ``comment``), ``/records/<form>/<id>/versions/<a>/diff/<b>``.

An edit (``PATCH /records/<form>/<id>``) of a record under a flow's change control answers
202 with the change request it opened (``apps.api.records``); see docs/flow_changes.md.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from flask import jsonify, request

from apps.api import bp
from apps.api.context import caller, json_body, platform
from apps.api.errors import ApiError
from engine.changes import Changes
from engine.flows.parts import Definitions


def _changes() -> Changes:
    return Changes(platform())


@bp.get("/records/<form>/<id:record_id>/changes")
def record_changes(form: str, record_id: int) -> Any:
    return jsonify(_changes().of_record(caller(), form, record_id))


@bp.get("/records/<form>/<id:record_id>/versions/<id:a>/diff/<id:b>")
def version_diff(form: str, record_id: int, a: int, b: int) -> Any:
    return jsonify(_changes().diff(caller(), form, record_id, a, b))


@bp.get("/changes/<id:change_id>")
def get_change(change_id: int) -> Any:
    return jsonify(_changes().get(caller(), change_id))


def _comment() -> Optional[str]:
    if not request.get_data():
        return None
    body = json_body()
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise ApiError(422, "invalid", fields={"comment": ["must be text"]}, message="comment must be text")
    return comment


@bp.post("/changes/<id:change_id>/approve")
def approve_change(change_id: int) -> Any:
    return jsonify(_changes().decide(caller(), change_id, "approve", _comment()))


@bp.post("/changes/<id:change_id>/reject")
def reject_change(change_id: int) -> Any:
    return jsonify(_changes().decide(caller(), change_id, "reject", _comment()))


@bp.post("/changes/<id:change_id>/comment")
def comment_change(change_id: int) -> Any:
    return jsonify(_changes().decide(caller(), change_id, "comment", _comment()))


def change_paths(defs: Definitions, answers: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The OpenAPI paths of change requests and version diffs, for every form."""
    rid = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    ver = [{"name": n, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}} for n in ("a", "b")]
    body = {
        "required": False,
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"comment": {"type": "string"}}},
            }
        },
    }
    paths: dict[str, Any] = {
        "/changes/{id}": {
            "get": {
                "summary": "A change request: its diff {field: [old, new]}, status, who asked and who decided",
                "tags": ["changes"],
                "parameters": [rid],
                "responses": answers({"200": {"description": "the change request"}}, 401, 403, 404),
            }
        }
    }
    for action, what in (
        ("approve", "Approve a change request: its diff becomes a new version of the record"),
        ("reject", "Reject a change request (comment required): the record stays as it was"),
        ("comment", "Comment on a change request"),
    ):
        paths[f"/changes/{{id}}/{action}"] = {
            "post": {
                "summary": what,
                "tags": ["changes"],
                "parameters": [rid],
                "requestBody": body,
                "responses": answers(
                    {"200": {"description": "the change request after"}}, 400, 401, 403, 404, 409, 413, 415, 422
                ),
            }
        }
    for form in defs.forms.values():
        name = form.name
        paths[f"/records/{name}/{{id}}/changes"] = {
            "get": {
                "summary": f"The change requests of a {name} record, newest first, and the pending one",
                "tags": [name],
                "parameters": [rid],
                "responses": answers({"200": {"description": "{items, pending}"}}, 401, 403, 404),
            }
        }
        paths[f"/records/{name}/{{id}}/versions/{{a}}/diff/{{b}}"] = {
            "get": {
                "summary": f"What changed from version a to version b of a {name} record",
                "tags": [name],
                "parameters": [rid, *ver],
                "responses": answers({"200": {"description": "{form, id, from, to, changes}"}}, 401, 403, 404),
            }
        }
    return paths
