"""Every error as JSON ``{"error": {"code", "message", "fields"}}`` with the right status."""
from __future__ import annotations

from typing import Any, Optional

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from apps.api import bp
from engine.errors import (AuthError, Conflict, DefinitionErrors, NotFound, PermissionDenied,
                           QueryError, SchemaChangeRefused, Throttled, ValidationError)
from engine.security.throttle import refusal


class ApiError(Exception):
    """An error raised by the web layer itself."""

    def __init__(self, status: int, code: str, message: str, fields: Optional[dict[str, list[str]]] = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def error_response(status: int, code: str, message: str, fields: Optional[dict[str, Any]] = None) -> Any:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    resp = jsonify(body)
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="lowcode"'
    return resp


@bp.app_errorhandler(ApiError)
def _api_error(exc: ApiError) -> Any:
    return error_response(exc.status, exc.code, exc.message, exc.fields)


@bp.app_errorhandler(ValidationError)
def _invalid(exc: ValidationError) -> Any:
    return error_response(422, "invalid", "the data is not valid: " + "; ".join(
        f"{k}: {', '.join(v)}" for k, v in exc.fields.items()), exc.fields)


@bp.app_errorhandler(QueryError)
def _bad_query(exc: QueryError) -> Any:
    return error_response(400, "bad_request", str(exc), exc.fields)


@bp.app_errorhandler(AuthError)
def _auth(exc: AuthError) -> Any:
    return error_response(401, "unauthorized", str(exc))


@bp.app_errorhandler(Throttled)
def _throttled(exc: Throttled) -> Any:
    from apps.api.context import platform, request_locale

    resp = error_response(429, "too_many_attempts",
                          refusal(exc, request_locale() or platform().definitions().locale))
    resp.headers["Retry-After"] = str(exc.retry_after)
    return resp


@bp.app_errorhandler(PermissionDenied)
def _denied(exc: PermissionDenied) -> Any:
    return error_response(403, "forbidden", str(exc), exc.fields)


@bp.app_errorhandler(NotFound)
def _not_found(exc: NotFound) -> Any:
    return error_response(404, "not_found", str(exc))


@bp.app_errorhandler(Conflict)
def _conflict(exc: Conflict) -> Any:
    return error_response(409, "conflict", str(exc), exc.fields)


@bp.app_errorhandler(DefinitionErrors)
def _definitions(exc: DefinitionErrors) -> Any:
    return error_response(422, "invalid_definition", str(exc),
                          {"definitions": [str(e) for e in exc.errors]})


@bp.app_errorhandler(SchemaChangeRefused)
def _schema(exc: SchemaChangeRefused) -> Any:
    return error_response(409, "schema_change_refused", str(exc))


@bp.app_errorhandler(HTTPException)
def _http(exc: HTTPException) -> Any:
    if not request.path.startswith(bp.url_prefix or "/api/"):
        return exc
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(exc.code or 500, code, exc.description or exc.name)
