"""Request helpers: the platform, the authenticated caller, JSON bodies, versions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from flask import current_app, g, request

from apps.api.errors import ApiError
from engine.context import RunContext
from engine.errors import AuthError
from engine.forms.coltypes import ID_MAX
from engine.platform import Platform
from engine.security.users import User

if TYPE_CHECKING:
    from engine.store.idempotency import IdempotencyKey


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
            raise AuthError.said("login_first")
        with platform().db.connect(single=True) as conn:
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


def json_body(kind: type = dict) -> Any:
    """The request's JSON body, which must be a ``kind`` (an object unless said otherwise):
    another content type is 415, a body that is not JSON (or JSON ``null``, or a list) 400."""
    if not request.is_json:
        raise ApiError(
            415, "unsupported_media_type", key="not_json_type", sent=repr(request.mimetype or "no Content-Type")
        )
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "bad_request", key="body_not_json")
    if not isinstance(data, kind):
        raise ApiError(400, "bad_request", key="body_not_object")
    return data


def expected_version(body: Any, required: bool) -> Optional[int]:
    """The version the client last saw: ``If-Match`` header or ``version`` in the body."""
    raw: Any = request.headers.get("If-Match")
    if raw:
        g.if_match = True  # a stale version is then a failed precondition (412), not a conflict (409)
        raw = raw.strip().removeprefix("W/").strip('"')
    elif isinstance(body, dict) and "version" in body:
        raw = body.pop("version")
    if raw in (None, ""):
        if required:
            raise ApiError(428, "version_required", key="version_required")
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).isdigit() or int(raw) > ID_MAX:
        raise ApiError(
            400, "bad_request", fields={"version": ["must be a whole number"]}, key="version_not_number", sent=repr(raw)
        )
    return int(raw)


def idempotency_key() -> Optional["IdempotencyKey"]:
    """The request's ``Idempotency-Key`` bound to the caller and the request line."""
    from engine.store.idempotency import IdempotencyKey, body_digest

    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return None
    if len(key) > 200:
        raise ApiError(400, "bad_request", key="key_too_long", max=200)
    return IdempotencyKey(
        current_user().id, key, f"{request.method} {request.path}", body_digest(request.get_data(cache=True))
    )
