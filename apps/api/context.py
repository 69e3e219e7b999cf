"""Request helpers: the platform, the authenticated caller, JSON bodies, versions."""
from __future__ import annotations

from typing import Any, Optional

from flask import current_app, g, request

from apps.api.errors import ApiError
from engine.context import RunContext
from engine.errors import AuthError
from engine.platform import Platform
from engine.security.users import User


def platform() -> Platform:
    return current_app.extensions["lowcode"]


def bearer_token() -> Optional[str]:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_user() -> User:
    if "user" not in g:
        token = bearer_token()
        if token is None:
            raise AuthError("log in first: send 'Authorization: Bearer <token>' (POST /api/v1/auth/login gives one)")
        with platform().db.connect() as conn:
            g.user = platform().users.user_for_token(conn, token)
    return g.user


def caller() -> RunContext:
    """The run context of the authenticated caller, in the language they asked for."""
    if "ctx" not in g:
        g.ctx = platform().context(current_user(), request_locale())
    return g.ctx


def request_locale() -> Optional[str]:
    """The language the request asks for (``?lang=``, then ``Accept-Language``), if any."""
    return request.args.get("lang") or _accept_language()


def _accept_language() -> Optional[str]:
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if best is None:
        return None
    return "zh-CN" if best.startswith("zh") else "en"


def json_body() -> Any:
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "bad_request", "the body must be JSON (Content-Type: application/json)")
    return data


def expected_version(body: Any, required: bool) -> Optional[int]:
    """The version the client last saw: ``If-Match`` header or ``version`` in the body."""
    raw: Any = request.headers.get("If-Match")
    if raw:
        raw = raw.strip().removeprefix("W/").strip('"')
    elif isinstance(body, dict) and "version" in body:
        raw = body.pop("version")
    if raw in (None, ""):
        if required:
            raise ApiError(428, "version_required",
                           "send the version you are changing (If-Match header or 'version' in the body), "
                           "so that nobody's change is overwritten silently")
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ApiError(400, "bad_request", f"version must be a whole number, not {raw!r}") from None


def idempotency_key() -> Optional["IdempotencyKey"]:
    """The request's ``Idempotency-Key`` bound to the caller and the request line."""
    from engine.store.idempotency import IdempotencyKey

    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return None
    if len(key) > 200:
        raise ApiError(400, "bad_request", "Idempotency-Key is longer than 200 characters")
    return IdempotencyKey(current_user().id, key, f"{request.method} {request.path}")
