"""Web security for every app: response headers, session cookies, the client address behind
trusted proxies, and the login throttle (``engine.security.throttle``) built from the settings."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any, Mapping

from flask import Flask, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.security.throttle import Limits, Throttle
from engine.security.users import User

#: The workspace's pages: scripts, styles and images only from the app itself (the vendored
#: files under /w/static), no inline script or style, no plugins, never inside a frame.
WORKSPACE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
#: JSON answers load nothing at all.
API_CSP = "default-src 'none'; frame-ancestors 'none'"

#: setting -> (environment variable, default)
_WHOLE = {
    "LOGIN_MAX_FAILURES": ("LOWCODE_LOGIN_MAX_FAILURES", 5),
    "LOGIN_MAX_FAILURES_PER_ADDRESS": ("LOWCODE_LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
    "LOGIN_WINDOW_SECONDS": ("LOWCODE_LOGIN_WINDOW_SECONDS", 900),
    "LOGIN_LOCK_SECONDS": ("LOWCODE_LOGIN_LOCK_SECONDS", 900),
    "TRUSTED_PROXIES": ("LOWCODE_TRUSTED_PROXIES", 0),
}
_YES, _NO = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def env_settings(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The security settings from the environment (``create_app``'s config overrides them)."""
    out: dict[str, Any] = {}
    for key, (var, default) in _WHOLE.items():
        raw = environ.get(var, "").strip()
        try:
            out[key] = int(raw) if raw else default
        except ValueError:
            raise ValueError(f"{var} must be a whole number, not {raw!r}") from None
    https = environ.get("LOWCODE_HTTPS", "").strip().lower()
    if https not in _YES + _NO:
        raise ValueError(f"LOWCODE_HTTPS must be 1 or 0, not {https!r}")
    out["HTTPS"] = https in _YES
    return out


def install(app: Flask) -> None:
    """Cookies, proxies, headers and the throttle for ``app`` (after its platform is set)."""
    config = app.config
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    if config["HTTPS"]:
        config["SESSION_COOKIE_SECURE"] = True
        config["PREFERRED_URL_SCHEME"] = "https"
    proxies = int(config["TRUSTED_PROXIES"])
    if proxies < 0:
        raise ValueError(f"TRUSTED_PROXIES must be 0 or more, not {proxies}")
    if proxies:  # the last ``proxies`` hops' X-Forwarded-For / -Proto are believed, no others
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    limits = Limits(
        per_name=int(config["LOGIN_MAX_FAILURES"]),
        per_address=int(config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
        window=dt.timedelta(seconds=int(config["LOGIN_WINDOW_SECONDS"])),
        lock=dt.timedelta(seconds=int(config["LOGIN_LOCK_SECONDS"])),
    )
    platform = app.extensions["lowcode"]
    app.extensions["lowcode_throttle"] = Throttle(platform.db, platform.clock, "login", limits)
    app.after_request(_headers)


def _headers(resp: Any) -> Any:
    headers = resp.headers
    headers.setdefault("Content-Security-Policy", API_CSP if request.path.startswith("/api/") else WORKSPACE_CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config["HTTPS"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return resp


def client_address() -> str:
    """The caller's address: the socket's peer, or what ``TRUSTED_PROXIES`` proxies forwarded."""
    return request.remote_addr or "unknown"


def password_login(username: str, password: str) -> User:
    """The user whose password this is, through the login throttle (``AuthError``, ``Throttled``)."""
    p = current_app.extensions["lowcode"]
    throttle: Throttle = current_app.extensions["lowcode_throttle"]

    def check() -> User:
        with p.db.connect() as conn:
            return p.users.authenticate(conn, username, password)  # type: ignore[no-any-return]

    return throttle.guard(username, client_address(), check)
