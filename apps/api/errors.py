"""Every error as JSON ``{"error": {"code", "message", "fields"}}`` with the right status."""

from __future__ import annotations

from typing import Any, Optional

import sqlalchemy as sa
from flask import g, jsonify, request
from werkzeug.exceptions import HTTPException

from apps.api import bp
from engine.error_texts import render
from engine.errors import (
    AuthError,
    Conflict,
    DefinitionErrors,
    LowcodeError,
    NotFound,
    PermissionDenied,
    QueryError,
    SchemaChangeRefused,
    StaleVersion,
    Throttled,
    ValidationError,
)
from engine.forms.coltypes import ID_MAX
from engine.security.throttle import refusal


class ApiError(Exception):
    """An error raised by the web layer itself: ``key`` of :mod:`engine.error_texts` and its values
    (read in the caller's language), or a plain English ``message``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str = "",
        fields: Optional[dict[str, list[str]]] = None,
        *,
        key: Optional[str] = None,
        **params: Any,
    ) -> None:
        message = render(key, "en", **params) if key else message
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}
        self.key, self.params = key, params

    def text(self, locale: str) -> str:
        return render(self.key, locale, **self.params) if self.key else self.message


def locale() -> str:
    """The language of the answer: the caller's (their request, else the pack's)."""
    ctx = g.get("ctx")
    if ctx is not None:
        return str(ctx.locale)
    from apps.api.context import platform, request_locale

    try:
        return request_locale() or platform().definitions().locale
    except LowcodeError:  # no pack published yet
        return "en"


def _said(exc: Exception) -> str:
    return exc.text(locale()) if isinstance(exc, (LowcodeError, ApiError)) else str(exc)


def error_response(status: int, code: str, message: str, fields: Optional[dict[str, Any]] = None) -> Any:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    resp = jsonify(body)
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="lowcode"'
    return resp


@bp.app_errorhandler(ApiError)
def _api_error(exc: ApiError) -> Any:
    return error_response(exc.status, exc.code, exc.text(locale()), exc.fields)


@bp.app_errorhandler(ValidationError)
def _invalid(exc: ValidationError) -> Any:
    detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.fields.items())
    return error_response(422, "invalid", render("invalid", locale(), detail=detail), exc.fields)


@bp.app_errorhandler(QueryError)
def _bad_query(exc: QueryError) -> Any:
    return error_response(400, "bad_request", _said(exc), exc.fields)


@bp.app_errorhandler(AuthError)
def _auth(exc: AuthError) -> Any:
    return error_response(401, "unauthorized", _said(exc))


@bp.app_errorhandler(Throttled)
def _throttled(exc: Throttled) -> Any:
    resp = error_response(429, "too_many_attempts", refusal(exc, locale()))
    resp.headers["Retry-After"] = str(exc.retry_after)
    return resp


@bp.app_errorhandler(PermissionDenied)
def _denied(exc: PermissionDenied) -> Any:
    return error_response(403, "forbidden", _said(exc), exc.fields)


@bp.app_errorhandler(NotFound)
def _not_found(exc: NotFound) -> Any:
    return error_response(404, "not_found", _said(exc))


@bp.app_errorhandler(Conflict)
def _conflict(exc: Conflict) -> Any:
    if isinstance(exc, StaleVersion) and g.get("if_match"):  # the precondition the client sent failed
        return error_response(412, "precondition_failed", _said(exc), exc.fields)
    return error_response(409, "conflict", _said(exc), exc.fields)


@bp.app_errorhandler(DefinitionErrors)
def _definitions(exc: DefinitionErrors) -> Any:
    return error_response(422, "invalid_definition", str(exc), {"definitions": [str(e) for e in exc.errors]})


@bp.app_errorhandler(SchemaChangeRefused)
def _schema(exc: SchemaChangeRefused) -> Any:
    return error_response(409, "schema_change_refused", _said(exc))


@bp.app_errorhandler(sa.exc.DataError)
@bp.app_errorhandler(OverflowError)
def _out_of_range(exc: Exception) -> Any:
    """A value the database cannot hold that no check caught: a number beyond its column type
    (PostgreSQL's DataError), or beyond 64 bits (SQLite's driver raises OverflowError first)."""
    if not request.path.startswith(bp.url_prefix or "/api/"):
        raise exc
    return error_response(422, "out_of_range", render("out_of_range", locale(), max=ID_MAX))


@bp.app_errorhandler(HTTPException)
def _http(exc: HTTPException) -> Any:
    if not request.path.startswith(bp.url_prefix or "/api/"):
        return exc
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(exc.code or 500, code, exc.description or exc.name)
