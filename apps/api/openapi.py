"""OpenAPI 3.1 document generated from the installed definitions (cached per version)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from apps.api import bp
from apps.api.changes import change_paths
from apps.api.context import platform
from apps.api.flow_admin_openapi import flow_admin_paths  # flows ops lane
from apps.api.openapi_fixed import fixed_paths
from apps.api.openapi_flows import record_flow_paths, task_paths
from apps.api.org_openapi import org_paths
from engine.definitions.model import FieldSpec, FormSpec
from engine.forms import FIELD_TYPES
from engine.forms.coltypes import ID_MAX
from engine.listing import MAX_LIMIT, MAX_PAGE
from engine.runtime import Definitions

#: the one body of every error answer
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "description": "messages by field path, e.g. lines[2].qty"},
            },
        }
    },
}
_SYSTEM = {
    "id": {"type": "integer", "readOnly": True},
    "version": {"type": "integer", "readOnly": True},
    "owner": {"type": ["integer", "null"], "readOnly": True},
    "created_at": {"type": "string", "format": "date-time", "readOnly": True},
    "created_by": {"type": ["integer", "null"], "readOnly": True},
    "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
    "updated_by": {"type": ["integer", "null"], "readOnly": True},
    "flags": {
        "type": "array",
        "readOnly": True,
        "description": "the flags rules put on the record",
        "items": {
            "type": "object",
            "properties": {
                "colour": {"type": "string"},
                "tag": {"type": ["string", "null"]},
                "rule": {"type": ["string", "null"]},
                "at": {"type": "string", "format": "date-time"},
            },
        },
    },
}


def _field_schema(spec: FieldSpec, locale: str = "en") -> dict[str, Any]:
    if spec.is_table:
        return {"type": "array", "items": _object(spec.fields, locale, child=True)}
    schema = dict(FIELD_TYPES[spec.type].json_schema(spec))
    schema["title"] = spec.label.get(locale)
    if spec.help:
        schema["description"] = spec.help.get(locale)
    if not spec.required and "type" in schema:
        t = schema["type"]
        schema["type"] = (t if isinstance(t, list) else [t]) + ["null"]
    return schema


def _object(fields: tuple[FieldSpec, ...], locale: str, child: bool = False) -> dict[str, Any]:
    props = {"id": {"type": "integer"}} if child else {}
    props.update({f.name: _field_schema(f, locale) for f in fields})
    required = [f.name for f in fields if f.required and not FIELD_TYPES[f.type].computed]
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


#: why each error status is answered; every operation lists those it can give
WHY = {
    400: "a malformed request: a body that is not JSON or not an object, a bad parameter, filter, sort, "
    "page, version or Idempotency-Key",
    401: "no token, or an invalid, expired or revoked one (for a webhook: no secret or a bad signature); "
    "a wrong password",
    403: "the caller's roles do not allow this: the form, a field, or the rows it would touch; "
    "a task that is not the caller's; a withdraw the flow's policy does not allow",
    404: "no such record (or one the caller may not see), rule run, file, webhook, task, flow or flow "
    "instance; an id beyond 2147483647",
    409: "a conflict: a duplicate unique key, a stale 'version' in the body, or an Idempotency-Key "
    "already used for another request or another body; a task already acted on; a record whose flow "
    "is already running or already ended",
    412: "If-Match names a version that is no longer the record's",
    413: "the body is larger than the server takes",
    415: "the body is not JSON (send Content-Type: application/json)",
    422: "the data is not valid (errors by field), or a rule refused the change",
    428: "the version being changed is missing: send If-Match or 'version' in the body",
    429: "too many failed logins for this user name or from this address; not checked (the same for every name)",
}
_JSON_BODY = (400, 413, 415)


def _answers(ok: dict[str, Any], *codes: int) -> dict[str, Any]:
    """The responses of one operation: its success answers and the error statuses it can give."""
    return {**ok, **{str(c): {"$ref": f"#/components/responses/E{c}"} for c in sorted(set(codes))}}


def _form_paths(form: FormSpec) -> dict[str, Any]:
    name = form.name
    ref = {"$ref": f"#/components/schemas/{name}"}
    one = {"content": {"application/json": {"schema": ref}}}
    list_params = [
        {
            "name": "filter",
            "in": "query",
            "schema": {"type": "string"},
            "description": 'an expression, e.g. status == "approved" and total > 1000',
        },
        {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "search the searchable fields"},
        {"name": "sort", "in": "query", "schema": {"type": "string"}, "description": "e.g. -order_date,number"},
        {
            "name": "flag",
            "in": "query",
            "schema": {"type": "string"},
            "description": "records the rules flagged: a colour (red), several (red,orange) or any",
        },
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
    ]
    rid = [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": ID_MAX}}
    ]
    if_match = {
        "name": "If-Match",
        "in": "header",
        "schema": {"type": "string"},
        "description": "the version being changed, e.g. \"3\" (or 'version' in the body); "
        "a version no longer current is 412",
    }
    idem = {
        "name": "Idempotency-Key",
        "in": "header",
        "schema": {"type": "string", "maxLength": 200},
        "description": "the same key and body again replay the first answer; another body is 409",
    }
    label = form.label.get("en")
    revision = [
        {
            "name": "revision",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": ID_MAX},
            "description": "a revision of the form's pack (an older one stays runnable): the record as "
            "that revision defines the form, its fields and formulas",
        }
    ]
    body = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}_input"}}},
    }
    return {
        f"/records/{name}": {
            "get": {
                "summary": f"List {label}",
                "tags": [name],
                "parameters": list_params,
                "responses": _answers(
                    {
                        "200": {
                            "description": "a page",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "items": {"type": "array", "items": ref},
                                            "total": {"type": "integer"},
                                            "page": {"type": "integer"},
                                            "limit": {"type": "integer"},
                                        },
                                    }
                                }
                            },
                        }
                    },
                    400,
                    401,
                    403,
                ),
            },
            "post": {
                "summary": f"Create {label}",
                "tags": [name],
                "parameters": [idem],
                "requestBody": body,
                "responses": _answers({"201": {"description": "created", **one}}, *_JSON_BODY, 401, 403, 409, 422),
            },
        },
        f"/records/{name}/{{id}}": {
            "get": {
                "summary": f"Read {label}",
                "tags": [name],
                "parameters": rid + revision,
                "responses": _answers(
                    {"200": {"description": "the record (with 'revision': as that revision defines it)", **one}},
                    400,
                    401,
                    403,
                    404,
                ),
            },
            "patch": {
                "summary": f"Update {label}",
                "tags": [name],
                "parameters": rid + [if_match, idem],
                "requestBody": body,
                "responses": _answers(
                    {
                        "200": {"description": "updated", **one},
                        "202": {"description": "under a flow's change control: the change request opened"},
                    },
                    *_JSON_BODY,
                    401,
                    403,
                    404,
                    409,
                    412,
                    422,
                    428,
                ),
            },
            "delete": {
                "summary": f"Delete {label}",
                "tags": [name],
                "parameters": rid + [if_match, idem],
                "responses": _answers({"204": {"description": "deleted"}}, 400, 401, 403, 404, 409, 412, 422),
            },
        },
        f"/records/{name}/{{id}}/preview": {
            "post": {
                "summary": f"Check {label} with changes by a revision, writing nothing",
                "tags": [name],
                "parameters": rid + revision,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "description": "the changes (may be {}): fields as in an update",
                            }
                        }
                    },
                },
                "responses": _answers(
                    {"200": {"description": "the record validated and computed as the revision would store it", **one}},
                    *_JSON_BODY,
                    401,
                    403,
                    404,
                    422,
                ),
            },
        },
        f"/records/{name}/batch": {
            "post": {
                "summary": f"Create or update many {label} in one transaction (all or nothing)",
                "tags": [name],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["items"],
                                "properties": {"items": {"type": "array", "items": {"type": "object"}}},
                            }
                        }
                    },
                },
                "responses": _answers(
                    {"200": {"description": "the records written"}}, *_JSON_BODY, 401, 403, 404, 409, 422
                ),
            },
        },
        f"/records/{name}/import": {
            "post": {
                "summary": f"Import {label} from an .xlsx or .csv file",
                "tags": [name],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "mode": {"type": "string", "enum": ["all-or-nothing", "skip-invalid"]},
                                    "key": {"type": "string"},
                                    "dry_run": {"type": "boolean"},
                                },
                            }
                        }
                    },
                },
                "responses": _answers({"200": {"description": "the import report"}}, 400, 401, 403, 413, 422),
            },
        },
        f"/records/{name}/import/template": {
            "get": {
                "summary": f"An empty .xlsx with the {label} columns the caller may import",
                "tags": [name],
                "responses": _answers({"200": {"description": "the template"}}, 401, 403),
            },
        },
        f"/records/{name}/export": {
            "get": {
                "summary": f"Export the {label} list (same filters) as .xlsx or .csv",
                "tags": [name],
                "parameters": list_params
                + [{"name": "format", "in": "query", "schema": {"type": "string", "enum": ["xlsx", "csv"]}}],
                "responses": _answers({"200": {"description": "the file"}}, 400, 401, 403),
            },
        },
        f"/records/{name}/{{id}}/history": {
            "get": {
                "summary": f"History of {label}",
                "tags": [name],
                "parameters": rid
                + [
                    {
                        "name": "at",
                        "in": "query",
                        "schema": {"type": "string", "format": "date-time"},
                        "description": "the record as it was then; without an offset, in the pack's time zone",
                    }
                ],
                "responses": _answers({"200": {"description": "audit entries and versions"}}, 401, 403, 404, 422),
            },
        },
    }


def _document(defs: Definitions) -> dict[str, Any]:
    key = defs.key
    paths = {**fixed_paths(_answers), **task_paths(_answers)}
    paths.update(org_paths(_answers))
    paths.update(flow_admin_paths(_answers))  # flows ops lane: the handover
    schemas: dict[str, Any] = {}
    for form in defs.forms.values():
        paths.update(_form_paths(form))
        paths.update(record_flow_paths(form.name, form.label.get("en"), _answers))
        base = _object(form.fields, "en")
        schemas[f"{form.name}_input"] = base
        full = {**base, "properties": {**_SYSTEM, **base["properties"]}}
        full.pop("required", None)
        schemas[form.name] = full
    paths.update(change_paths(defs, _answers))  # change requests, version diffs (apps/api/changes.py)
    schemas["Error"] = ERROR_SCHEMA
    responses = {
        f"E{code}": {
            "description": why,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code, why in WHY.items()
    }
    responses["E429"]["headers"] = {
        "Retry-After": {"description": "seconds until a login is checked again", "schema": {"type": "integer"}}
    }
    versions = ", ".join(f"{p}@{r}" for p, r in key) or "none"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lowcode API",
            "version": versions,
            "description": "Generated from the installed definitions. Every error is the one Error "
            "object, in the caller's language (Accept-Language or ?lang=).",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": responses,
        },
    }


def openapi_document(defs: Definitions) -> dict[str, Any]:
    """The document for one compiled revision, built once and kept with it."""
    return defs.memo("openapi", lambda: _document(defs))


@bp.get("/openapi.json")
def openapi_json() -> Any:
    return jsonify(openapi_document(platform().definitions()))
