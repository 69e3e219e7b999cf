"""Change requests: an edit of a record under a flow's change control opens a request instead
of overwriting it; the records linked to it (the flow's ``freezes``) are frozen meanwhile.

A flow with ``changes: {approver: ..., after: node}`` puts its form's records under change
control once their instance reached ``after`` (without it: once the instance completed).
Then :meth:`ChangeRequests.plan` (called by ``Records.update``) turns a person's edit into a
diff ``{field: [old, new]}`` and :meth:`ChangeRequests.request` stores it (``lc_flow_change``),
with an approval task of kind ``change`` on the instance (``lc_flow_task``: the inbox lists
it, a second actor gets 409, the instance's history records it). While it is pending:

* people's writes of the record itself are refused (:class:`~engine.flows.change_guards.ControlGuard`);
* every write of a record of a ``freezes`` form whose link points at it is refused
  (:class:`~engine.flows.change_guards.FreezeGuard`), and acting on the open tasks of its
  flows gives a clear error (:meth:`ChangeRequests.paused`).

Approving writes the diff as a new version through the store's pipeline (``Writer.flow``),
so the rules that depend on the changed fields run as on any write; a record that changed
since the request (a newer version) is refused with 409. Rejecting leaves it as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationError
from engine.flows import history as h
from engine.flows.assignees import Assignees
from engine.flows.change_guards import CONTROL, FREEZE, OPENING, ControlGuard, FreezeGuard
from engine.flows.change_tables import changes
from engine.flows.change_words import say
from engine.flows.engine import FlowEngine
from engine.flows.model import FlowSpec
from engine.flows.parts import Definitions
from engine.flows.steps import Run
from engine.flows.tables import events, tasks
from engine.store.events import EventBus
from engine.store.records import Clause, RecordStore
from engine.store.serialize import dump_record
from engine.store.write import Checked
from engine.store.writer import Writer, WriteRequest, same_rows

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
KIND = "change"  # lc_flow_task.kind of a change request's approval task
NODE = "#change"  # its node: never a node id of a flow (those are identifiers)


class ChangeRequested(dict[str, Any]):
    """The answer of an edit that opened a change request instead of writing (HTTP 202)."""


@dataclass(frozen=True)
class Plan:
    """An edit of a record under change control, as a change request would hold it."""

    spec: FlowSpec
    instance: dict[str, Any]
    form: str
    record_id: int
    old: dict[str, Any]
    diff: dict[str, list[Any]]


class ChangeRequests:
    """Change requests over the flow engine (built by :func:`engine.platform.compose`)."""

    def __init__(self, flows: FlowEngine) -> None:
        self.flows = flows

    def install(self, bus: EventBus) -> None:
        """Its two write guards on the bus, the ``change`` task kind and the pause check on the engine."""
        bus.add_guard(ControlGuard(self), name=CONTROL)
        bus.add_guard(FreezeGuard(self), name=FREEZE)
        self.flows.kinds[KIND] = self
        self.flows.pauses.append(self.paused)

    # ---- definitions -------------------------------------------------------------------
    def defs(self) -> Definitions:
        return self.flows.parts.current()

    def controlling(self, defs: Definitions, form: str) -> tuple[FlowSpec, ...]:
        """The flows of ``form`` with change requests turned on."""
        by = defs.memo(("flow_change_control",), lambda: _controlling(defs.flows))
        return by.get(form, ())

    def frozen_links(self, defs: Definitions, form: str) -> tuple[tuple[str, str], ...]:
        """``(link field, form it points at)`` of ``form``'s records that change requests freeze."""
        by = defs.memo(("flow_change_freezes",), lambda: _freezes(defs.flows))
        return by.get(form, ())

    # ---- state -------------------------------------------------------------------------
    def control(self, conn: Connection, form: str, record_id: int) -> Optional[tuple[FlowSpec, dict[str, Any]]]:
        """The flow and instance that put the record under change control (None: not under it)."""
        for spec in self.controlling(self.defs(), form):
            inst = h.latest_instance(conn, form, record_id, flow=spec.name)
            if inst is None or inst["status"] not in ("running", "completed"):
                continue
            assert spec.changes is not None
            after = spec.changes.after
            if after is None:
                if inst["status"] == "completed":
                    return spec, inst
            elif after in h.path_of(conn, inst["id"]):
                return spec, inst
        return None

    def pending(self, conn: Connection, form: str, record_ids: Any) -> Optional[dict[str, Any]]:
        """The pending change request of one of the records (the oldest), or None."""
        c = changes.c
        ids = [int(i) for i in record_ids]
        if not ids:
            return None
        q = sa.select(changes).where(c.form == form, c.record_id.in_(ids), c.status == PENDING)
        row = conn.execute(q.order_by(c.id).limit(1)).mappings().first()
        return None if row is None else dict(row)

    def paused(self, run: Run, task: Mapping[str, Any]) -> None:
        """Acting on a task of a frozen record's flow is refused, naming the change request."""
        for link, target in self.frozen_links(self.defs(), run.spec.form):
            value = run.record.get(link)
            found = self.pending(run.conn, target, [value]) if isinstance(value, int) else None
            if found is not None:
                raise Conflict.said(
                    "change_paused", task=task["id"], change=found["id"], target=target, target_id=value
                )

    # ---- requesting ----------------------------------------------------------------------
    def plan(
        self,
        conn: Connection,
        ctx: RunContext,
        store: RecordStore,
        form: str,
        record_id: int,
        clean: Checked,
        version: Optional[int],
        where: Clause = None,
    ) -> Optional[Plan]:
        """The change request an edit would open (None: the record is not under change control,
        or the edit changes nothing). ``clean``: the edit's validated values."""
        if not self.controlling(self.defs(), form):
            return None
        found = self.control(conn, form, record_id)
        if found is None:
            return None
        old = store.get(conn, form, record_id, where=where)
        if old is None:
            raise NotFound.said("not_found", form=form, id=record_id)
        if version is not None and old["version"] != version:
            raise StaleVersion.said("stale", form=form, id=record_id, current=old["version"], sent=version)
        spec = store.form(form)
        before, after = dump_record(spec, old), dump_record(spec, {**old, **clean.values})
        diff = {
            k: [before.get(k), after.get(k)]
            for k, v in clean.values.items()
            if spec.field(k) is not None and before.get(k) != after.get(k) and not same_rows(old.get(k), v)
        }
        for old_new in diff.values():  # a new sub-table row has no id yet
            if isinstance(old_new[1], list):
                old_new[1] = [_without_new_id(r) for r in old_new[1]]
        if not diff:
            return None
        return Plan(found[0], found[1], form, record_id, old, diff)

    def request(self, conn: Connection, ctx: RunContext, store: RecordStore, plan: Plan, source: str) -> dict[str, Any]:
        """Store the change request of ``plan`` with its approval task (in the caller's transaction)."""
        form, record_id = plan.form, plan.record_id
        old = store.get(conn, form, record_id, for_update=True)
        if old is None:
            raise NotFound.said("not_found", form=form, id=record_id)
        if old["version"] != plan.old["version"]:
            raise StaleVersion.said("stale", form=form, id=record_id, current=old["version"], sent=plan.old["version"])
        pending = self.pending(conn, form, [record_id])
        if pending is not None:
            params = {"form": form, "id": record_id, "change": pending["id"]}
            raise Conflict.said("change_pending", {"_": [say("change_pending", ctx.locale, **params)]}, **params)
        values = {k: new for k, (_, new) in plan.diff.items()}
        clean = store.validate(ctx, form, values, partial=True)
        writer = Writer("user", source, ctx.user_id, ctx.username, OPENING)  # the other guards judge it as the edit
        store.bus.guard(conn, WriteRequest("update", form, writer, ctx, dict(clean.values), old, record_id))
        now = ctx.now()
        spec, inst = plan.spec, plan.instance
        pk = conn.execute(
            sa.insert(changes).values(
                flow=spec.name,
                form=form,
                record_id=record_id,
                instance_id=inst["id"],
                status=PENDING,
                diff=h.plain(plan.diff),
                base_version=old["version"],
                requested_by=ctx.user_id,
                requested_by_name=ctx.username,
                requested_at=now,
            )
        ).inserted_primary_key
        assert pk is not None
        change_id = int(pk[0])
        task_id = self._open_task(conn, ctx, spec, inst, old)
        conn.execute(sa.update(changes).where(changes.c.id == change_id).values(task_id=task_id))
        _event(conn, inst["id"], "change_requested", ctx, comment=f"#{change_id}", changes=plan.diff)
        return ChangeRequested(self.get(conn, change_id))

    def _open_task(
        self, conn: Connection, ctx: RunContext, spec: FlowSpec, inst: Mapping[str, Any], record: Mapping[str, Any]
    ) -> int:
        assert spec.changes is not None
        who = Assignees(
            conn, self.flows.users, self.flows.org, record, ctx, inst.get("starter_id"), spec.name, ctx.now()
        )
        targets = [who.delegated(t) for t in who.one(spec.changes.approver)]
        if not targets:
            raise ValidationError({"approver": [f"flow '{spec.name}': the change approver resolves to nobody"]})
        target = targets[0]
        pk = conn.execute(
            sa.insert(tasks).values(
                instance_id=inst["id"],
                node=NODE,
                kind=KIND,
                assignee_id=target.user_id,
                assignee_role=target.role,
                delegated_from_id=target.delegated_from_id,
                status=h.OPEN,
                created_at=ctx.now(),
                seq=0,
            )
        ).inserted_primary_key
        assert pk is not None
        return int(pk[0])

    # ---- deciding: the ``change`` task kind ----------------------------------------------
    def act(
        self, conn: Connection, ctx: RunContext, task: Mapping[str, Any], action: str, *, comment: Optional[str]
    ) -> dict[str, Any]:
        """approve | reject | comment on a change request's task; the task after."""
        change = self._of_task(conn, task)
        if action == "comment":
            _event(conn, task["instance_id"], "commented", ctx, comment=comment)
            return self.view(conn, ctx, task)
        if action not in ("approve", "reject"):
            raise ValidationError({"action": [say("change_bad_action", ctx.locale, action=action)]})
        _may_decide(ctx, task)
        if action == "reject" and not (comment or "").strip():
            raise ValidationError({"comment": [say("change_comment_required", ctx.locale)]})
        if change["status"] != PENDING or task["status"] != h.OPEN:
            raise Conflict.said("change_decided", change=change["id"], status=change["status"])
        self._claim(conn, ctx, task, change, APPROVED if action == "approve" else REJECTED, comment)
        if action == "approve":
            self._apply(conn, ctx, change)
        outcome = "change_approved" if action == "approve" else "change_rejected"
        _event(conn, task["instance_id"], outcome, ctx, comment=comment, changes=change["diff"])
        return self.view(conn, ctx, h.task_row(conn, task["id"]) or task)

    def _claim(
        self,
        conn: Connection,
        ctx: RunContext,
        task: Mapping[str, Any],
        change: Mapping[str, Any],
        status: str,
        comment: Optional[str],
    ) -> None:
        now, t, c = ctx.now(), tasks.c, changes.c
        outcome = "approved" if status == APPROVED else "rejected"
        done = conn.execute(
            sa.update(tasks)
            .where(t.id == task["id"], t.status == h.OPEN)
            .values(
                status=h.DONE,
                outcome=outcome,
                acted_by_id=ctx.user_id,
                acted_by_name=ctx.username,
                comment=comment,
                done_at=now,
            )
        )
        if done.rowcount != 1:
            raise Conflict.said("flow_task_done", id=task["id"], status="done")
        decided = conn.execute(
            sa.update(changes)
            .where(c.id == change["id"], c.status == PENDING)
            .values(
                status=status, decided_by=ctx.user_id, decided_by_name=ctx.username, decided_at=now, comment=comment
            )
        )
        if decided.rowcount != 1:
            raise Conflict.said("change_decided", change=change["id"], status="decided")

    def _apply(self, conn: Connection, ctx: RunContext, change: Mapping[str, Any]) -> None:
        """The diff as a new version of the record (it is no longer pending: nothing is frozen)."""
        defs = self.defs()
        store = self.flows.parts.store_of(defs)
        form, record_id, base = change["form"], change["record_id"], change["base_version"]
        record = store.get(conn, form, record_id, for_update=True)
        if record is None:
            raise NotFound.said("not_found", form=form, id=record_id)
        if record["version"] != base:
            raise Conflict.said(
                "change_stale", change=change["id"], form=form, id=record_id, base=base, current=record["version"]
            )
        values = {k: new for k, (_, new) in change["diff"].items()}
        store.update(conn, ctx, form, record_id, values, writer=Writer.flow(ctx, change["flow"]), expected_version=base)
        fresh = store.get(conn, form, record_id)
        applied = fresh["version"] if fresh is not None else base + 1
        conn.execute(sa.update(changes).where(changes.c.id == change["id"]).values(applied_version=applied))

    # ---- reading -------------------------------------------------------------------------
    def _of_task(self, conn: Connection, task: Mapping[str, Any]) -> dict[str, Any]:
        row = conn.execute(sa.select(changes).where(changes.c.task_id == task["id"])).mappings().first()
        if row is None:
            raise NotFound.said("change_not_found", change=f"(task {task['id']})")
        return dict(row)

    def get(self, conn: Connection, change_id: int) -> dict[str, Any]:
        row = conn.execute(sa.select(changes).where(changes.c.id == change_id)).mappings().first()
        if row is None:
            raise NotFound.said("change_not_found", change=change_id)
        return _view(dict(row))

    def of_record(self, conn: Connection, form: str, record_id: int) -> list[dict[str, Any]]:
        """The record's change requests, newest first."""
        c = changes.c
        q = sa.select(changes).where(c.form == form, c.record_id == record_id).order_by(c.id.desc())
        return [_view(dict(r)) for r in conn.execute(q).mappings()]

    def view(self, conn: Connection, ctx: RunContext, task: Mapping[str, Any]) -> dict[str, Any]:
        """A change request's task as the inbox shows a task: with the request and its instance."""
        change = self._of_task(conn, task)
        inst = h.instance_row(conn, task["instance_id"])
        assert inst is not None
        spec = self.defs().flows.get(inst["flow"])
        out = h.task_view(task, h.user_names(conn, [task["assignee_id"], task["delegated_from_id"]]))
        label = spec.label if spec is not None else None
        out.update(
            flow=inst["flow"],
            flow_label=(dict(label.texts) or label.default) if label is not None else inst["flow"],
            form=inst["form"],
            record_id=inst["record_id"],
            node_label={loc: say("change_task_label", loc, change=change["id"]) for loc in ("zh-CN", "en")},
            mode=None,
            visible=None,
            editable=[],
            actions=["approve", "reject", "comment"] if task["status"] == h.OPEN else ["comment"],
            change_request=_view(change),
            instance=h.instance_view(conn, inst),
        )
        return out


def _event(conn: Connection, instance_id: int, action: str, ctx: RunContext, **kw: Any) -> None:
    """A history event of the instance, at the request's pseudo node."""
    conn.execute(
        sa.insert(events).values(instance_id=instance_id, **h.event_row(action, ctx, ctx.now(), node=NODE, **kw))
    )


def _may_decide(ctx: RunContext, task: Mapping[str, Any]) -> None:
    if ctx.superuser:
        return
    if task["assignee_id"] is not None and task["assignee_id"] == ctx.user_id:
        return
    if task["assignee_id"] is None and task["assignee_role"] in ctx.roles:
        return
    raise PermissionDenied.said("flow_not_yours", id=task["id"])


def _without_new_id(row: Any) -> Any:
    if isinstance(row, dict) and "id" in row and row["id"] is None:
        return {k: v for k, v in row.items() if k != "id"}
    return row


def _view(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in dict(row).items()}
    out["fields"] = sorted(out.get("diff") or {})
    return out


def _controlling(flows: Mapping[str, FlowSpec]) -> dict[str, tuple[FlowSpec, ...]]:
    by: dict[str, list[FlowSpec]] = {}
    for spec in flows.values():
        if spec.changes is not None:
            by.setdefault(spec.form, []).append(spec)
    return {k: tuple(v) for k, v in by.items()}


def _freezes(flows: Mapping[str, FlowSpec]) -> dict[str, tuple[tuple[str, str], ...]]:
    by: dict[str, list[tuple[str, str]]] = {}
    for spec in flows.values():
        if spec.changes is None:
            continue
        for form, link in spec.freezes:
            pair = (link, spec.form)
            if pair not in by.setdefault(form, []):
                by[form].append(pair)
    return {k: tuple(v) for k, v in by.items()}


__all__ = ["ChangeRequested", "ChangeRequests", "KIND", "NODE", "OPENING", "Plan"]
