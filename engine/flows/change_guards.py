"""The write guards of change requests (registered by :meth:`ChangeRequests.install`).

* :class:`ControlGuard`: a person's write (API, workspace, batch, import) of a record under
  change control is refused unless it comes as a change request (``Records.update`` opens one;
  a batch or an import cannot: 403), and so is any person's write of a record whose change
  request is pending (409). Rules and flows still write it (a flow's write makes a pending request stale).
* :class:`FreezeGuard`: every write (API, workspace, batch, import, rules, flows) of a record
  of a ``freezes`` form whose link field points at a record with a pending change request is
  refused, naming the request; so is creating one linked to it. Stored aggregates recomputed
  by the platform (``Writer.system``) still pass.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol

from sqlalchemy.engine import Connection

from engine.errors import Conflict
from engine.flows.change_words import say
from engine.flows.model import FlowSpec
from engine.flows.parts import Definitions
from engine.store.writer import WriteRefused, WriteRequest

CONTROL, FREEZE = "flows.change_control", "flows.change_freezes"
#: the writer name under which a change request's values pass the write guards as its requester's
OPENING = "change request"


class ChangeRequests(Protocol):
    """What the guards ask of :class:`engine.flows.changes.ChangeRequests`."""

    def defs(self) -> Definitions: ...

    def controlling(self, defs: Definitions, form: str) -> tuple[FlowSpec, ...]: ...

    def frozen_links(self, defs: Definitions, form: str) -> tuple[tuple[str, str], ...]: ...

    def control(self, conn: Connection, form: str, record_id: int) -> Optional[tuple[FlowSpec, dict[str, Any]]]: ...

    def pending(self, conn: Connection, form: str, record_ids: Any) -> Optional[dict[str, Any]]: ...


class ControlGuard:
    def __init__(self, changes: ChangeRequests) -> None:
        self.changes = changes

    def __call__(self, conn: Connection, request: WriteRequest) -> None:
        w = request.writer
        if w.kind not in ("user", "import") or w.name == OPENING or request.record_id is None:
            return
        form, record_id = request.form, request.record_id
        if not self.changes.controlling(self.changes.defs(), form):
            return
        if request.action == "update" and not any(request.changes_field(k) for k in request.changes):
            return
        locale = request.ctx.locale
        pending = self.changes.pending(conn, form, [record_id])
        if pending is not None:
            params = {"form": form, "id": record_id, "change": pending["id"]}
            raise Conflict.said("change_pending", {"_": [say("change_pending", locale, **params)]}, **params)
        if request.action == "delete":
            return
        found = self.changes.control(conn, form, record_id)
        if found is not None:
            params = {"form": form, "id": record_id, "flow": found[0].name}
            raise WriteRefused.said("change_controlled", {"_": [say("change_controlled", locale, **params)]}, **params)


class FreezeGuard:
    def __init__(self, changes: ChangeRequests) -> None:
        self.changes = changes

    def __call__(self, conn: Connection, request: WriteRequest) -> None:
        if request.writer.kind == "system":
            return
        links = self.changes.frozen_links(self.changes.defs(), request.form)
        for link, target in links:
            ids = set()
            if request.old is not None:
                ids.add(request.old.get(link))
            if request.action != "delete" and link in request.changes:
                ids.add(request.changes.get(link))
            wanted = [i for i in ids if isinstance(i, int)]
            found = self.changes.pending(conn, target, wanted) if wanted else None
            if found is None:
                continue
            params = {
                "form": request.form,
                "id": request.record_id if request.record_id is not None else "",
                "change": found["id"],
                "target": target,
                "target_id": found["record_id"],
            }
            message = say("change_frozen", request.ctx.locale, **params)
            raise WriteRefused.said("change_frozen", {"_": [message]}, **params)
