"""``/tasks``: my inbox (own, my roles', delegated to me), one task, its actions, batch approve.

Every action is one call of :class:`engine.inbox.Inbox` (one transaction): a task someone
already acted on is 409, someone else's task 403, a bad body 422 naming the key.
"""

from __future__ import annotations

from typing import Any, Callable

from flask import jsonify, request

from apps.api import bp
from apps.api.context import caller, json_body, platform
from apps.api.errors import ApiError, locale
from apps.api.flow_common import (
    BATCH_MAX,
    COMMENT_MAX,
    action_args,
    inbox,
    optional_body,
    plain,
    query_int,
    said,
    text_of,
    whole_ids,
)
from apps.taskview import check_may_see, task_record
from engine.errors import Conflict, LowcodeError, NotFound, PermissionDenied, ValidationError

#: the URL's action -> the inbox's
ACTIONS = {
    "approve": "approve",
    "reject": "reject",
    "transfer": "transfer",
    "add-approver": "add_approver",
    "comment": "comment",
    "submit": "submit",
}


@bp.get("/tasks")
def list_tasks() -> Any:
    status = request.args.get("status") or "open"
    if status not in ("open", "done"):
        message = said("bad_status")
        raise ApiError(400, "bad_request", message, fields={"status": [message]})
    answer = inbox().tasks(
        caller(),
        status=status,
        flow=request.args.get("flow") or None,
        form=request.args.get("form") or None,
        limit=query_int("limit", 50, 1, 500),
        offset=query_int("offset", 0, 0, 10**9),
    )
    return jsonify(plain(answer))


@bp.get("/tasks/<id:id>")
def get_task(id: int) -> Any:
    """The task with its record as the node shows it (``record``: the visible fields only)."""
    ctx = caller()
    task = dict(inbox().task(ctx, id))
    check_may_see(ctx, task)
    task["record"] = task_record(platform(), ctx, task)
    return jsonify(plain(task))


def _act(name: str) -> Callable[[int], Any]:
    def act(id: int) -> Any:
        args = action_args(optional_body(), name)
        return jsonify(plain(inbox().act(caller(), id, name, **args)))

    return act


for _url, _name in ACTIONS.items():  # one route per action, each in the OpenAPI document
    bp.add_url_rule(f"/tasks/<id:id>/{_url}", f"task_{_name}", _act(_name), methods=["POST"])


def _refusal(exc: LowcodeError) -> dict[str, Any]:
    """Why one task of a batch was not approved, as the Error object's inner part."""
    code = (
        "conflict"
        if isinstance(exc, Conflict)
        else "forbidden"
        if isinstance(exc, PermissionDenied)
        else "not_found"
        if isinstance(exc, NotFound)
        else "invalid"
        if isinstance(exc, ValidationError)
        else "refused"
    )
    fields = getattr(exc, "fields", {}) or {}
    return {"code": code, "message": exc.text(locale()), "fields": fields}


@bp.post("/tasks/batch-approve")
def batch_approve() -> Any:
    """Approve each task in its own transaction: one refused (already done, not mine, a check
    fails) does not hold back the others; the answer says which and why."""
    body = json_body()
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(body) - {"ids", "comment"})
    if unknown:
        errors["body"] = [said("unknown_keys", keys=", ".join(unknown))]
    ids = whole_ids(body.get("ids"), BATCH_MAX)
    if not ids:
        errors["ids"] = [said("must_be_task_ids", n=BATCH_MAX)]
    comment = text_of(body, "comment", errors, COMMENT_MAX)
    if errors:
        raise ValidationError(errors)
    items = [
        {"id": task_id, "ok": False, "error": _refusal(done)}
        if isinstance(done, LowcodeError)
        else {"id": task_id, "ok": True, "task": plain(done)}
        for task_id, done in inbox().batch_approve(caller(), ids or (), comment)
    ]
    approved = sum(1 for i in items if i["ok"])
    return jsonify({"items": items, "approved": approved, "refused": len(items) - approved})
