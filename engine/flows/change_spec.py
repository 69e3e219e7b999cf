"""``changes:`` of a flow file -> :class:`~engine.flows.model.ChangeControl` (change requests).

.. code-block:: yaml

    changes: {approver: {role: manager}, after: scheduled}   # after: a node id or a state value
    freezes: [{form: job, link: order}]                      # records of `job` whose `order` links here

``after`` names the node from which on (once an instance has entered it) edits of the record
become change requests; without it, once the instance completed. ``freezes`` takes effect
with ``changes`` (its records are frozen while one of the flow's change requests is pending).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Protocol

from engine.definitions.schema_check import did_you_mean
from engine.definitions.yaml_source import PosDict
from engine.errors import Position
from engine.flows.model import Assignee, ChangeControl, NodeSpec
from engine.flows.texts import TEXTS

TEXTS.update(
    {
        "changes_after": {
            "en": "'{after}' is neither a node id nor a state of this flow",
            "zh-CN": "'{after}' 既不是本流程的节点 id，也不是它的状态",
        },
    }
)


class Builder(Protocol):
    """What of the flow loader's builder (``engine.flows.loader._Build``) this uses."""

    node: PosDict

    def err(self, key: str, pos: Position, hint: Optional[str] = None, /, **params: Any) -> None: ...

    def assignee(self, value: PosDict, parent: Any, key: Any) -> Assignee: ...


def build_changes(b: Builder, nodes: Mapping[str, NodeSpec]) -> Optional[ChangeControl]:
    """The flow's change control (None without ``changes``); errors go to the builder."""
    value = b.node.get("changes")
    if value is None:
        return None
    approver = b.assignee(value["approver"], value, "approver")
    after = value.get("after")
    if after is not None and after not in nodes:
        by_state = [n.id for n in nodes.values() if n.state == after]
        if by_state:
            after = by_state[0]
        else:
            states = [n.state for n in nodes.values() if n.state]
            hint = did_you_mean(str(after), list(nodes) + states)
            b.err("changes_after", value.value_pos("after"), hint, after=after)
            after = None
    return ChangeControl(approver=approver, after=after, position=b.node.value_pos("changes"))
