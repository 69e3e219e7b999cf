"""State-machine mode: a flow's ``status_field`` is written by that flow only.

:class:`StatusGuard` (registered on the event bus by :func:`engine.platform.compose`) asks,
for every write of every writer (API, workspace, batch, import, rules' ``set`` and ``update
... set``), whether the form has a flow-owned status field, and refuses every writer but
``Writer.flow`` of the owning flow, with :class:`engine.store.guards.FieldOwner`'s logic and
words (``status: 由流程「订单生命周期」维护, 不能修改``). A new record may carry the field's
default value; a record a hand-started flow has never run on is not the flow's yet.
"""

from __future__ import annotations

from typing import Callable, Mapping, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.flows.model import FlowSpec
from engine.flows.parts import FlowDefinitions
from engine.flows.tables import instances
from engine.store.guards import FieldOwner
from engine.store.writer import Writer, WriteRequest

NAME = "flows.status_field"


def _owned_by(flow: str) -> Callable[[Writer], bool]:
    return lambda w: w.kind == "flow" and w.name == flow


def owners(flows: Mapping[str, FlowSpec]) -> dict[str, tuple[tuple[FlowSpec, FieldOwner], ...]]:
    """The owned status fields by form: (flow, its field owner) for each flow with one."""
    by: dict[str, list[tuple[FlowSpec, FieldOwner]]] = {}
    for spec in flows.values():
        if spec.status_field:
            label = f"流程「{spec.label.get('zh-CN') or spec.name}」"
            guard = FieldOwner(spec.form, frozenset({spec.status_field}), _owned_by(spec.name), label)
            by.setdefault(spec.form, []).append((spec, guard))
    return {k: tuple(v) for k, v in by.items()}


class StatusGuard:
    """The write guard of every flow-owned status field of the current definitions.

    A flow that starts on create owns the field of every record of its form; one started by
    hand (or by a rule) owns it from its first instance on that record (running or ended)."""

    def __init__(self, parts: FlowDefinitions) -> None:
        self.parts = parts

    def __call__(self, conn: Connection, request: WriteRequest) -> None:
        defs = self.parts.current()
        found = defs.memo(("flow_status_owners",), lambda: owners(defs.flows)).get(request.form)
        if not found:
            return
        for spec, guard in found:
            field = spec.status_field
            assert field is not None
            if guard.owner(request.writer) or not request.changes_field(field):
                continue
            if request.action == "create":
                form = defs.forms.get(request.form)
                fspec = form.field(field) if form is not None else None
                if spec.start_on != "create" or (fspec is not None and request.changes.get(field) == fspec.default):
                    continue  # a new record: its default, or a flow that has not started on it
            elif spec.start_on != "create" and not _runs_on(conn, spec.name, request.form, request.record_id):
                continue
            guard(conn, request)


def _runs_on(conn: Connection, flow: str, form: str, record_id: Optional[int]) -> bool:
    if record_id is None:
        return False
    i = instances.c
    q = sa.select(i.id).where(i.form == form, i.record_id == record_id, i.flow == flow).limit(1)
    return conn.execute(q).first() is not None
