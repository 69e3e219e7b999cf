"""What a step of the flow machine asks the world to do: small frozen records, one per effect.

The machine (:mod:`engine.flows.machine`) returns them in order; the engine
(:mod:`engine.flows.engine`) performs them inside the step's transaction, the bench ignores
most of them. Each names the node it concerns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping, Optional, Union

EndStatus = Literal["completed", "rejected", "withdrawn", "cancelled"]


@dataclass(frozen=True, slots=True)
class Entered:
    """A token entered the node (history ``entered``; rules' ``flow moved to node``)."""

    node: str


@dataclass(frozen=True, slots=True)
class Left:
    """A token left the node (rules' ``leave`` hook)."""

    node: str


@dataclass(frozen=True, slots=True)
class OpenTasks:
    """A human node (approval, task, state, or ``start`` waiting for the starter to resubmit)
    waits: create its tasks (who they go to is the engine's business: assignees)."""

    node: str


@dataclass(frozen=True, slots=True)
class OpenNext:
    """An approval node needs more approvals: cancel the node's other open tasks when
    ``cancel_open`` (mode any), then open its next waiting task if none is open."""

    node: str
    cancel_open: bool = False


@dataclass(frozen=True, slots=True)
class CloseTasks:
    """The node stops waiting: cancel its open and waiting tasks (and their due timers)."""

    node: str


@dataclass(frozen=True, slots=True)
class SetFields:
    """Write these fields of the record (a ``set`` node, or the status of a state-machine flow)."""

    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RunAction:
    """Run the node's rule action."""

    node: str


@dataclass(frozen=True, slots=True)
class Notify:
    """A ``cc`` node: tell its ``notify`` assignee."""

    node: str


@dataclass(frozen=True, slots=True)
class PlaceTimer:
    """A timer node waits ``seconds`` from now, or until ``until`` (a date or datetime value)."""

    node: str
    seconds: Optional[int] = None
    until: Any = None


@dataclass(frozen=True, slots=True)
class CancelTimer:
    node: str


@dataclass(frozen=True, slots=True)
class StartChildren:
    """A subflow node: start one child instance per row of its ``each`` field (``count`` rows)."""

    node: str
    count: int


@dataclass(frozen=True, slots=True)
class CancelChildren:
    node: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A human node had nobody to ask (no approver resolved): the token passed on."""

    node: str


@dataclass(frozen=True, slots=True)
class Ended:
    status: EndStatus


Effect = Union[
    Entered,
    Left,
    OpenTasks,
    OpenNext,
    CloseTasks,
    SetFields,
    RunAction,
    Notify,
    PlaceTimer,
    CancelTimer,
    StartChildren,
    CancelChildren,
    Skipped,
    Ended,
]
