"""``run.py flows replay FLOW --revision draft --since 2026-10-01``: what-if before publishing.

Every instance of FLOW started since the date is run again, on its record as it was when the
instance started, through another revision of the flow (a draft pack on disk, or a stored
revision), with :func:`apps.cli.flows_sim.simulate`; the answer lists the instances whose path
or assignees would differ: the first node where the paths part, and per node who the tasks went
to and who they would go to. Nothing is written."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from apps.cli.flows_sim import Resolver, simulate
from engine.context import RunContext
from engine.errors import NotFound
from engine.flows.history import path_of, user_names
from engine.flows.model import HUMAN_KINDS, FlowSpec
from engine.flows.tables import instances, tasks
from engine.platform import Platform
from engine.runtime import Definitions


def stored_assignees(conn: Connection, instance_id: int, roles: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Who the instance's tasks went to, by node (a role's task: the role's users)."""
    t = tasks.c
    rows = list(
        conn.execute(
            sa.select(t.node, t.assignee_id, t.assignee_role, t.delegated_from_id)
            .where(t.instance_id == instance_id)
            .order_by(t.id)
        )
    )
    names = user_names(conn, [r.assignee_id for r in rows] + [r.delegated_from_id for r in rows])
    out: dict[str, list[str]] = {}
    for r in rows:
        found = out.setdefault(str(r.node), [])
        if r.assignee_id is not None and r.delegated_from_id is not None:
            who = [f"{names.get(r.delegated_from_id)}"]  # the one the node asked for, before delegation
        elif r.assignee_id is not None:
            who = [names.get(r.assignee_id, f"user {r.assignee_id}")]
        else:
            who = roles.get(str(r.assignee_role), [f"role {r.assignee_role}: nobody"])
        found += [w for w in who if w not in found]
    return out


def _path(steps: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(s["node"] for s in steps if s["kind"] != "skipped"))


def _record_at(platform: Platform, ctx: RunContext, form: str, record_id: int, when: dt.datetime) -> dict[str, Any]:
    """The record as it was when the instance started (else as it is now)."""
    from engine.service import Records

    records = Records(platform)
    try:
        return dict(records.as_of(ctx, form, record_id, when))
    except NotFound:
        return dict(records.get(ctx, form, record_id))


def replay(
    platform: Platform,
    draft: Definitions,
    flow_name: str,
    since: dt.datetime,
    ctx: RunContext,
    typed: Any,
    limit: int = 1000,
) -> dict[str, Any]:
    """The instances of ``flow_name`` started since ``since``, replayed through ``draft``'s flow."""
    flow: Optional[FlowSpec] = draft.flows.get(flow_name)
    if flow is None:
        raise NotFound.said("flow_no_flow", flow=flow_name)
    form = draft.forms[flow.form]
    i = instances.c
    with platform.db.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(
                sa.select(instances)
                .where(i.flow == flow_name, i.parent_id.is_(None), i.started_at >= since)
                .order_by(i.id)
                .limit(limit)
            ).mappings()
        ]
        users = [u for u in platform.users.all(conn) if u.active]
        roles: dict[str, list[str]] = {}
        for u in users:
            for r in u.roles:
                roles.setdefault(r, []).append(u.username)
        differ: list[dict[str, Any]] = []
        for inst in rows:
            stored_path = path_of(conn, inst["id"])
            stored_who = stored_assignees(conn, inst["id"], {k: sorted(v) for k, v in roles.items()})
            when = (
                inst["started_at"] if inst["started_at"].tzinfo else inst["started_at"].replace(tzinfo=dt.timezone.utc)
            )
            record = typed(form.fields, _record_at(platform, ctx, flow.form, inst["record_id"], when))
            resolver = Resolver(
                conn, platform.users, None, starter_id=inst["starter_id"], flow=flow_name, now=platform.clock.now()
            )
            sim = simulate(flow, record, ctx, resolver)
            draft_path = _path(sim.steps)
            compared = stored_path
            if inst["status"] != "completed":  # not ended by approvals: the rest as its own revision goes on
                pinned = platform.definitions_at(inst["pack"], inst["revision"]).flows.get(flow_name)
                if pinned is not None:
                    ahead = _path(simulate(pinned, record, ctx, resolver).steps)
                    compared = stored_path + [n for n in ahead if n not in stored_path]
            parted = next((n for n, (a, b) in enumerate(zip(compared, draft_path)) if a != b), None)
            if parted is None and len(compared) != len(draft_path):
                parted = min(len(compared), len(draft_path))
            who: dict[str, dict[str, list[str]]] = {}
            for s in sim.steps:
                node = flow.nodes.get(s["node"])
                if node is None or node.kind not in HUMAN_KINDS or s["node"] not in stored_who:
                    continue
                if sorted(stored_who[s["node"]]) != sorted(s.get("assignees") or []):
                    who[s["node"]] = {"stored": stored_who[s["node"]], "draft": list(s.get("assignees") or [])}
            if parted is not None or who or sim.error:
                differ.append(
                    {
                        "instance": inst["id"],
                        "record_id": inst["record_id"],
                        "status": inst["status"],
                        "path": compared,
                        "draft_path": draft_path,
                        "parts_at": None if parted is None else parted,
                        "assignees": who,
                        "error": sim.error,
                    }
                )
    return {
        "flow": flow_name,
        "since": since.isoformat(),
        "instances": len(rows),
        "same": len(rows) - len(differ),
        "different": differ,
    }
