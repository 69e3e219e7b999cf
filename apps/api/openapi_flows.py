"""The OpenAPI paths of the inbox and the flows: ``/tasks...``, ``/flows...``, ``/records/<form>/<id>/flow...``."""

from __future__ import annotations

from typing import Any, Callable

from apps.api.flow_common import BATCH_MAX, COMMENT_MAX
from engine.forms.coltypes import ID_MAX

Answers = Callable[..., dict[str, Any]]
_JSON_BODY = (400, 413, 415)
_ID = {"type": "integer", "minimum": 1, "maximum": ID_MAX}


def _id(name: str = "id", description: str = "") -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": "path", "required": True, "schema": _ID}
    if description:
        param["description"] = description
    return param


def _json(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer["content"] = {"application/json": {"schema": schema}}
    return answer


TASK = {
    "type": "object",
    "description": "a task: id, flow, node, kind, status, assignee (and delegated_from), due_at, the "
    "record it is about, the node's field permissions (visible, editable) and the actions it offers",
    "properties": {
        "id": {"type": "integer"},
        "instance_id": {"type": "integer"},
        "flow": {"type": "string"},
        "node": {"type": "string"},
        "kind": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "done", "cancelled", "waiting"]},
        "due_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
INSTANCE = {
    "type": "object",
    "description": "a flow instance: id, flow, revision, status, starter, the path taken, open tasks, history",
    "properties": {
        "id": {"type": "integer"},
        "flow": {"type": "string"},
        "status": {"type": "string", "enum": ["running", "completed", "rejected", "withdrawn", "cancelled"]},
        "path": {"type": "array"},
        "tasks": {"type": "array", "items": TASK},
        "history": {"type": "array", "items": {"type": "object"}},
    },
}
_TEXT = {"type": ["string", "null"], "maxLength": COMMENT_MAX}
ACTION_BODY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "comment": {**_TEXT, "description": "required to reject"},
        "values": {"type": ["object", "null"], "description": "task fields: only the node's editable ones"},
        "to_node": {"type": ["string", "null"], "description": "reject: back to this earlier node, or 'start'"},
        "to_user": {"type": ["string", "null"], "description": "transfer / add-approver: the user's name"},
        "where": {"type": ["string", "null"], "enum": ["before", "after", None]},
        "attachments": {"type": "array", "items": _ID, "maxItems": 50, "description": "ids from POST /files"},
    },
}
#: each action: its summary and what it needs
ACTIONS = {
    "approve": "Approve (with the node's editable fields in 'values'; its checks must hold)",
    "reject": "Reject with a comment: back to 'to_node' (an earlier node, or 'start'), else the flow ends rejected",
    "transfer": "Hand the task to another user ('to_user')",
    "add-approver": "Add an approver ('to_user') before or after ('where') the caller",
    "comment": "Comment (with attachments) without deciding",
    "submit": "Submit a task node's fields ('values')",
}


def task_paths(answers: Answers) -> dict[str, Any]:
    tags = ["tasks"]
    paths: dict[str, Any] = {
        "/tasks": {
            "get": {
                "summary": "My inbox: my own tasks, my roles' and those delegated to me, with counts by flow",
                "tags": tags,
                "parameters": [
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["open", "done"]}},
                    {"name": "flow", "in": "query", "schema": {"type": "string"}},
                    {"name": "form", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                ],
                "responses": answers(
                    {
                        "200": _ok(
                            "a page of tasks",
                            {
                                "type": "object",
                                "properties": {
                                    "items": {"type": "array", "items": TASK},
                                    "total": {"type": "integer"},
                                    "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                                },
                            },
                        )
                    },
                    400,
                    401,
                ),
            }
        },
        "/tasks/{id}": {
            "get": {
                "summary": "One task, with the record as the node shows it (visible and editable fields)",
                "tags": tags,
                "parameters": [_id()],
                "responses": answers({"200": _ok("the task", TASK)}, 401, 403, 404),
            }
        },
        "/tasks/batch-approve": {
            "post": {
                "summary": "Approve many tasks, each in its own transaction; the answer says which were refused and why",
                "tags": tags,
                "requestBody": _json(
                    {
                        "type": "object",
                        "required": ["ids"],
                        "additionalProperties": False,
                        "properties": {
                            "ids": {"type": "array", "items": _ID, "minItems": 1, "maxItems": BATCH_MAX},
                            "comment": _TEXT,
                        },
                    }
                ),
                "responses": answers(
                    {
                        "200": _ok(
                            "per task: ok, or the error (conflict, forbidden, not_found, invalid)",
                            {
                                "type": "object",
                                "properties": {
                                    "items": {"type": "array", "items": {"type": "object"}},
                                    "approved": {"type": "integer"},
                                    "refused": {"type": "integer"},
                                },
                            },
                        )
                    },
                    *_JSON_BODY,
                    401,
                    422,
                ),
            }
        },
    }
    for url, summary in ACTIONS.items():
        paths[f"/tasks/{{id}}/{url}"] = {
            "post": {
                "summary": summary,
                "tags": tags,
                "parameters": [_id()],
                "requestBody": _json(ACTION_BODY, required=False),
                "responses": answers(
                    {"200": _ok("the task after, with its instance", TASK)}, *_JSON_BODY, 401, 403, 404, 409, 422
                ),
            }
        }
    paths["/flows"] = {
        "get": {
            "summary": "The flows of the forms the caller may read",
            "tags": ["flows"],
            "parameters": [{"name": "form", "in": "query", "schema": {"type": "string"}}],
            "responses": answers({"200": _ok("the flows")}, 401),
        }
    }
    paths["/flows/{name}/graph.svg"] = {
        "get": {
            "summary": "The flow's graph as SVG; with ?record=ID, that record's path and current nodes marked",
            "tags": ["flows"],
            "parameters": [
                {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "record", "in": "query", "schema": _ID},
            ],
            "responses": answers(
                {"200": {"description": "the SVG", "content": {"image/svg+xml": {"schema": {"type": "string"}}}}},
                400,
                401,
                404,
            ),
        }
    }
    return paths


def record_flow_paths(form: str, label: str, answers: Answers) -> dict[str, Any]:
    tags = [form]
    rid = [_id(description=f"the {label} record")]
    base = f"/records/{form}/{{id}}/flow"
    return {
        base: {
            "get": {
                "summary": f"The flow of a {label}: instance, path, open tasks, history",
                "tags": tags,
                "parameters": rid,
                "responses": answers({"200": _ok("the instance", INSTANCE)}, 401, 403, 404),
            }
        },
        f"{base}/start": {
            "post": {
                "summary": f"Start a flow on a {label} by hand",
                "tags": tags,
                "parameters": rid,
                "requestBody": _json(
                    {
                        "type": "object",
                        "required": ["flow"],
                        "properties": {"flow": {"type": "string", "description": "the flow's name"}},
                    }
                ),
                "responses": answers({"201": _ok("the instance", INSTANCE)}, *_JSON_BODY, 401, 403, 404, 409, 422),
            }
        },
        f"{base}/withdraw": {
            "post": {
                "summary": f"Withdraw the running flow of a {label} (the starter, as the flow's policy allows)",
                "tags": tags,
                "parameters": rid,
                "requestBody": _json(
                    {"type": "object", "additionalProperties": False, "properties": {"comment": _TEXT}},
                    required=False,
                ),
                "responses": answers(
                    {"200": _ok("the instance, withdrawn", INSTANCE)}, *_JSON_BODY, 401, 403, 404, 409, 422
                ),
            }
        },
    }
