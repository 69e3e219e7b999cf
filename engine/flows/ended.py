"""An instance ended: the rules' ``when flow X ended [outcome]`` run on its record.

Called from :meth:`engine.flows.steps.Run.saved` (one hook line), after the step's state and
history are written, in the step's transaction: a rule that sets a field of the record writes
it through the store's one pipeline with the step. The outcome (completed | rejected |
withdrawn | cancelled) is the instance's end status; the rule reads it as ``flow_outcome``.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol

from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.flows.machine import Step
from engine.flows.model import FlowSpec
from engine.rules.engine import RuleEngine
from engine.store.records import RecordStore


class EndedHost(Protocol):
    @property
    def rules(self) -> Any: ...


class EndedRun(Protocol):
    """What of a step (:class:`engine.flows.steps.Run`) the hook reads."""

    conn: Connection
    ctx: RunContext
    spec: FlowSpec
    record: dict[str, Any]
    depth: int
    store: RecordStore
    inst: dict[str, Any]

    @property
    def eng(self) -> EndedHost: ...


def flow_ended(run: EndedRun, step: Step) -> None:
    """Run the ended-rules when ``step`` ended the instance (the rule engine's, when installed)."""
    rules: Optional[object] = run.eng.rules
    if step.status is None or not isinstance(rules, RuleEngine):
        return
    outcomes = rules.on_flow_ended(run.conn, run.ctx, run.spec.name, step.status, run.record, run.spec.form, run.depth)
    if outcomes:  # a rule may have written the record
        fresh = run.store.get(run.conn, run.spec.form, run.inst["record_id"])
        if fresh is not None:
            run.record = fresh
