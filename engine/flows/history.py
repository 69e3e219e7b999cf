"""Reading and writing the flow tables: instance rows, tasks, history events, and the views
the inbox shows (an instance with its path, open tasks and history; a user's tasks)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any, Mapping, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.flows.tables import events, instances, tasks

OPEN, DONE, CANCELLED, WAITING = "open", "done", "cancelled", "waiting"


def plain(value: Any) -> Any:
    """A value as JSON holds it (history changes)."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def event_row(
    action: str,
    ctx: RunContext,
    now: dt.datetime,
    *,
    node: Optional[str] = None,
    comment: Optional[str] = None,
    changes: Optional[Mapping[str, Any]] = None,
    attachments: Sequence[int] = (),
    from_node: Optional[str] = None,
    to_node: Optional[str] = None,
    on_behalf_of: Optional[str] = None,
    user: bool = True,
) -> dict[str, Any]:
    """One lc_flow_event row but its instance id."""
    return dict(
        at=now,
        node=node,
        action=action,
        user_id=ctx.user_id if user else None,
        user_name=ctx.username if user else None,
        on_behalf_of=on_behalf_of,
        comment=comment,
        changes=plain(changes) if changes else None,
        attachments=list(attachments) or None,
        from_node=from_node,
        to_node=to_node,
    )


def instance_row(conn: Connection, instance_id: int, *, lock: bool = False) -> Optional[dict[str, Any]]:
    q = sa.select(instances).where(instances.c.id == instance_id)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).mappings().first()
    return None if row is None else dict(row)


def latest_instance(
    conn: Connection, form: str, record_id: int, *, running: bool = False, flow: Optional[str] = None
) -> Optional[dict[str, Any]]:
    i = instances.c
    q = sa.select(instances).where(i.form == form, i.record_id == record_id)
    if running:
        q = q.where(i.status == "running")
    if flow is not None:
        q = q.where(i.flow == flow)
    row = conn.execute(q.order_by(i.id.desc()).limit(1)).mappings().first()
    return None if row is None else dict(row)


def task_row(conn: Connection, task_id: int) -> Optional[dict[str, Any]]:
    row = conn.execute(sa.select(tasks).where(tasks.c.id == task_id)).mappings().first()
    return None if row is None else dict(row)


def path_of(conn: Connection, instance_id: int) -> list[str]:
    """The nodes the instance entered, in order (each once, by its first entry)."""
    e = events.c
    rows = conn.execute(
        sa.select(e.node).where(e.instance_id == instance_id, e.action == "entered").order_by(e.id)
    ).scalars()
    return list(dict.fromkeys(r for r in rows if r))


def has_event(conn: Connection, instance_id: int, action: str) -> bool:
    e = events.c
    q = sa.select(e.id).where(e.instance_id == instance_id, e.action == action).limit(1)
    return conn.execute(q).first() is not None


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def task_view(row: Mapping[str, Any], names: Mapping[int, str]) -> dict[str, Any]:
    out = {k: _iso(v) for k, v in row.items()}
    out["assignee_name"] = names.get(row["assignee_id"]) if row.get("assignee_id") else None
    out["delegated_from_name"] = names.get(row["delegated_from_id"]) if row.get("delegated_from_id") else None
    return out


def user_names(conn: Connection, ids: Sequence[Optional[int]]) -> dict[int, str]:
    from engine.store.system import users

    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = conn.execute(sa.select(users.c.id, users.c.username).where(users.c.id.in_(wanted)))
    return {int(r.id): r.username for r in rows}


def instance_view(conn: Connection, inst: Mapping[str, Any]) -> dict[str, Any]:
    """An instance with its path, waiting nodes, tasks (open and waiting) and history."""
    t, e = tasks.c, events.c
    task_rows = [
        dict(r)
        for r in conn.execute(
            sa.select(tasks)
            .where(t.instance_id == inst["id"], t.status.in_((OPEN, WAITING)))
            .order_by(t.node, t.seq, t.id)
        ).mappings()
    ]
    names = user_names(conn, [r["assignee_id"] for r in task_rows] + [r["delegated_from_id"] for r in task_rows])
    history = [
        {k: _iso(v) for k, v in dict(r).items() if k != "instance_id"}
        for r in conn.execute(sa.select(events).where(e.instance_id == inst["id"]).order_by(e.id)).mappings()
    ]
    out = {k: _iso(v) for k, v in inst.items() if k != "state"}
    out["waiting"] = list((inst.get("state") or {}).get("w", {}))
    out["path"] = path_of(conn, inst["id"])
    out["tasks"] = [task_view(r, names) for r in task_rows]
    out["history"] = history
    return out


def mine(ctx: RunContext) -> sa.ColumnElement[bool]:
    """The tasks of ``ctx``'s user: their own (delegated ones included) and their roles'."""
    t = tasks.c
    clauses: list[sa.ColumnElement[bool]] = []
    if ctx.user_id is not None:
        clauses.append(t.assignee_id == ctx.user_id)
    if ctx.roles:
        clauses.append(sa.and_(t.assignee_id.is_(None), t.assignee_role.in_(sorted(ctx.roles))))
    return sa.or_(*clauses) if clauses else sa.false()


def inbox(
    conn: Connection,
    ctx: RunContext,
    *,
    status: str = OPEN,
    flow: Optional[str] = None,
    form: Optional[str] = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """My tasks (newest first), their total, and the counts by flow (of ``status``)."""
    t, i = tasks.c, instances.c
    who = mine(ctx) if status == OPEN else sa.or_(mine(ctx), t.acted_by_id == ctx.user_id)
    base = sa.and_(t.status == status, who)
    joined = tasks.join(instances, i.id == t.instance_id)
    filters = [base]
    if flow:
        filters.append(i.flow == flow)
    if form:
        filters.append(i.form == form)
    q = sa.select(tasks, i.flow, i.form, i.record_id, i.starter_name, i.status.label("instance_status"))
    q = q.select_from(joined).where(*filters).order_by(t.id.desc()).limit(limit).offset(offset)
    rows = [dict(r) for r in conn.execute(q).mappings()]
    total = int(conn.execute(sa.select(sa.func.count()).select_from(joined).where(*filters)).scalar_one())
    counts = {
        r.flow: int(r.n)
        for r in conn.execute(
            sa.select(i.flow, sa.func.count().label("n")).select_from(joined).where(base).group_by(i.flow)
        )
    }
    names = user_names(conn, [r["assignee_id"] for r in rows] + [r["delegated_from_id"] for r in rows])
    return {"items": [task_view(r, names) for r in rows], "total": total, "counts": counts}
