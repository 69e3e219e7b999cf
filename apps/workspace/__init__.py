"""The staff workspace: password sessions and forms generated from the definitions.

Server-rendered (Jinja, one macro per widget); every write goes through
:class:`engine.service.Records`, so the browser never decides what is valid or allowed.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("workspace", __name__, template_folder="templates", static_folder="static", static_url_path="/w/static")

from apps.workspace import auth, inbox, lists, nav, transfer, views  # noqa: E402,F401  (register the routes)

__all__ = ["bp"]
