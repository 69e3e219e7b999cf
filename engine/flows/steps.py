"""One step of one instance, persisted: the machine's effects done in the step's transaction.

A :class:`Run` holds what a step works on (the instance row, the pinned definitions and
flow, the record, the store) and :meth:`Run.perform` does the effects in order: history
events, tasks (with due times and escalation timers), record writes through the store's
one pipeline as ``Writer.flow``, timers, notifications, child instances, the rules'
``on flow`` triggers; :meth:`Run.save` writes the new state under the instance's version.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Optional, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.errors import Conflict, ValidationError
from engine.flows import effects as fx
from engine.flows.assignees import Assignees, Target
from engine.flows.history import CANCELLED, OPEN, WAITING, event_row
from engine.flows.machine import Step, machine_of
from engine.flows.model import FlowSpec, NodeSpec
from engine.flows.parts import Definitions, FlowDefinitions, FlowRules, FlowUsers, OrgChart
from engine.flows.tables import events, instances, tasks
from engine.flows.words import say
from engine.store import timers
from engine.store.access import ConnAccess
from engine.store.outbox import enqueue
from engine.store.writer import Writer

TIMER, DUE = "flow.timer", "flow.due"


class Host(Protocol):
    """What a step calls back on its engine (:class:`engine.flows.engine.FlowEngine`)."""

    parts: FlowDefinitions
    users: FlowUsers
    rules: Optional[FlowRules]
    org: Optional[OrgChart]

    def run_action(self, run: "Run", node: NodeSpec) -> None: ...

    def start_children(self, run: "Run", node: NodeSpec) -> None: ...

    def cancel_children(self, run: "Run", node: str) -> None: ...

    def child_ended(self, child: "Run", status: str) -> None: ...


class Run:
    """One step of one instance."""

    def __init__(
        self,
        eng: Host,
        conn: Connection,
        ctx: RunContext,
        inst: dict[str, Any],
        defs: Definitions,
        spec: FlowSpec,
        depth: int = 0,
    ) -> None:
        self.eng, self.conn, self.ctx, self.inst, self.defs, self.spec = eng, conn, ctx, inst, defs, spec
        self.depth = depth
        self.machine = machine_of(spec)
        self.store = eng.parts.store_of(defs)
        self.now = ctx.now()
        record = self.store.get(conn, spec.form, inst["record_id"])
        if record is None:
            raise ValidationError({"record_id": [f"{spec.form} {inst['record_id']} not found"]})
        self.record: dict[str, Any] = record
        self.data = ConnAccess(conn, self.store)
        self.who = Assignees(conn, eng.users, eng.org, record, ctx, inst.get("starter_id"), spec.name, self.now)
        self.who.data = self.data
        self.ended: Optional[str] = None
        self.events: list[dict[str, Any]] = []

    @property
    def state(self) -> dict[str, Any]:
        return self.inst["state"]  # type: ignore[no-any-return]

    def event(self, action: str, **kw: Any) -> None:
        """A history event, written with the step's others in one statement (:meth:`flush`)."""
        self.events.append(event_row(action, self.ctx, self.now, **kw))

    def flush(self) -> None:
        if self.events:
            rows = [{**e, "instance_id": self.inst["id"]} for e in self.events]
            self.conn.execute(sa.insert(events), rows)
            self.events = []

    # ---- effects ---------------------------------------------------------------------
    def perform(self, step: Step) -> None:
        for e in step.effects:
            kind = type(e)
            if kind is fx.Entered:
                self.event("entered", node=e.node, user=False)  # type: ignore[union-attr]
                self._rules(e.node, "enter")  # type: ignore[union-attr]
            elif kind is fx.Left:
                self._rules(e.node, "leave")  # type: ignore[union-attr]
            elif kind is fx.OpenTasks:
                self.open_tasks(self.spec.nodes[e.node])  # type: ignore[union-attr]
            elif kind is fx.OpenNext:
                self.open_next(e.node, e.cancel_open)  # type: ignore[union-attr]
            elif kind is fx.CloseTasks:
                self.close_tasks(e.node)  # type: ignore[union-attr]
            elif kind is fx.SetFields:
                self.set_fields(dict(e.values))  # type: ignore[union-attr]
            elif kind is fx.RunAction:
                self.eng.run_action(self, self.spec.nodes[e.node])  # type: ignore[union-attr]
            elif kind is fx.Notify:
                self.notify(self.spec.nodes[e.node])  # type: ignore[union-attr]
            elif kind is fx.PlaceTimer:
                self.place_timer(e)  # type: ignore[arg-type]
            elif kind is fx.CancelTimer:
                timers.cancel(self.conn, TIMER, f"{self.inst['id']}:{e.node}", now=self.now)  # type: ignore[union-attr]
            elif kind is fx.StartChildren:
                self.eng.start_children(self, self.spec.nodes[e.node])  # type: ignore[union-attr]
            elif kind is fx.CancelChildren:
                self.eng.cancel_children(self, e.node)  # type: ignore[union-attr]
            elif kind is fx.Skipped:
                self.event("skipped", node=e.node, user=False)  # type: ignore[union-attr]
            elif kind is fx.Ended:
                self.ended = e.status  # type: ignore[union-attr]
                self.event("ended", comment=e.status, user=False)  # type: ignore[union-attr]

    def save(self, step: Step) -> None:
        """The new state under the version read; a step that lost the race raises Conflict."""
        i = instances.c
        values: dict[str, Any] = {"state": step.state, "version": self.inst["version"] + 1}
        if step.status is not None:
            values.update(status=step.status, ended_at=self.now)
        done = self.conn.execute(
            sa.update(instances).where(i.id == self.inst["id"], i.version == self.inst["version"]).values(**values)
        )
        if done.rowcount != 1:
            raise Conflict.said("flow_instance_moved", id=self.inst["id"])
        self.inst.update(values)
        self.saved(step)

    def saved(self, step: Step) -> None:
        """After the state is written: the history, then the parent of an ended child."""
        self.flush()
        if step.status is not None and self.inst.get("parent_id"):
            self.eng.child_ended(self, step.status)

    def _rules(self, node: str, transition: str) -> None:
        if self.eng.rules is None:
            return
        outcomes = self.eng.rules.on_flow(
            self.conn, self.ctx, self.spec.name, node, transition, self.record, self.spec.form, self.depth
        )
        if outcomes:  # a rule may have written the record
            fresh = self.store.get(self.conn, self.spec.form, self.inst["record_id"])
            if fresh is not None:
                self.record = fresh

    # ---- the record ------------------------------------------------------------------
    def set_fields(self, values: dict[str, Any], *, node: Optional[str] = None, event: bool = True) -> None:
        old = self.record
        new = self.store.update(
            self.conn,
            self.ctx,
            self.spec.form,
            self.inst["record_id"],
            values,
            writer=Writer.flow(self.ctx, self.spec.name),
            depth=self.depth,
        )
        self.record = new
        self.who.record = new
        changes = {k: [old.get(k), new.get(k)] for k in values if old.get(k) != new.get(k)}
        if changes and event:
            self.event("set", node=node, changes=changes, user=False)

    # ---- tasks -----------------------------------------------------------------------
    def open_tasks(self, node: NodeSpec) -> None:
        targets = self.who.of_node(node)
        if not targets:
            raise ValidationError({"assignee": [say("flow_no_assignee", self.ctx.locale, node=node.id)]})
        one_at_a_time = node.kind == "approval" and node.mode in ("sequence", "chain")
        kind = "start" if node.kind == "start" else node.kind
        for seq, target in enumerate(targets):
            status = WAITING if one_at_a_time and seq else OPEN
            self.insert_task(node, kind, target, seq, status)

    def insert_task(self, node: NodeSpec, kind: str, target: Target, seq: int, status: str) -> int:
        due_at = self.due_at(node) if status == OPEN else None
        pk = self.conn.execute(
            sa.insert(tasks).values(
                instance_id=self.inst["id"],
                node=node.id,
                kind=kind,
                assignee_id=target.user_id,
                assignee_role=target.role,
                delegated_from_id=target.delegated_from_id,
                status=status,
                created_at=self.now,
                due_at=due_at,
                seq=seq,
            )
        ).inserted_primary_key
        assert pk is not None
        task_id = int(pk[0])
        if status == OPEN:
            self.place_due(node, task_id, due_at)
        return task_id

    def due_at(self, node: NodeSpec) -> Optional[dt.datetime]:
        if node.due is None:
            return None
        if node.due.after_seconds is not None:
            return self.now + dt.timedelta(seconds=node.due.after_seconds)
        return self.as_time(self.record.get(node.due.date_field)) if node.due.date_field else None

    def place_due(self, node: NodeSpec, task_id: int, due_at: Optional[dt.datetime]) -> None:
        """The task's due time (a reminder then) and each escalation step's timer (new keys:
        a task's timers are placed once, when it opens)."""
        if due_at is not None:
            timers.add(self.conn, DUE, f"{task_id}:due", due_at, now=self.now, payload={"task": task_id})
        for n, esc in enumerate(node.escalation):
            when = self.now + dt.timedelta(seconds=esc.after_seconds)
            timers.add(self.conn, DUE, f"{task_id}:{n}", when, now=self.now, payload={"task": task_id, "step": n})

    def cancel_due(self, node: NodeSpec, task_ids: list[int]) -> None:
        if node.due is None and not node.escalation:
            return
        for task_id in task_ids:
            timers.cancel(self.conn, DUE, f"{task_id}:due", now=self.now)
            for n in range(len(node.escalation)):
                timers.cancel(self.conn, DUE, f"{task_id}:{n}", now=self.now)

    def node_tasks(self, node: str, statuses: tuple[str, ...]) -> list[dict[str, Any]]:
        t = tasks.c
        q = sa.select(tasks).where(t.instance_id == self.inst["id"], t.node == node, t.status.in_(statuses))
        return [dict(r) for r in self.conn.execute(q.order_by(t.seq, t.id)).mappings()]

    def close_tasks(self, node: str, statuses: tuple[str, ...] = (OPEN, WAITING)) -> None:
        ids = [r["id"] for r in self.node_tasks(node, statuses)]
        if not ids:
            return
        self.conn.execute(sa.update(tasks).where(tasks.c.id.in_(ids)).values(status=CANCELLED, done_at=self.now))
        self.cancel_due(self.spec.nodes[node], ids)

    def open_next(self, node: str, cancel_open: bool) -> None:
        if cancel_open:
            self.close_tasks(node, (OPEN,))
        if self.node_tasks(node, (OPEN,)):
            return
        waiting = self.node_tasks(node, (WAITING,))
        if waiting:
            task_id = waiting[0]["id"]
            spec = self.spec.nodes[node]
            due_at = self.due_at(spec)
            self.conn.execute(
                sa.update(tasks).where(tasks.c.id == task_id).values(status=OPEN, created_at=self.now, due_at=due_at)
            )
            self.place_due(spec, task_id, due_at)

    # ---- timers, notifications ---------------------------------------------------------
    def as_time(self, value: Any) -> Optional[dt.datetime]:
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        if isinstance(value, dt.date):
            return dt.datetime.combine(value, dt.time(0), tzinfo=ZoneInfo(self.defs.timezone))
        if isinstance(value, str) and value:
            return self.as_time(dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value))
        return None

    def place_timer(self, e: fx.PlaceTimer) -> None:
        if e.seconds is not None:
            due = self.now + dt.timedelta(seconds=e.seconds)
        else:
            due = self.as_time(e.until) or self.now
        payload = {"instance": self.inst["id"], "node": e.node}
        timers.schedule(self.conn, TIMER, f"{self.inst['id']}:{e.node}", due, now=self.now, payload=payload)

    def notify(self, node: NodeSpec, subject: Optional[str] = None, who: Optional[list[int]] = None) -> None:
        """Tell users (a cc node's ``notify``, or ``who``) about this record, through the outbox."""
        if who is None:
            assignee = node.notify or node.assignee
            if assignee is None:
                return
            targets = [self.who.delegated(t) for t in self.who.one(assignee)]
            who = []
            for t in targets:
                who.extend([t.user_id] if t.user_id is not None else self.who.role_users(t.role or ""))
        label = self.spec.label.get(self.ctx.locale) or self.spec.name
        text = subject or f"{label}: {node.label.get(self.ctx.locale) or node.id}"
        for user_id in dict.fromkeys(who):
            user = self.eng.users.get(self.conn, user_id)
            channel, address = ("email", user.email) if user.email else ("log", user.username)
            body = f"{text} ({self.spec.form} {self.inst['record_id']})"
            enqueue(
                self.conn,
                "notify",
                {"channel": channel, "to": address, "subject": text, "body": body},
                channel=channel,
                now=self.now,
            )
        self.event("notified", node=node.id, comment=text, changes={"to": list(who)}, user=False)


def task_values(node: NodeSpec, values: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """The fields a task may change at its node (others refused, by name)."""
    bad = sorted(k for k in values if k not in node.editable)
    if bad:
        raise ValidationError({k: [say("flow_not_editable", locale)] for k in bad})
    return dict(values)
