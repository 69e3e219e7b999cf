"""The flow engine: instances pinned to their pack revision, persisted step by step.

Each public method runs in the caller's transaction (``conn``): the record, the instance, its
tasks and history never disagree. A task is claimed with a conditional UPDATE (``status =
'open'``): the second actor gets :class:`~engine.errors.Conflict` (HTTP 409). The instance row
is locked (PostgreSQL) and its ``version`` checked on every save, so a join fires once.
"""

from __future__ import annotations

from typing import Any, Literal, Mapping, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.errors import Conflict, NotFound, PermissionDenied, ValidationError
from engine.flows import history as h
from engine.flows.acting import act_on_task
from engine.flows.model import FlowSpec, NodeSpec
from engine.flows.parts import Definitions, FlowDefinitions, FlowRules, FlowUsers, OrgChart
from engine.flows.steps import Run
from engine.flows.tables import instances, tasks
from engine.rules.spec import RuleSpec, Trigger
from engine.store.access import ConnAccess
from engine.store.events import RecordEvent
from engine.store.writer import Writer


class FlowEngine:
    """Starts instances and moves them on; the inbox's reads."""

    def __init__(
        self,
        parts: FlowDefinitions,
        users: FlowUsers,
        rules: Optional[FlowRules] = None,
        org: Optional[OrgChart] = None,
    ) -> None:
        self.parts, self.users, self.rules, self.org = parts, users, rules, org
        if rules is not None:
            rules.flow_starters.append(self.start_from_rule)

    # ---- definitions -----------------------------------------------------------------
    def flow(self, defs: Definitions, name: str) -> FlowSpec:
        spec = defs.flows.get(name)
        if spec is None:
            raise NotFound.said("flow_no_flow", flow=name)
        return spec

    def pinned(self, inst: Mapping[str, Any]) -> tuple[Definitions, FlowSpec]:
        defs = self.parts.definitions_at(inst["pack"], inst["revision"])
        return defs, self.flow(defs, inst["flow"])

    def flows_of(self, defs: Definitions, form: str) -> tuple[FlowSpec, ...]:
        by_form = defs.memo(("flows_by_form",), lambda: _by_form(defs.flows))
        return by_form.get(form, ())

    # ---- starting ----------------------------------------------------------------------
    def start(
        self,
        conn: Connection,
        ctx: RunContext,
        flow: str,
        form: str,
        record_id: int,
        *,
        parent: Optional[tuple[int, str]] = None,
        depth: int = 0,
        defs: Optional[Definitions] = None,
        new: bool = False,
    ) -> int:
        """Start ``flow`` on a record; the new instance's id. ``new``: the record was just
        created (it cannot have an instance yet)."""
        defs = defs or self.parts.current()
        spec = self.flow(defs, flow)
        if spec.form != form:
            raise ValidationError({"flow": [f"flow '{flow}' is bound to form '{spec.form}', not '{form}'"]})
        if parent is None and not new and h.latest_instance(conn, form, record_id, running=True, flow=flow):
            raise Conflict.said("flow_running", form=form, id=record_id, flow=flow)
        pack = defs.pack_of(form) or next(iter(defs.packs), "")
        now = ctx.now()
        values: dict[str, Any] = dict(
            flow=flow,
            pack=pack,
            revision=defs.revision(pack) or 0,
            form=form,
            record_id=record_id,
            status="running",
            state={"w": {}},
            starter_id=ctx.user_id,
            starter_name=ctx.username,
            started_at=now,
            parent_id=parent[0] if parent else None,
            parent_node=parent[1] if parent else None,
            version=0,
        )
        inst: dict[str, Any] = {"id": None, **values}
        run = Run(self, conn, ctx, inst, defs, spec, depth)
        run.event("started")
        step = run.machine.start(run.record, ctx, run.who.count, run.data)
        values.update(state=step.state, status=step.status or "running", ended_at=now if step.status else None)
        pk = conn.execute(sa.insert(instances).values(**values)).inserted_primary_key
        assert pk is not None
        instance_id = int(pk[0])
        inst.update(values, id=instance_id)
        run.perform(step)  # the state is written already: the effects need the instance's id
        run.saved(step)
        return instance_id

    def start_from_rule(self, conn: Connection, ctx: RunContext, flow: str, form: str, record_id: int) -> None:
        """A rule's ``start flow X``."""
        self.start(conn, ctx, flow, form, record_id, depth=1)

    def __call__(self, conn: Connection, event: RecordEvent) -> None:
        """The EventBus subscriber: a created record starts its form's ``start: {on: create}``
        flows (whose ``start.if`` holds)."""
        if event.kind != "created" or event.new is None:
            return
        defs = self.parts.current()
        if not getattr(defs, "flows", None):
            return
        for spec in self.flows_of(defs, event.form):
            if spec.start_on != "create":
                continue
            if spec.start_if is not None:
                access = ConnAccess(conn, self.parts.store_of(defs))
                if not spec.start_if.evaluate(event.new, event.ctx, data=access):
                    continue
            self.start(
                conn, event.ctx, spec.name, event.form, event.record_id, depth=event.depth + 1, defs=defs, new=True
            )

    # ---- acting ----------------------------------------------------------------------
    def act(
        self,
        conn: Connection,
        ctx: RunContext,
        task_id: int,
        action: str,
        *,
        comment: Optional[str] = None,
        values: Optional[Mapping[str, Any]] = None,
        to_node: Optional[str] = None,
        to_user: Optional[str] = None,
        where: Optional[Literal["before", "after"]] = None,
        attachments: Sequence[int] = (),
    ) -> dict[str, Any]:
        """Act on a task: approve | reject | submit | transfer | add_approver | comment | a
        state node's edge action. The task after, with its instance."""
        task = h.task_row(conn, task_id)
        if task is None:
            raise NotFound.said("flow_no_task", id=task_id)
        run = self.run_of(conn, ctx, task["instance_id"])
        act_on_task(
            run,
            task,
            action,
            comment=comment,
            values=values or {},
            to_node=to_node,
            to_user=to_user,
            where=where,
            attachments=attachments,
        )
        return self.task(conn, ctx, task_id)

    def run_of(self, conn: Connection, ctx: RunContext, instance_id: int, depth: int = 0) -> Run:
        """A step on a running instance (its row locked on PostgreSQL)."""
        inst = h.instance_row(conn, instance_id, lock=True)
        if inst is None:
            raise NotFound(f"flow instance {instance_id} not found")
        if inst["status"] != "running":
            raise Conflict.said("flow_not_running", id=instance_id, status=inst["status"])
        defs, spec = self.pinned(inst)
        return Run(self, conn, ctx, inst, defs, spec, depth)

    def withdraw(
        self, conn: Connection, ctx: RunContext, form: str, record_id: int, comment: Optional[str] = None
    ) -> dict[str, Any]:
        """The starter takes the running instance back (as the flow's ``withdraw`` allows)."""
        inst = h.latest_instance(conn, form, record_id, running=True)
        if inst is None:
            raise NotFound.said("flow_no_instance", form=form, id=record_id)
        run = self.run_of(conn, ctx, inst["id"])
        policy, name = run.spec.withdraw, run.spec.name
        if policy == "never":
            raise PermissionDenied.said("flow_withdraw_never", flow=name)
        if not ctx.superuser and ctx.user_id != inst["starter_id"]:
            raise PermissionDenied.said("flow_withdraw_starter", flow=name)
        if policy == "before_first_approval" and h.has_event(conn, inst["id"], "approved"):
            raise PermissionDenied.said("flow_withdraw_approved", flow=name)
        run.event("withdrawn", comment=comment)
        step = run.machine.end(run.state, "withdrawn")
        run.perform(step)
        run.save(step)
        return h.instance_view(conn, run.inst)

    def cancel(self, conn: Connection, ctx: RunContext, instance_id: int, comment: Optional[str] = None) -> None:
        run = self.run_of(conn, ctx, instance_id)
        run.event("cancelled", comment=comment)
        step = run.machine.end(run.state, "cancelled")
        run.perform(step)
        run.save(step)

    # ---- what steps call back ----------------------------------------------------------
    def run_action(self, run: Run, node: NodeSpec) -> None:
        """An ``action`` node's rule action, run by the rule engine as a one-action rule
        (``flow:<flow>:<node>``) on the record: logged with the rules' runs."""
        action = node.action
        if action is None or self.rules is None:
            run.event("action", node=node.id, comment="no action", user=False)
            return
        rule = RuleSpec(
            pack=run.inst["pack"],
            form=run.spec.form,
            name=f"flow:{run.spec.name}:{node.id}",
            trigger=Trigger("flow", flow=run.spec.name, node=node.id, direction="enter"),
            condition=None,
            actions=(action,),
            position=node.position,
        )
        outcome = self.rules.run(
            run.conn, run.ctx, rule, dict(run.record), None, "flow", run.depth, source="flow", guard=False, holds=True
        )
        run.event("action", node=node.id, comment=f"{node.action_text or ''} ({outcome})"[:500], user=False)
        fresh = run.store.get(run.conn, run.spec.form, run.inst["record_id"])
        if fresh is not None:
            run.record = fresh

    def start_children(self, run: Run, node: NodeSpec) -> None:
        """A subflow node: one child instance per row (a linked record's id, or a row's ``id``)."""
        sub = node.subflow
        assert sub is not None
        child_spec = self.flow(run.defs, sub.flow)
        link = _link_to(run.defs, run.spec.form, sub.each, child_spec.form)
        for row in run.record.get(sub.each) or ():
            child_id = row if isinstance(row, int) else int(row[link] if link else row["id"])
            if sub.inputs:
                values = {**run.record, **row} if isinstance(row, Mapping) else run.record
                data = {k: e.evaluate(values, run.ctx, data=run.data) for k, e in sub.inputs.items()}
                run.store.update(
                    run.conn,
                    run.ctx,
                    child_spec.form,
                    child_id,
                    data,
                    writer=Writer.flow(run.ctx, run.spec.name),
                    depth=run.depth,
                )
            self.start(
                run.conn,
                run.ctx,
                sub.flow,
                child_spec.form,
                child_id,
                parent=(run.inst["id"], node.id),
                depth=run.depth,
                defs=run.defs,
            )

    def cancel_children(self, run: Run, node: str) -> None:
        i = instances.c
        q = sa.select(i.id).where(i.parent_id == run.inst["id"], i.parent_node == node, i.status == "running")
        for child in list(run.conn.execute(q).scalars()):
            self.cancel(run.conn, run.ctx, int(child), "parent stopped")

    def child_ended(self, child: Run, status: str) -> None:
        """A child instance ended: copy its outputs up, and count it done at the parent node."""
        if status == "cancelled":
            return
        parent = self.run_of(child.conn, child.ctx, int(child.inst["parent_id"]), child.depth)
        node = parent.spec.nodes[child.inst["parent_node"]]
        if node.subflow is not None and node.subflow.outputs:
            parent.set_fields({p: child.record.get(c) for p, c in node.subflow.outputs.items()}, node=node.id)
        if node.id not in parent.state["w"]:
            return
        step = parent.machine.complete(
            parent.state, node.id, parent.record, parent.ctx, count=parent.who.count, data=parent.data
        )
        parent.perform(step)
        parent.save(step)

    # ---- reading ---------------------------------------------------------------------
    def instance(self, conn: Connection, ctx: RunContext, form: str, record_id: int) -> Optional[dict[str, Any]]:
        """The record's latest instance: path, waiting nodes, open tasks, history."""
        inst = h.latest_instance(conn, form, record_id)
        return None if inst is None else h.instance_view(conn, inst)

    def tasks(
        self,
        conn: Connection,
        ctx: RunContext,
        *,
        status: str = "open",
        flow: Optional[str] = None,
        form: Optional[str] = None,
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        """My inbox: items, total, counts by flow."""
        return h.inbox(conn, ctx, status=status, flow=flow, form=form, limit=limit, offset=offset)

    def task(self, conn: Connection, ctx: RunContext, task_id: int) -> dict[str, Any]:
        """One task with its node (kind, mode, field permissions, actions) and instance."""
        row = h.task_row(conn, task_id)
        if row is None:
            raise NotFound.said("flow_no_task", id=task_id)
        inst = h.instance_row(conn, row["instance_id"])
        assert inst is not None
        defs, spec = self.pinned(inst)
        node = spec.nodes[row["node"]]
        out = h.task_view(row, h.user_names(conn, [row["assignee_id"], row["delegated_from_id"]]))
        out.update(
            flow=spec.name,
            flow_label=dict(spec.label.texts) or spec.label.default,
            form=spec.form,
            record_id=inst["record_id"],
            node_label=dict(node.label.texts) or node.label.default,
            mode=node.mode if node.kind == "approval" else None,
            visible=sorted(node.visible) if node.visible is not None else None,
            editable=sorted(node.editable),
            actions=actions_of(spec, node, row),
            instance=h.instance_view(conn, inst),
        )
        return out


def actions_of(spec: FlowSpec, node: NodeSpec, task: Mapping[str, Any]) -> list[str]:
    """What may be done with a task (when open)."""
    if task["status"] != "open":
        return ["comment"]
    if node.kind == "approval":
        return ["approve", "reject", "transfer", "add_approver", "comment"]
    if node.kind == "state":
        return [e.action for e in spec.outgoing(node.id) if e.action] + ["comment"]
    return ["submit", "reject", "transfer", "comment"] if node.kind == "task" else ["submit", "comment"]


def _link_to(defs: Definitions, form: str, each: str, target: str) -> Optional[str]:
    """The column of sub-table ``each`` that links to ``target`` (a row's child record)."""
    spec = defs.forms[form].field(each)
    for col in spec.fields if spec is not None else ():
        if col.form == target:
            return str(col.name)
    return None


def _by_form(flows: Mapping[str, FlowSpec]) -> dict[str, tuple[FlowSpec, ...]]:
    by: dict[str, list[FlowSpec]] = {}
    for spec in flows.values():
        by.setdefault(spec.form, []).append(spec)
    return {k: tuple(v) for k, v in by.items()}


__all__ = ["FlowEngine", "actions_of", "tasks"]
