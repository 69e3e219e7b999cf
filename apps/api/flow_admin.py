"""``POST /users/{id}/handover``: an administrator hands every open task of a user (who left)
to another user (:mod:`engine.flows.handover`), in one transaction, each with a history event
naming both. 403 for anyone else; 404 for an unknown user; 422 naming ``to``."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from apps.api import bp
from apps.api.context import caller, json_body, platform
from engine.errors import PermissionDenied, ValidationError
from engine.field_errors import render as field_text
from engine.flows.handover import hand_over


@bp.post("/users/<id:id>/handover")
def handover(id: int) -> Any:  # noqa: A002  (the path's name, as the OpenAPI document has it)
    ctx = caller()
    if not ctx.superuser:
        raise PermissionDenied.said("ops_admins_only")
    body = json_body()
    unknown = {str(k): [field_text("unknown_field", ctx.locale)] for k in body if k != "to"}
    if "to" not in body:
        unknown["to"] = [field_text("required", ctx.locale)]
    if unknown:
        raise ValidationError(unknown)
    with platform().db.begin() as conn:
        return jsonify(hand_over(conn, ctx, id, body["to"]))
