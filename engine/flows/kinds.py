"""Task kinds that another part of :mod:`engine.flows` owns (a change request's approval,
:mod:`engine.flows.changes`): the engine hands acting on and reading such a task to it, and
asks its pause checks before anyone acts on a flow task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Protocol

from sqlalchemy.engine import Connection

from engine.context import RunContext

if TYPE_CHECKING:
    from engine.flows.steps import Run


class TaskKind(Protocol):
    def act(
        self, conn: Connection, ctx: RunContext, task: Mapping[str, Any], action: str, *, comment: Optional[str]
    ) -> dict[str, Any]: ...

    def view(self, conn: Connection, ctx: RunContext, task: Mapping[str, Any]) -> dict[str, Any]: ...


#: may refuse acting on a task of a step (raise): a paused task of a frozen record
PauseCheck = Callable[["Run", Mapping[str, Any]], None]
