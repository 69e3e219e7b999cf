"""Change requests as every entry point sees them (the API, the workspace): reading a record's
change requests, deciding one, and the diff between two versions of a record.

Like :class:`engine.service.Records`, each method opens its own transaction; the permission to
read a record's change requests (and versions) is the permission to read the record, and the
fields hidden from the caller are left out of every diff. Deciding goes through the flow
engine's task machinery (``FlowEngine.act`` on the request's ``change`` task): the approver's
inbox, 409 on a second decision, the instance's history. See :mod:`engine.flows.changes`.
"""

from __future__ import annotations

from typing import Any, Optional

from engine.context import RunContext
from engine.errors import NotFound
from engine.platform import Platform
from engine.runtime import Definitions
from engine.service import Records
from engine.store.journal import changes_of


class Changes:
    """Change requests and record versions for one caller at a time."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.requests = platform.changes

    def _readable(self, ctx: RunContext, form: str, record_id: int) -> Definitions:
        Records(self.platform).get(ctx, form, record_id)  # 404 unless the caller may read it
        return self.platform.definitions()

    def _redact(self, defs: Definitions, ctx: RunContext, change: dict[str, Any]) -> dict[str, Any]:
        hidden = defs.policy.hidden(ctx, change["form"])
        diff = {k: v for k, v in (change.get("diff") or {}).items() if k not in hidden}
        return {**change, "diff": diff, "fields": sorted(diff)}

    def of_record(self, ctx: RunContext, form: str, record_id: int) -> dict[str, Any]:
        """``{items: [change requests, newest first], pending: id | None}``."""
        defs = self._readable(ctx, form, record_id)
        with self.platform.db.connect() as conn:
            items = [self._redact(defs, ctx, c) for c in self.requests.of_record(conn, form, record_id)]
        pending = next((c["id"] for c in items if c["status"] == "pending"), None)
        return {"items": items, "pending": pending}

    def get(self, ctx: RunContext, change_id: int) -> dict[str, Any]:
        with self.platform.db.connect() as conn:
            change = self.requests.get(conn, change_id)
        defs = self._readable(ctx, change["form"], change["record_id"])
        return self._redact(defs, ctx, change)

    def decide(self, ctx: RunContext, change_id: int, action: str, comment: Optional[str] = None) -> dict[str, Any]:
        """approve | reject | comment a change request (its task, as the inbox does); the request after."""
        with self.platform.db.begin() as conn:
            change = self.requests.get(conn, change_id)
            if change["task_id"] is None:
                raise NotFound.said("change_not_found", change=change_id)
            self.platform.flows.act(conn, ctx, int(change["task_id"]), action, comment=comment)
            after = self.requests.get(conn, change_id)
        return self._redact(self.platform.definitions(), ctx, after)

    def diff(self, ctx: RunContext, form: str, record_id: int, a: int, b: int) -> dict[str, Any]:
        """What changed from version ``a`` to version ``b`` of a record: ``{field: [old, new]}``
        (sub-table rows as whole lists), with the fields hidden from the caller left out."""
        hist = Records(self.platform).history(ctx, form, record_id)
        by = {v["version"]: v for v in hist["versions"]}
        missing = [n for n in (a, b) if n not in by]
        if missing:
            raise NotFound(f"{form} {record_id} has no version {missing[0]} (it has {', '.join(map(str, sorted(by)))})")
        spec = self.platform.definitions().forms[form]
        old = None if by[a]["deleted"] else by[a]["data"]
        new = None if by[b]["deleted"] else by[b]["data"]
        return {
            "form": form,
            "id": record_id,
            "from": a,
            "to": b,
            "changes": changes_of(spec, old, new),
            "at": {str(a): _iso(by[a]["at"]), str(b): _iso(by[b]["at"])},
        }


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


__all__ = ["Changes"]
