"""OpenAPI 3.1 document generated from the installed definitions (cached per version)."""
from __future__ import annotations

from typing import Any

from flask import jsonify

from apps.api import bp
from apps.api.context import platform
from engine.definitions.model import FieldSpec, FormSpec
from engine.forms import FIELD_TYPES
from engine.runtime import Definitions

_ERROR = {"$ref": "#/components/responses/Error"}
_SYSTEM = {
    "id": {"type": "integer", "readOnly": True},
    "version": {"type": "integer", "readOnly": True},
    "owner": {"type": ["integer", "null"], "readOnly": True},
    "created_at": {"type": "string", "format": "date-time", "readOnly": True},
    "created_by": {"type": ["integer", "null"], "readOnly": True},
    "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
    "updated_by": {"type": ["integer", "null"], "readOnly": True},
    "flags": {"type": "array", "readOnly": True, "description": "the flags rules put on the record", "items": {
        "type": "object", "properties": {"colour": {"type": "string"}, "tag": {"type": ["string", "null"]},
                                         "rule": {"type": ["string", "null"]},
                                         "at": {"type": "string", "format": "date-time"}}}},
}


def _field_schema(spec: FieldSpec, locale: str = "en") -> dict[str, Any]:
    if spec.type == "table":
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


def _form_paths(form: FormSpec) -> dict[str, Any]:
    name = form.name
    ref = {"$ref": f"#/components/schemas/{name}"}
    one = {"content": {"application/json": {"schema": ref}}}
    list_params = [
        {"name": "filter", "in": "query", "schema": {"type": "string"},
         "description": "an expression, e.g. status == \"approved\" and total > 1000"},
        {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "search the searchable fields"},
        {"name": "sort", "in": "query", "schema": {"type": "string"}, "description": "e.g. -order_date,number"},
        {"name": "flag", "in": "query", "schema": {"type": "string"},
         "description": "records the rules flagged: a colour (red), several (red,orange) or any"},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
    ]
    rid = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    if_match = {"name": "If-Match", "in": "header", "schema": {"type": "string"},
                "description": "the version being changed (or 'version' in the body)"}
    label = form.label.get("en")
    return {
        f"/records/{name}": {
            "get": {"summary": f"List {label}", "tags": [name], "parameters": list_params, "responses": {
                "200": {"description": "a page", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"items": {"type": "array", "items": ref},
                                                     "total": {"type": "integer"}, "page": {"type": "integer"},
                                                     "limit": {"type": "integer"}}}}}},
                "400": _ERROR, "401": _ERROR, "403": _ERROR}},
            "post": {"summary": f"Create {label}", "tags": [name],
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"$ref": f"#/components/schemas/{name}_input"}}}},
                     "responses": {"201": {"description": "created", **one}, "401": _ERROR, "403": _ERROR,
                                   "409": _ERROR, "422": _ERROR}},
        },
        f"/records/{name}/{{id}}": {
            "get": {"summary": f"Read {label}", "tags": [name], "parameters": rid,
                    "responses": {"200": {"description": "the record", **one}, "404": _ERROR}},
            "patch": {"summary": f"Update {label}", "tags": [name], "parameters": rid + [if_match],
                      "requestBody": {"required": True, "content": {"application/json": {
                          "schema": {"$ref": f"#/components/schemas/{name}_input"}}}},
                      "responses": {"200": {"description": "updated", **one}, "403": _ERROR, "404": _ERROR,
                                    "409": _ERROR, "422": _ERROR, "428": _ERROR}},
            "delete": {"summary": f"Delete {label}", "tags": [name], "parameters": rid + [if_match],
                       "responses": {"204": {"description": "deleted"}, "403": _ERROR, "404": _ERROR,
                                     "409": _ERROR}},
        },
        f"/records/{name}/batch": {
            "post": {"summary": f"Create or update many {label} in one transaction (all or nothing)", "tags": [name],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["items"],
                         "properties": {"items": {"type": "array", "items": {"type": "object"}}}}}}},
                     "responses": {"200": {"description": "the records written"}, "400": _ERROR, "403": _ERROR,
                                   "409": _ERROR, "422": _ERROR}},
        },
        f"/records/{name}/import": {
            "post": {"summary": f"Import {label} from an .xlsx or .csv file", "tags": [name],
                     "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                         "type": "object", "required": ["file"], "properties": {
                             "file": {"type": "string", "format": "binary"},
                             "mode": {"type": "string", "enum": ["all-or-nothing", "skip-invalid"]},
                             "key": {"type": "string"}, "dry_run": {"type": "boolean"}}}}}},
                     "responses": {"200": {"description": "the import report"}, "403": _ERROR, "422": _ERROR}},
        },
        f"/records/{name}/import/template": {
            "get": {"summary": f"An empty .xlsx with the {label} columns the caller may import", "tags": [name],
                    "responses": {"200": {"description": "the template"}, "403": _ERROR}},
        },
        f"/records/{name}/export": {
            "get": {"summary": f"Export the {label} list (same filters) as .xlsx or .csv", "tags": [name],
                    "parameters": list_params + [{"name": "format", "in": "query",
                                                  "schema": {"type": "string", "enum": ["xlsx", "csv"]}}],
                    "responses": {"200": {"description": "the file"}, "403": _ERROR}},
        },
        f"/records/{name}/{{id}}/history": {
            "get": {"summary": f"History of {label}", "tags": [name], "parameters": rid + [
                {"name": "at", "in": "query", "schema": {"type": "string", "format": "date-time"}}],
                "responses": {"200": {"description": "audit entries and versions"}, "404": _ERROR}},
        },
    }


def _document(defs: Definitions) -> dict[str, Any]:
    key = defs.key
    paths: dict[str, Any] = {
        "/auth/login": {"post": {"summary": "Log in with a password; returns a bearer token", "security": [],
                                 "requestBody": {"content": {"application/json": {"schema": {
                                     "type": "object", "required": ["username", "password"],
                                     "properties": {"username": {"type": "string"},
                                                    "password": {"type": "string"}}}}}},
                                 "responses": {"200": {"description": "a token"}, "401": _ERROR, "429": {
                                     "description": "too many failed logins for this user name or from this "
                                                    "address; not checked (the same for every name)",
                                     "headers": {"Retry-After": {"description": "seconds until a login is "
                                                                 "checked again", "schema": {"type": "integer"}}},
                                     "content": {"application/json": {
                                         "schema": {"$ref": "#/components/schemas/Error"}}}}}}},
        "/auth/logout": {"post": {"summary": "Revoke the token used", "responses": {"200": {"description": "ok"}}}},
        "/auth/me": {"get": {"summary": "The caller, their roles and permissions",
                             "responses": {"200": {"description": "ok"}}}},
        "/rules/runs": {"get": {"summary": "The rule execution log", "tags": ["rules"], "parameters": [
            {"name": n, "in": "query", "schema": {"type": "string"}}
            for n in ("rule", "form", "record", "outcome", "from", "to", "page", "limit")],
            "responses": {"200": {"description": "a page of runs"}, "401": _ERROR}}},
        "/rules/runs/{id}": {"get": {"summary": "One rule run", "tags": ["rules"], "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "the run"}, "404": _ERROR}}},
        "/rules/runs/{id}/rerun": {"post": {"summary": "Run a failed rule again on the current record",
                                            "tags": ["rules"], "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "the new run"}, "403": _ERROR, "404": _ERROR}}},
        "/hooks/{name}": {"post": {"summary": "Inbound webhook: runs the pack's `webhook \"name\"` rules",
                                   "tags": ["rules"], "security": [], "parameters": [
            {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "X-Lowcode-Signature", "in": "header", "required": True, "schema": {"type": "string"},
             "description": "sha256=<hex HMAC-SHA256 of the raw body with the hook's secret>"},
            {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "what the rules did"}, "401": _ERROR, "404": _ERROR,
                          "422": _ERROR}}},
        "/files": {"post": {"summary": "Upload a file (attachment, image, signature)", "tags": ["files"],
                            "requestBody": {"content": {"multipart/form-data": {"schema": {
                                "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}},
                            "responses": {"201": {"description": "the stored file"}, "413": _ERROR, "422": _ERROR}}},
        "/files/{id}": {"get": {"summary": "Download a file", "tags": ["files"], "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "the file"}, "404": _ERROR}}},
    }
    schemas: dict[str, Any] = {}
    for form in defs.forms.values():
        paths.update(_form_paths(form))
        base = _object(form.fields, "en")
        schemas[f"{form.name}_input"] = base
        full = {**base, "properties": {**_SYSTEM, **base["properties"]}}
        full.pop("required", None)
        schemas[form.name] = full
    schemas["Error"] = {"type": "object", "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}}}}
    versions = ", ".join(f"{p}@{r}" for p, r in key) or "none"
    return {
        "openapi": "3.1.0",
        "info": {"title": "Lowcode API", "version": versions,
                 "description": "Generated from the installed definitions."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {"Error": {"description": "an error", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}},
        },
    }


_CACHE: dict[tuple[tuple[str, int], ...], dict[str, Any]] = {}


def openapi_document(defs: Definitions) -> dict[str, Any]:
    """The document for one compiled definitions version, built once."""
    doc = _CACHE.get(defs.key)
    if doc is None:
        if len(_CACHE) > 8:
            _CACHE.clear()
        doc = _CACHE[defs.key] = _document(defs)
    return doc


@bp.get("/openapi.json")
def openapi_json() -> Any:
    return jsonify(openapi_document(platform().definitions()))
