"""The OpenAPI paths of the flow operations (``apps.api.flow_admin``): a user's handover."""

from __future__ import annotations

from typing import Any

from apps.api.openapi_fixed import Answers, _id

_USER = {"type": "object", "properties": {"id": {"type": "integer"}, "username": {"type": "string"}}}
HANDOVER = {
    "type": "object",
    "properties": {
        "from": _USER,
        "to": _USER,
        "tasks": {"type": "array", "items": {"type": "integer"}, "description": "the ids of the tasks handed over"},
        "count": {"type": "integer"},
    },
}


def flow_admin_paths(answers: Answers) -> dict[str, Any]:
    """The flow operations; ``answers(ok, *codes)`` builds their responses."""
    body = {
        "type": "object",
        "required": ["to"],
        "additionalProperties": False,
        "properties": {
            "to": {
                "oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "minLength": 1}],
                "description": "who takes the tasks: a user id or user name (active, not the user handing over)",
            }
        },
    }
    return {
        "/users/{id}/handover": {
            "post": {
                "summary": "Hand every open task of a user (who left) to another user (administrators)",
                "description": "In one transaction: each open or waiting task assigned to the user goes to `to`, "
                "with a history event `handed_over` naming both; role tasks and delegations are left as they are.",
                "tags": ["flows"],
                "parameters": _id("the id of the user whose tasks are handed over"),
                "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
                "responses": answers(
                    {
                        "200": {
                            "description": "what was handed over",
                            "content": {"application/json": {"schema": HANDOVER}},
                        }
                    },
                    400,
                    401,
                    403,
                    404,
                    413,
                    415,
                    422,
                ),
            }
        }
    }
