"""Staff login with a password session (signed cookie), CSRF tokens, the language switch."""

from __future__ import annotations

import functools
import hmac
import secrets
from typing import Any, Callable, Optional
from urllib.parse import urlparse

from flask import abort, current_app, g, redirect, render_template, request, session, url_for

from apps.security import password_login
from apps.workspace import bp
from apps.workspace.i18n import DEFAULT, LOCALES, text
from engine.context import RunContext
from engine.errors import AuthError, NotFound, Throttled
from engine.platform import Platform
from engine.security.throttle import refusal
from engine.security.users import User

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def platform() -> Platform:
    return current_app.extensions["lowcode"]  # type: ignore[no-any-return]


# ---- CSRF: a random token in the session, a hidden input in every form, checked on POST ----


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


@bp.before_app_request
def _check_csrf() -> None:
    if request.blueprint != "workspace" or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description=text("bad_csrf", locale()))


# ---- language ---------------------------------------------------------------------------


def locale() -> str:
    """The user's language: ?lang=, then the session's choice, then zh-CN."""
    asked = request.args.get("lang")
    if asked in LOCALES:
        session["lang"] = asked
    lang = session.get("lang")
    return lang if lang in LOCALES else DEFAULT


# ---- the signed-in user -----------------------------------------------------------------


def current_user() -> Optional[User]:
    if "ws_user" not in g:
        g.ws_user = None
        uid = session.get("uid")
        if isinstance(uid, int):
            p = platform()
            try:
                with p.db.connect() as conn:
                    user = p.users.get(conn, uid)
            except NotFound:
                user = None
            if user is not None and user.active:
                g.ws_user = user
    return g.ws_user  # type: ignore[no-any-return]


def context() -> RunContext:
    """The run context of the signed-in user, in their language."""
    if "ws_ctx" not in g:
        user = current_user()
        assert user is not None
        g.ws_ctx = platform().context(user, locale())
    return g.ws_ctx  # type: ignore[no-any-return]


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("workspace.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def _safe_next(target: Optional[str]) -> str:
    """Only local paths: ``next`` must never send the user to another site."""
    if target:
        parts = urlparse(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("workspace.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    lang = locale()
    error = None
    username = ""
    status, headers = 200, dict[str, str]()
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        try:
            user = password_login(username, password)
        except Throttled as exc:
            error, status = refusal(exc, lang), 429
            headers["Retry-After"] = str(exc.retry_after)
        except AuthError:
            error, status = text("bad_login", lang), 401
        else:
            session.clear()  # a new session: no fixation
            session["uid"] = user.id
            session["lang"] = lang
            csrf_token()
            return redirect(_safe_next(request.form.get("next")))
    return (
        render_template("ws_login.html", error=error, username=username, next=request.values.get("next", "")),
        status,
        headers,
    )


@bp.post("/logout")
def logout() -> Any:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("workspace.login"))


@bp.app_context_processor
def _template_globals() -> dict[str, Any]:
    if request.blueprint != "workspace":
        return {}
    lang = locale()
    return {
        "csrf_token": csrf_token,
        "lang": lang,
        "t": lambda key, **kw: text(key, lang, **kw),
        "user": current_user(),
        "other_lang": "en" if lang == "zh-CN" else "zh-CN",
    }
