"""``/departments``, ``/users/{id}/department``, ``/delegations``: the organisation flows climb
(department heads) and delegate in.

Staff read the departments; only an administrator (a superuser role) changes them or a user's
department. A user delegates their own tasks and sees the delegations they gave or took; an
administrator does both for anyone. What is wrong with a body is 422 naming the field, in the
caller's language (the engine's checks, :mod:`engine.security.org`).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from apps.api import bp
from apps.api.context import caller, json_body, platform
from apps.api.errors import ApiError
from engine.context import RunContext
from engine.security import org
from engine.security.org_errors import OrgDenied, Refusals, said


def _admin(ctx: RunContext) -> None:
    if not ctx.superuser:
        raise said(OrgDenied, "admins_only")


def _staff(ctx: RunContext) -> None:
    """A portal user (every role of theirs a portal role) does not see the organisation."""
    roles = platform().definitions().roles
    if not ctx.superuser and ctx.roles and all(r in roles and roles[r].portal for r in ctx.roles):
        raise said(OrgDenied, "staff_only")


def _flag(name: str) -> bool:
    raw = request.args.get(name)
    if raw in (None, "", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise ApiError(400, "bad_request", f"'{name}' is true or false, not {raw!r}")


def _user_param(ctx: RunContext) -> int | None:
    raw = request.args.get("user")
    if raw is None or raw == "":
        return None if ctx.superuser else ctx.user_id
    if not raw.isdigit() or not 1 <= int(raw) <= 2**31 - 1:
        raise ApiError(400, "bad_request", f"'user' is a user id, not {raw!r}")
    if not ctx.superuser and int(raw) != ctx.user_id:
        raise said(OrgDenied, "others_delegation", id=ctx.user_id)
    return int(raw)


# ---- departments -------------------------------------------------------------------------


@bp.get("/departments")
def list_departments() -> Any:
    ctx = caller()
    _staff(ctx)
    with platform().db.connect() as conn:
        items = [{**d.to_dict(), "members": org.members(conn, d.id)} for d in org.departments(conn)]
    return jsonify({"items": items, "total": len(items)})


@bp.post("/departments")
def create_department() -> Any:
    ctx = caller()
    _admin(ctx)
    body = json_body()
    with platform().db.begin() as conn:
        made = org.add_department(conn, body, locale=ctx.locale)
    resp = jsonify(made.to_dict())
    resp.status_code = 201
    resp.headers["Location"] = f"/api/v1/departments/{made.id}"
    return resp


@bp.patch("/departments/<id:id>")
def update_department(id: int) -> Any:  # noqa: A002  (the path's name, as the OpenAPI document has it)
    ctx = caller()
    _admin(ctx)
    body = json_body()
    with platform().db.begin() as conn:
        return jsonify(org.update_department(conn, id, body, locale=ctx.locale).to_dict())


@bp.put("/users/<id:id>/department")
def set_user_department(id: int) -> Any:  # noqa: A002
    ctx = caller()
    _admin(ctx)
    body = json_body()
    refusals = Refusals(ctx.locale)
    for key in body:
        if key != "department_id":
            refusals.add(str(key), "unknown_field")
    if "department_id" not in body:
        refusals.add("department_id", "required")
    refusals.raise_any()
    with platform().db.begin() as conn:
        dept = org.set_user_department(conn, id, body["department_id"], locale=ctx.locale)
    return jsonify({"user_id": id, "department": dept.to_dict() if dept else None})


# ---- delegations -------------------------------------------------------------------------


@bp.get("/delegations")
def list_delegations() -> Any:
    ctx = caller()
    user = _user_param(ctx)
    at = platform().clock.now() if _flag("active") else None
    with platform().db.connect() as conn:
        items = [d.to_dict() for d in org.delegations(conn, user_id=user, at=at)]
    return jsonify({"items": items, "total": len(items)})


@bp.post("/delegations")
def create_delegation() -> Any:
    ctx = caller()
    body = dict(json_body())
    if body.get("from_id") is None:
        body["from_id"] = ctx.user_id
    elif not ctx.superuser and body["from_id"] != ctx.user_id:
        raise said(OrgDenied, "others_delegation", id=ctx.user_id)
    p = platform()
    with p.db.begin() as conn:
        made = org.add_delegation(
            conn, body, now=p.clock.now(), created_by=ctx.username, timezone=ctx.timezone, locale=ctx.locale
        )
    resp = jsonify(made.to_dict())
    resp.status_code = 201
    resp.headers["Location"] = f"/api/v1/delegations/{made.id}"
    return resp


@bp.delete("/delegations/<id:id>")
def revoke_delegation(id: int) -> Any:  # noqa: A002
    ctx = caller()
    p = platform()
    with p.db.begin() as conn:
        found = org.delegation(conn, id)
        if not ctx.superuser and found.from_id != ctx.user_id:
            raise said(OrgDenied, "not_your_delegation", id=id, user=found.from_name)
        return jsonify(org.revoke_delegation(conn, id, p.clock.now()).to_dict())
