"""Login (password -> bearer token), logout (revoke), who am I."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from apps.api import bp
from apps.api.context import bearer_token, caller, current_user, json_body, platform
from apps.api.errors import ApiError
from apps.security import password_login


@bp.post("/auth/login")
def login() -> Any:
    body = json_body()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise ApiError(
            400,
            "bad_request",
            "send JSON with 'username' and 'password'",
            {k: ["is required"] for k in ("username", "password") if not isinstance(body.get(k), str)},
        )
    user = password_login(username, password)  # 401, or 429 while throttled
    p = platform()
    with p.db.begin() as conn:
        token, expires = p.users.issue_token(conn, user)
    resp = jsonify({"token": token, "token_type": "Bearer", "expires_at": expires.isoformat(), "user": user.to_dict()})
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/auth/logout")
def logout() -> Any:
    current_user()
    token = bearer_token()
    p = platform()
    with p.db.begin() as conn:
        p.users.revoke(conn, token or "")
    return jsonify({"revoked": True})


@bp.get("/auth/me")
def me() -> Any:
    ctx = caller()
    defs = platform().definitions()
    forms = {}
    for name in defs.forms:
        actions = [
            a
            for a in ("read", "create", "update", "delete", "approve", "export", "print")
            if defs.policy.can(ctx, name, a)
        ]
        if actions:
            forms[name] = {"actions": actions, "fields": defs.policy.field_access(ctx, name)}
    return jsonify({"user": current_user().to_dict(), "locale": ctx.locale, "forms": forms})
