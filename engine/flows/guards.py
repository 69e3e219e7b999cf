"""State-machine mode: a flow's ``status_field`` is written by that flow only.

:class:`StatusGuard` (registered on the event bus by :func:`engine.platform.compose`) asks,
for every write of every writer (API, workspace, batch, import, rules' ``set`` and ``update
... set``), whether the form has a flow-owned status field, and refuses every writer but
``Writer.flow`` of the owning flow, with :class:`engine.store.guards.FieldOwner`'s logic and
words (``status: 由流程「订单生命周期」维护, 不能修改``). A new record may carry the field's
default value.
"""

from __future__ import annotations

from typing import Callable, Mapping

from sqlalchemy.engine import Connection

from engine.flows.model import FlowSpec
from engine.flows.parts import FlowDefinitions
from engine.store.guards import FieldOwner
from engine.store.writer import Writer, WriteRequest

NAME = "flows.status_field"


def _owned_by(flow: str) -> Callable[[Writer], bool]:
    return lambda w: w.kind == "flow" and w.name == flow


def owners(flows: Mapping[str, FlowSpec]) -> dict[str, tuple[FieldOwner, ...]]:
    """The field owners by form: one per flow with a status field."""
    by: dict[str, list[FieldOwner]] = {}
    for spec in flows.values():
        if spec.status_field:
            label = f"流程「{spec.label.get('zh-CN') or spec.name}」"
            guard = FieldOwner(spec.form, frozenset({spec.status_field}), _owned_by(spec.name), label)
            by.setdefault(spec.form, []).append(guard)
    return {k: tuple(v) for k, v in by.items()}


class StatusGuard:
    """The write guard of every flow-owned status field of the current definitions."""

    def __init__(self, parts: FlowDefinitions) -> None:
        self.parts = parts

    def __call__(self, conn: Connection, request: WriteRequest) -> None:
        defs = self.parts.current()
        found = defs.memo(("flow_status_owners",), lambda: owners(defs.flows)).get(request.form)
        if not found:
            return
        if request.action == "create":
            form = defs.forms.get(request.form)
            for guard in found:
                field = next(iter(guard.fields))
                spec = form.field(field) if form is not None else None
                if spec is not None and request.changes.get(field) == spec.default:
                    continue  # a new record with the field's default: not a change of state
                guard(conn, request)
            return
        for guard in found:
            guard(conn, request)
