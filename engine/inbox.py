"""The inbox: the flow engine as every entry point sees it (the API, the workspace, the CLI).

Like :class:`engine.service.Records` for records: each method opens its own transaction and
calls :class:`engine.flows.engine.FlowEngine`; the permission to read a record's flow is the
permission to read the record.
"""

from __future__ import annotations

from typing import Any, Literal, Mapping, Optional, Sequence, Union

from engine.context import RunContext
from engine.errors import Conflict, LowcodeError, NotFound, PermissionDenied, ValidationError
from engine.platform import Platform


class Inbox:
    """Tasks and flow instances for one caller at a time."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.flows = platform.flows

    def _readable(self, ctx: RunContext, form: str) -> None:
        defs = self.platform.definitions()
        if form not in defs.forms:
            raise NotFound.said("not_found", form=form, id="")
        defs.policy.require(ctx, form, "read")

    def start(self, ctx: RunContext, form: str, record_id: int, flow: str) -> dict[str, Any]:
        """Start ``flow`` on a record by hand (``start: {on: manual}``); the instance."""
        self._readable(ctx, form)
        with self.platform.db.begin() as conn:
            self.flows.start(conn, ctx, flow, form, record_id)
            found = self.flows.instance(conn, ctx, form, record_id)
        assert found is not None
        return found

    def act(
        self,
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
        """approve | reject | submit | transfer | add_approver | comment | a state action."""
        with self.platform.db.begin() as conn:
            return self.flows.act(
                conn,
                ctx,
                task_id,
                action,
                comment=comment,
                values=values,
                to_node=to_node,
                to_user=to_user,
                where=where,
                attachments=attachments,
            )

    def batch_approve(
        self, ctx: RunContext, ids: Sequence[int], comment: Optional[str] = None
    ) -> list[tuple[int, Union[dict[str, Any], LowcodeError]]]:
        """Approve each task (each id once) in its own transaction: one refused (already done,
        not the caller's, a check fails) does not hold back the others. Per id, in order: the
        task after, or the error that refused it."""
        out: list[tuple[int, Union[dict[str, Any], LowcodeError]]] = []
        for task_id in dict.fromkeys(int(i) for i in ids):
            try:
                out.append((task_id, self.act(ctx, task_id, "approve", comment=comment)))
            except (Conflict, PermissionDenied, NotFound, ValidationError) as exc:
                out.append((task_id, exc))
        return out

    def tasks(
        self,
        ctx: RunContext,
        *,
        status: str = "open",
        flow: Optional[str] = None,
        form: Optional[str] = None,
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        """My tasks: {items, total, counts: {flow: n}}."""
        with self.platform.db.connect() as conn:
            return self.flows.tasks(conn, ctx, status=status, flow=flow, form=form, limit=limit, offset=offset)

    def task(self, ctx: RunContext, task_id: int) -> dict[str, Any]:
        with self.platform.db.connect() as conn:
            return self.flows.task(conn, ctx, task_id)

    def instance(self, ctx: RunContext, form: str, record_id: int) -> Optional[dict[str, Any]]:
        """The record's latest flow instance (path, open tasks, history), or None."""
        self._readable(ctx, form)
        with self.platform.db.connect() as conn:
            return self.flows.instance(conn, ctx, form, record_id)

    def withdraw(self, ctx: RunContext, form: str, record_id: int, comment: Optional[str] = None) -> dict[str, Any]:
        self._readable(ctx, form)
        with self.platform.db.begin() as conn:
            return self.flows.withdraw(conn, ctx, form, record_id, comment)
