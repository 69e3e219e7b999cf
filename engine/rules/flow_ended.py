"""The ``when flow X ended [completed|rejected|withdrawn|cancelled]`` trigger's part of the
rule compiler and engine: the outcome as a name the rule may use.

A rule on that trigger sees ``flow_outcome`` (alias ``流程结果``): the ended instance's status,
one of :data:`OUTCOMES`, in its condition, its values and its message placeholders. It is no
field of the record: nothing writes it, and a comparison with a literal that is no outcome is
an error at load (the options of a choice).
"""

from __future__ import annotations

from engine.expr.scope import FieldInfo, Scope
from engine.expr.types import ExprType

#: the name a rule reads the outcome by
FIELD = "flow_outcome"
#: how an instance ends (lc_flow_instance.status once it is no longer running)
OUTCOMES = ("completed", "rejected", "withdrawn", "cancelled")
#: the direction of the flow trigger's index key: (flow, "ended", "")
ENDED = "ended"


def with_outcome(scope: Scope) -> Scope:
    """``scope`` plus ``flow_outcome`` (a text with the outcomes as its options)."""
    info = FieldInfo(
        FIELD, ExprType.STRING, labels=("流程结果",), column=None, options=tuple((o, ()) for o in OUTCOMES)
    )
    return Scope(scope.form, {**scope.fields, FIELD: info}, f"{scope.version}:{FIELD}", scope.forms)
