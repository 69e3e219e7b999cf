"""What a person does with a task: approve, reject (to the end, the start or an earlier node),
submit, transfer, add an approver before or after, comment, or take a state node's action.

Each claims the task with a conditional UPDATE (the second actor gets 409), records a history
event, and moves the instance through the machine (:class:`engine.flows.steps.Run`).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import sqlalchemy as sa

from engine.errors import Conflict, PermissionDenied, ValidationError
from engine.flows.assignees import Target
from engine.flows.history import OPEN, WAITING, path_of, user_names
from engine.flows.model import NodeSpec
from engine.flows.steps import Run, task_values
from engine.flows.tables import tasks
from engine.flows.words import say

APPROVAL_ACTIONS = ("approve", "reject", "transfer", "add_approver")
TASK_ACTIONS = ("submit", "reject", "transfer")


def act_on_task(
    run: Run,
    task: dict[str, Any],
    action: str,
    *,
    comment: Optional[str],
    values: Mapping[str, Any],
    to_node: Optional[str],
    to_user: Optional[str],
    where: Optional[str],
    attachments: Sequence[int],
) -> None:
    ctx, node = run.ctx, run.spec.nodes[task["node"]]
    if action == "comment":
        run.event("commented", node=node.id, comment=comment, attachments=attachments)
        run.flush()
        return
    allowed = _actions(run, node, task)
    if action not in allowed:
        raise ValidationError(
            {"action": [say("flow_bad_action", ctx.locale, action=action, actions=", ".join(allowed))]}
        )
    _may_act(run, node, task, action)
    if task["status"] != OPEN:
        raise Conflict.said("flow_task_done", id=task["id"], status=task["outcome"] or task["status"])
    if action == "transfer":
        _transfer(run, node, task, to_user, comment)
        return
    if action == "add_approver":
        _add_approver(run, node, task, to_user, where, comment)
        return
    if action == "reject":
        _reject(run, node, task, comment, to_node, attachments)
        return
    if values:
        run.set_fields(task_values(node, values, ctx.locale), node=node.id)
    _check(run, node)
    if action == "approve":
        _claim(run, task, "approved", comment)
        run.event("approved", node=node.id, comment=comment, attachments=attachments, on_behalf_of=_behalf(run, task))
        step = run.machine.approve(run.state, node.id, run.record, ctx, run.who.count, run.data)
    else:
        outcome = "submitted" if action == "submit" else action
        _claim(run, task, outcome, comment)
        run.event(outcome, node=node.id, comment=comment, attachments=attachments, on_behalf_of=_behalf(run, task))
        edge = None if action == "submit" else action
        step = run.machine.complete(
            run.state, node.id, run.record, ctx, action=edge, count=run.who.count, data=run.data
        )
    run.perform(step)
    run.save(step)


def _actions(run: Run, node: NodeSpec, task: Mapping[str, Any]) -> tuple[str, ...]:
    if node.kind == "approval":
        return APPROVAL_ACTIONS
    if node.kind == "state":
        return tuple(e.action for e in run.spec.outgoing(node.id) if e.action)
    return TASK_ACTIONS if node.kind == "task" else ("submit",)


def _may_act(run: Run, node: NodeSpec, task: Mapping[str, Any], action: str) -> None:
    ctx = run.ctx
    if node.kind == "state":
        edge = next(e for e in run.spec.outgoing(node.id) if e.action == action)
        if edge.roles and not ctx.superuser and not (edge.roles & ctx.roles):
            raise PermissionDenied.said("flow_role_refused", action=action, roles=", ".join(sorted(edge.roles)))
        if task["assignee_id"] is None and task["assignee_role"] is None:
            return
    if ctx.superuser:
        return
    if task["assignee_id"] is not None and task["assignee_id"] == ctx.user_id:
        return
    if task["assignee_id"] is None and task["assignee_role"] in ctx.roles:
        return
    raise PermissionDenied.said("flow_not_yours", id=task["id"])


def _claim(run: Run, task: Mapping[str, Any], outcome: str, comment: Optional[str]) -> None:
    """The task is ours: open -> done, or 409 when someone was first."""
    t = tasks.c
    done = run.conn.execute(
        sa.update(tasks)
        .where(t.id == task["id"], t.status == OPEN)
        .values(
            status="done",
            outcome=outcome,
            acted_by_id=run.ctx.user_id,
            acted_by_name=run.ctx.username,
            on_behalf_of_name=_behalf(run, task),
            comment=comment,
            done_at=run.now,
        )
    )
    if done.rowcount != 1:
        raise Conflict.said("flow_task_done", id=task["id"], status="done")
    run.cancel_due(run.spec.nodes[task["node"]], [task["id"]])


def _behalf(run: Run, task: Mapping[str, Any]) -> Optional[str]:
    """The name of the user a delegate acts for."""
    delegated = task.get("delegated_from_id")
    if delegated is None:
        return None
    return user_names(run.conn, [delegated]).get(delegated)


def _check(run: Run, node: NodeSpec) -> None:
    """The node's submit checks, on the record as the task leaves it."""
    failed: dict[str, list[str]] = {}
    for check in node.checks:
        if not check.condition.evaluate(run.record, run.ctx, data=run.data):
            failed.setdefault("_task", []).append(check.message.get(run.ctx.locale))
    if failed:
        raise ValidationError(failed, "; ".join(failed["_task"]))


def _reject(
    run: Run,
    node: NodeSpec,
    task: Mapping[str, Any],
    comment: Optional[str],
    to_node: Optional[str],
    files: Sequence[int],
) -> None:
    ctx = run.ctx
    if not (comment or "").strip():
        raise ValidationError({"comment": [say("flow_comment_required", ctx.locale)]})
    target: Optional[str] = None
    if to_node:
        start = run.machine.start_id
        earlier = [n for n in path_of(run.conn, run.inst["id"]) if n != node.id]
        allowed = [start] + [
            n for n in earlier if n != start and run.spec.nodes[n].kind in ("approval", "task", "state")
        ]
        if to_node not in allowed:
            raise ValidationError(
                {"to_node": [say("flow_bad_return", ctx.locale, node=to_node, nodes=", ".join(allowed))]}
            )
        target = to_node
    _claim(run, task, "rejected", comment)
    action = "rejected" if target is None else "returned"
    run.event(
        action,
        node=node.id,
        comment=comment,
        attachments=files,
        from_node=node.id,
        to_node=target,
        on_behalf_of=_behalf(run, task),
    )
    step = run.machine.reject(run.state, node.id, target, run.record, ctx, run.who.count, run.data)
    run.perform(step)
    run.save(step)


def _user(run: Run, name: Optional[str]) -> int:
    if not name:
        raise ValidationError({"to_user": [say("flow_user_required", run.ctx.locale)]})
    user = run.eng.users.by_name(run.conn, name)
    if user is None:
        raise ValidationError({"to_user": [say("flow_no_user", run.ctx.locale, name=name)]})
    return user.id


def _transfer(
    run: Run, node: NodeSpec, task: Mapping[str, Any], to_user: Optional[str], comment: Optional[str]
) -> None:
    target = run.who.delegated(Target(user_id=_user(run, to_user)))
    t = tasks.c
    done = run.conn.execute(
        sa.update(tasks)
        .where(t.id == task["id"], t.status == OPEN)
        .values(assignee_id=target.user_id, assignee_role=None, delegated_from_id=target.delegated_from_id)
    )
    if done.rowcount != 1:
        raise Conflict.said("flow_task_done", id=task["id"], status="done")
    run.event("transferred", node=node.id, comment=comment, changes={"to": to_user})
    _bump(run)


def _add_approver(
    run: Run,
    node: NodeSpec,
    task: Mapping[str, Any],
    to_user: Optional[str],
    where: Optional[str],
    comment: Optional[str],
) -> None:
    target = run.who.delegated(Target(user_id=_user(run, to_user)))
    where = where or "after"
    if where not in ("before", "after"):
        raise ValidationError({"where": ["before | after"]})
    if where == "before":  # the added approver first, then this task again
        t = tasks.c
        done = run.conn.execute(sa.update(tasks).where(t.id == task["id"], t.status == OPEN).values(status=WAITING))
        if done.rowcount != 1:
            raise Conflict.said("flow_task_done", id=task["id"], status="done")
        run.cancel_due(node, [task["id"]])
        run.insert_task(node, "approval", target, task["seq"], OPEN)
    else:  # right after this task: the ones waiting behind it move one place back
        t = tasks.c
        behind = sa.and_(t.instance_id == task["instance_id"], t.node == node.id, t.status == WAITING)
        run.conn.execute(sa.update(tasks).where(behind, t.seq > task["seq"]).values(seq=t.seq + 1))
        run.insert_task(node, "approval", target, task["seq"] + 1, WAITING)
    run.event("added_approver", node=node.id, comment=comment, changes={"user": to_user, "where": where})
    step = run.machine.add_approver(run.state, node.id)
    run.save(step)


def _bump(run: Run) -> None:
    """A change of the instance's tasks only: its version still moves (one writer at a time)."""
    step = run.machine.same(run.state)
    run.save(step)
