"""The menu of forms on every workspace page: the forms the user may read, in their language."""

from __future__ import annotations

from typing import Any

from flask import request

from apps.workspace import bp
from apps.workspace.auth import context, current_user, platform


@bp.app_context_processor
def _menu() -> dict[str, Any]:
    """``nav_forms`` (``[(form, label)]``) for a signed-in user, ``nav_current``: the form the
    page is about (its list, a record, a new one), marked in the menu; ``ws_timezone``: the
    zone times are shown in."""
    if request.blueprint != "workspace" or current_user() is None:
        return {}
    ctx = context()
    defs = platform().definitions()
    forms = [
        (name, spec.label.get(ctx.locale) or name)
        for name, spec in defs.forms.items()
        if defs.policy.can(ctx, name, "read")
    ]
    return {"nav_forms": forms, "nav_current": (request.view_args or {}).get("form"), "ws_timezone": ctx.timezone}
