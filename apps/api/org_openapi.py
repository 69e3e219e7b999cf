"""The OpenAPI paths of the organisation (``apps.api.org``): departments, a user's department,
delegations."""

from __future__ import annotations

from typing import Any

from apps.api.openapi_fixed import Answers, _id

_LABEL = {
    "type": ["object", "null"],
    "description": 'texts by language, e.g. {"zh-CN": "销售部", "en": "Sales"}',
    "additionalProperties": {"type": "string"},
}
_ID_OR_NULL: dict[str, Any] = {"type": ["integer", "null"], "minimum": 1}
DEPARTMENT_INPUT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 64, "description": "unique"},
        "label": _LABEL,
        "parent_id": {**_ID_OR_NULL, "description": "the department above (null: a root)"},
        "head_id": {**_ID_OR_NULL, "description": "the user who heads it (an approval chain climbs the heads)"},
    },
}
DEPARTMENT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        **DEPARTMENT_INPUT["properties"],
        "head": {"type": ["string", "null"], "description": "the head's user name"},
        "members": {"type": "array", "items": {"type": "integer"}, "description": "the ids of its users"},
    },
}
_WHEN = {
    "type": "string",
    "description": "an ISO date (the end: through that day) or date-time; without a zone, in the pack's",
}
DELEGATION_INPUT = {
    "type": "object",
    "required": ["to_id", "starts_at", "ends_at"],
    "additionalProperties": False,
    "properties": {
        "from_id": {**_ID_OR_NULL, "description": "who delegates (left out: the caller; another user: admins only)"},
        "to_id": {"type": "integer", "minimum": 1, "description": "who takes the tasks"},
        "starts_at": _WHEN,
        "ends_at": _WHEN,
        "flows": {
            "type": ["array", "null"],
            "items": {"type": "string"},
            "description": "the flows it covers (null or left out: every flow)",
        },
    },
}
DELEGATION = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "from_id": {"type": "integer"},
        "from": {"type": "string"},
        "to_id": {"type": "integer"},
        "to": {"type": "string"},
        "starts_at": {"type": "string", "format": "date-time"},
        "ends_at": {"type": "string", "format": "date-time"},
        "flows": {"type": ["array", "null"], "items": {"type": "string"}},
        "created_at": {"type": "string", "format": "date-time"},
        "created_by": {"type": ["string", "null"]},
        "revoked_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _list(schema: dict[str, Any]) -> dict[str, Any]:
    return _json(
        {"type": "object", "properties": {"items": {"type": "array", "items": schema}, "total": {"type": "integer"}}}
    )


def org_paths(answers: Answers) -> dict[str, Any]:
    """The organisation's operations; ``answers(ok, *codes)`` builds their responses."""
    tags = ["organisation"]
    body = (400, 413, 415)
    return {
        "/departments": {
            "get": {
                "summary": "Every department, its head and its members (staff only)",
                "tags": tags,
                "responses": answers({"200": {"description": "the departments", **_list(DEPARTMENT)}}, 401, 403),
            },
            "post": {
                "summary": "Create a department (administrators)",
                "tags": tags,
                "requestBody": {"required": True, **_json({**DEPARTMENT_INPUT, "required": ["name"]})},
                "responses": answers(
                    {"201": {"description": "created", **_json(DEPARTMENT)}}, *body, 401, 403, 409, 422
                ),
            },
        },
        "/departments/{id}": {
            "patch": {
                "summary": "Change a department: name, label, parent, head (administrators)",
                "tags": tags,
                "parameters": _id(),
                "requestBody": {"required": True, **_json(DEPARTMENT_INPUT)},
                "responses": answers(
                    {"200": {"description": "updated", **_json(DEPARTMENT)}}, *body, 401, 403, 404, 409, 422
                ),
            }
        },
        "/users/{id}/department": {
            "put": {
                "summary": "Put a user in a department, or in none (administrators)",
                "tags": tags,
                "parameters": _id("the user's id"),
                "requestBody": {
                    "required": True,
                    **_json(
                        {
                            "type": "object",
                            "required": ["department_id"],
                            "additionalProperties": False,
                            "properties": {"department_id": _ID_OR_NULL},
                        }
                    ),
                },
                "responses": answers({"200": {"description": "the user's department"}}, *body, 401, 403, 404, 422),
            }
        },
        "/delegations": {
            "get": {
                "summary": "Delegations the caller gave or took (an administrator: everyone's, or one user's)",
                "tags": tags,
                "parameters": [
                    {"name": "user", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {
                        "name": "active",
                        "in": "query",
                        "schema": {"type": "boolean"},
                        "description": "only those in force now",
                    },
                ],
                "responses": answers({"200": {"description": "the delegations", **_list(DELEGATION)}}, 400, 401, 403),
            },
            "post": {
                "summary": "Delegate one's tasks to another user for a time window, for every flow or some",
                "tags": tags,
                "requestBody": {"required": True, **_json(DELEGATION_INPUT)},
                "responses": answers(
                    {"201": {"description": "created", **_json(DELEGATION)}}, *body, 401, 403, 409, 422
                ),
            },
        },
        "/delegations/{id}": {
            "delete": {
                "summary": "Revoke a delegation (its user or an administrator); tasks opened from now stay with them",
                "tags": tags,
                "parameters": _id(),
                "responses": answers(
                    {"200": {"description": "the revoked delegation", **_json(DELEGATION)}}, 401, 403, 404, 409
                ),
            }
        },
    }
