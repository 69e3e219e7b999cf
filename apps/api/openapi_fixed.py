"""The OpenAPI paths that are the same for every pack: login, rule runs, webhooks, files."""

from __future__ import annotations

from typing import Any, Callable

from engine.forms.coltypes import ID_MAX

Answers = Callable[..., dict[str, Any]]


def _id(description: str = "") -> list[dict[str, Any]]:
    param: dict[str, Any] = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": ID_MAX},
    }
    if description:
        param["description"] = description
    return [param]


def fixed_paths(answers: Answers) -> dict[str, Any]:
    """``answers(ok, *codes)`` builds each operation's responses (see ``apps.api.openapi``)."""
    run_filters: list[dict[str, Any]] = [
        {"name": n, "in": "query", "schema": {"type": "string"}} for n in ("rule", "form", "outcome", "from", "to")
    ]
    run_filters += [
        {"name": n, "in": "query", "schema": {"type": "integer", "minimum": 1}} for n in ("record", "page", "limit")
    ]
    return {
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": answers({"200": {"description": "the OpenAPI document"}}),
            }
        },
        "/auth/login": {
            "post": {
                "summary": "Log in with a password; returns a bearer token",
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["username", "password"],
                                "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
                            }
                        }
                    },
                },
                "responses": answers({"200": {"description": "a token"}}, 400, 401, 413, 415, 429),
            }
        },
        "/auth/logout": {
            "post": {"summary": "Revoke the token used", "responses": answers({"200": {"description": "ok"}}, 401)}
        },
        "/auth/me": {
            "get": {
                "summary": "The caller, their roles and permissions",
                "responses": answers({"200": {"description": "ok"}}, 401),
            }
        },
        "/rules/runs": {
            "get": {
                "summary": "The rule execution log",
                "tags": ["rules"],
                "parameters": run_filters,
                "responses": answers({"200": {"description": "a page of runs"}}, 400, 401),
            }
        },
        "/rules/runs/{id}": {
            "get": {
                "summary": "One rule run",
                "tags": ["rules"],
                "parameters": _id(),
                "responses": answers({"200": {"description": "the run"}}, 401, 403, 404),
            }
        },
        "/rules/runs/{id}/rerun": {
            "post": {
                "summary": "Run a failed rule again on the current record",
                "tags": ["rules"],
                "parameters": _id(),
                "responses": answers({"200": {"description": "the new run"}}, 401, 403, 404, 409, 422),
            }
        },
        "/hooks/{name}": {
            "post": {
                "summary": 'Inbound webhook: runs the pack\'s `webhook "name"` rules',
                "tags": ["rules"],
                "security": [],
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                    {
                        "name": "X-Lowcode-Signature",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "sha256=<hex HMAC-SHA256 of the raw body with the hook's secret>",
                    },
                    {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}},
                ],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": answers({"200": {"description": "what the rules did"}}, 400, 401, 404, 409, 413, 422),
            }
        },
        "/files": {
            "post": {
                "summary": "Upload a file (attachment, image, signature)",
                "tags": ["files"],
                "parameters": [
                    {"name": n, "in": "query", "schema": {"type": "string"}, "description": d}
                    for n, d in (
                        ("form", "apply this form's field limits"),
                        ("field", "the file field, e.g. photos or lines.drawing"),
                    )
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        }
                    },
                },
                "responses": answers({"201": {"description": "the stored file"}}, 400, 401, 404, 413, 422),
            }
        },
        "/files/{id}": {
            "get": {
                "summary": "Download a file",
                "tags": ["files"],
                "parameters": _id(),
                "responses": answers({"200": {"description": "the file"}}, 401, 404),
            }
        },
    }
