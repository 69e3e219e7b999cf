"""A task as the web apps show it (the API and the workspace): who may look at it, and the
record as its node shows it (the node's ``visible`` fields, less those hidden from the role)."""

from __future__ import annotations

from typing import Any, Mapping

from engine.context import RunContext
from engine.errors import NotFound, PermissionDenied
from engine.platform import Platform
from engine.security.fields import without_hidden
from engine.store.serialize import SYSTEM_COLUMNS, dump_record, json_value


def may_see(ctx: RunContext, task: Mapping[str, Any]) -> bool:
    """A task is seen by its assignee, the users of its role, the one who acted on it, the
    instance's starter and a superuser; nobody else learns what it holds."""
    if ctx.superuser:
        return True
    uid = ctx.user_id
    if uid is not None and uid in (task.get("assignee_id"), task.get("acted_by_id")):
        return True
    if task.get("assignee_id") is None and task.get("assignee_role") in ctx.roles:
        return True
    instance = task.get("instance") or {}
    return uid is not None and instance.get("starter_id") == uid


def check_may_see(ctx: RunContext, task: Mapping[str, Any]) -> None:
    if not may_see(ctx, task):
        raise PermissionDenied.said("flow_not_yours", id=task.get("id"))


def task_record(platform: Platform, ctx: RunContext, task: Mapping[str, Any]) -> dict[str, Any]:
    """The task's record as JSON: the node's visible fields (all when it names none) that the
    caller's role does not hide, with the system columns."""
    defs = platform.definitions()
    form = str(task["form"])
    if form not in defs.forms:
        raise NotFound(f"no form named '{form}'")
    spec = defs.forms[form]
    with platform.db.connect() as conn:
        row = platform.store_of(defs).get(conn, form, int(task["record_id"]))
    if row is None:
        raise NotFound.said("not_found", form=spec.label, id=task["record_id"])
    data = dump_record(spec, row)
    visible = task.get("visible")
    if visible is not None:
        keep = set(visible) | set(task.get("editable") or ()) | set(SYSTEM_COLUMNS)
        data = {k: v for k, v in data.items() if k in keep}
    return without_hidden(spec, data, defs.policy.hidden(ctx, form))


__all__ = ["check_may_see", "json_value", "may_see", "task_record"]
