"""Hand every open task of a user (who left) to another user, in one transaction.

An administrator's act: each open or waiting task assigned to ``from`` (their own, and those
delegated to them) is given to ``to``, and each gets a history event ``handed_over`` naming
both users (``changes: {assignee: [from, to]}``, the admin as the actor). Role tasks stay with
the role; the delegations (:mod:`engine.security.delegation`) are left as they are: a
delegation is the user's own choice, a handover the admin's. Each touched instance's
``version`` moves, so a step that read it before the handover gets a conflict (409) rather
than acting on a task that changed hands.
"""

from __future__ import annotations

from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.errors import NotFound, PermissionDenied, ValidationError
from engine.flows.history import OPEN, WAITING, event_row
from engine.flows.ops_texts import say
from engine.flows.tables import events, instances, tasks
from engine.store.system import users

EVENT = "handed_over"


def _user(conn: Connection, user_id: int) -> Any:  # a row (id, username, active) or None
    q = sa.select(users.c.id, users.c.username, users.c.active).where(users.c.id == user_id)
    return conn.execute(q).first()


def user_by_name(conn: Connection, name: str) -> Optional[int]:
    found = conn.execute(sa.select(users.c.id).where(users.c.username == name)).scalar()
    return None if found is None else int(found)


def hand_over(conn: Connection, ctx: RunContext, from_id: int, to_id: int | str) -> dict[str, Any]:
    """Give ``from_id``'s open and waiting tasks to ``to_id``; what was moved.

    403 unless ``ctx`` is an administrator; 404 when ``from_id`` is no user; 422 (field
    ``to``, a user id or name) when it is no user, a disabled one, or ``from_id`` itself."""
    if not ctx.superuser:
        raise PermissionDenied.said("ops_admins_only")
    giver = _user(conn, from_id)
    if giver is None:
        raise NotFound.said("ops_no_user", id=from_id)
    if isinstance(to_id, str) and to_id:  # a user name
        to_id = user_by_name(conn, to_id) or to_id
    if isinstance(to_id, bool) or not isinstance(to_id, int):
        raise ValidationError({"to": [say("ops_not_a_user", ctx.locale, name=to_id)]})
    taker = _user(conn, to_id)
    if taker is None:
        raise ValidationError({"to": [say("ops_not_a_user", ctx.locale, name=to_id)]})
    if not taker.active:
        raise ValidationError({"to": [say("ops_user_disabled", ctx.locale, name=taker.username)]})
    if taker.id == giver.id:
        raise ValidationError({"to": [say("ops_same_user", ctx.locale)]})
    t, i = tasks.c, instances.c
    q = (
        sa.select(t.id, t.instance_id, t.node, t.status)
        .select_from(tasks.join(instances, i.id == t.instance_id))
        .where(t.assignee_id == giver.id, t.status.in_((OPEN, WAITING)), i.status == "running")
        .order_by(t.id)
    )
    if conn.dialect.name == "postgresql":
        q = q.with_for_update(of=tasks)
    rows = list(conn.execute(q))
    now = ctx.now()
    moved: list[int] = []
    for row in rows:
        done = conn.execute(
            sa.update(tasks)
            .where(t.id == row.id, t.assignee_id == giver.id, t.status == row.status)
            .values(assignee_id=taker.id)
        )
        if done.rowcount == 1:
            moved.append(int(row.id))
    by_id = {int(r.id): r for r in rows}
    text = say("ops_handed_over", "zh-CN", from_=giver.username, to=taker.username)
    text += " / " + say("ops_handed_over", "en", from_=giver.username, to=taker.username)
    history = [
        {
            **event_row(
                EVENT,
                ctx,
                now,
                node=by_id[task_id].node,
                comment=text,
                changes={
                    "task": [task_id, task_id],
                    "assignee_id": [giver.id, taker.id],
                    "assignee": [giver.username, taker.username],
                },
            ),
            "instance_id": by_id[task_id].instance_id,
        }
        for task_id in moved
    ]
    if history:
        conn.execute(sa.insert(events), history)
        touched = sorted({by_id[task_id].instance_id for task_id in moved})
        conn.execute(sa.update(instances).where(i.id.in_(touched)).values(version=i.version + 1))
    return {
        "from": {"id": giver.id, "username": giver.username},
        "to": {"id": taker.id, "username": taker.username},
        "tasks": moved,
        "count": len(moved),
    }
