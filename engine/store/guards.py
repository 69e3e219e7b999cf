"""Write guards the platform ships. Register one with ``platform.bus.add_guard(guard)`` (or
as a ``lowcode.guards`` entry point); see :mod:`engine.store.writer` for what guards see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy.engine import Connection

from engine.field_errors import render
from engine.store.writer import Writer, WriteRefused, WriteRequest


@dataclass(frozen=True)
class FieldOwner:
    """Fields of a form that one writer owns: ``owner(writer)`` says who may change them (a
    flow owning a status field, a rule keeping a stock level); every other writer is refused,
    whichever path it writes through. ``label`` names the owner in the refusal
    (``status: 由审批流程维护, 不能修改``)."""

    form: str
    fields: frozenset[str]
    owner: Callable[[Writer], bool]
    label: str

    def __call__(self, conn: Connection, request: WriteRequest) -> None:
        if request.form != self.form or request.action == "delete" or self.owner(request.writer):
            return
        refused = sorted(f for f in self.fields if request.changes_field(f))
        if refused:
            message = render("owned_field", request.ctx.locale, owner=self.label)
            raise WriteRefused(
                f"{self.form}: {', '.join(refused)} {render('owned_field', 'en', owner=self.label)}",
                {f: [message] for f in refused},
            )
