"""The staff workspace: password sessions and forms generated from the definitions.

Server-rendered (Jinja, one macro per widget); every write goes through
:class:`engine.service.Records`, so the browser never decides what is valid or allowed.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint

bp = Blueprint("workspace", __name__, template_folder="templates", static_folder="static",
               static_url_path="/w/static")


@bp.record_once
def _cookie_settings(state: Any) -> None:
    """Session cookie: HttpOnly (Flask's default) and SameSite=Lax unless configured."""
    config = state.app.config
    config["SESSION_COOKIE_HTTPONLY"] = True
    if not config.get("SESSION_COOKIE_SAMESITE"):
        config["SESSION_COOKIE_SAMESITE"] = "Lax"


from apps.workspace import auth, transfer, views  # noqa: E402,F401  (register the routes)

__all__ = ["bp"]
