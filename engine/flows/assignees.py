"""Who a human node's tasks go to: a role, a user, an expression, a list, a department-head
chain; then delegation (a user on leave hands their tasks to their delegate).

A :class:`Target` is one task's assignee: a user id, or a role (any user with it may act).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.errors import ValidationError
from engine.flows.model import Assignee, NodeSpec
from engine.flows.parts import FlowUsers, OrgChart


@dataclass(frozen=True, slots=True)
class Target:
    user_id: Optional[int] = None
    role: Optional[str] = None
    delegated_from_id: Optional[int] = None


class Assignees:
    """Resolves assignees inside one step (the users read once per step)."""

    def __init__(
        self,
        conn: Connection,
        users: FlowUsers,
        org: Optional[OrgChart],
        record: Mapping[str, Any],
        ctx: RunContext,
        starter_id: Optional[int],
        flow: str,
        now: dt.datetime,
    ) -> None:
        self.conn, self.users, self.org = conn, users, org
        self.record, self.ctx, self.starter_id, self.flow, self.now = record, ctx, starter_id, flow, now
        self._cache: dict[str, list[Target]] = {}
        self.data: Any = None  # set by the step (its ConnAccess): links in expressions

    # ---- nodes -----------------------------------------------------------------------
    def of_node(self, node: NodeSpec) -> list[Target]:
        """The targets of a node's tasks, in order (one task each), delegation applied."""
        found = self._cache.get(node.id)
        if found is None:
            found = [self.delegated(t) for t in self._resolve(node)]
            self._cache[node.id] = found
        return found

    def count(self, node: NodeSpec) -> int:
        return len(self.of_node(node))

    def _resolve(self, node: NodeSpec) -> list[Target]:
        if node.kind == "approval" and node.mode == "chain":
            return self.chain(node.chain_levels or 1)
        if node.kind == "approval" and node.mode in ("any", "all", "quorum", "sequence"):
            listed = node.approvers or ((node.assignee,) if node.assignee is not None else ())
            out: list[Target] = []
            for a in listed:
                if a.role is not None:  # every user of the role is one approver
                    out.extend(Target(user_id=u) for u in self.role_users(a.role))
                else:
                    out.extend(self.one(a))
            return list(dict.fromkeys(out))  # each approver once
        if node.kind == "start":
            return [Target(user_id=self.starter_id)]
        if node.assignee is None:  # a state node: whoever may take one of its actions (edge roles)
            return [Target()] if node.kind == "state" else []
        return self.one(node.assignee)

    def one(self, a: Assignee) -> list[Target]:
        """One assignee as one target (a role stays a role: any of its users may act)."""
        if a.role is not None:
            return [Target(role=a.role)]
        if a.user is not None:
            return [Target(user_id=self.user_id(a.user))]
        if a.expression is not None or getattr(a, "expression_text", None):
            value = self.expression(a)
            return [] if value is None else [Target(user_id=value)]
        return []

    def expression(self, a: Assignee) -> Optional[int]:
        """An expression's value as a user id: a user name, a user id, or ``starter.…`` paths."""
        value: Any
        if a.expression is not None:
            value = a.expression.evaluate(self.record, self.ctx, data=self.data)
        else:
            value = self.starter_path(str(getattr(a, "expression_text", None) or ""))
        if value is None or value == "":
            return None
        if isinstance(value, int):
            return value
        return self.user_id(str(value))

    def starter_path(self, text: str) -> Any:
        """``starter.username``, ``starter.id``, ``starter.department.head`` (org chart)."""
        path = text.strip().split(".")
        if not path or path[0] != "starter" or self.starter_id is None:
            raise ValidationError({"assignee": [f"cannot resolve {text!r}"]})
        rest = path[1:]
        if rest in ([], ["id"]):
            return self.starter_id
        if rest == ["username"]:
            return self.users.get(self.conn, self.starter_id).username
        if rest == ["department", "head"]:
            heads = self.heads(self.starter_id, 1)
            return heads[0] if heads else None
        raise ValidationError({"assignee": [f"cannot resolve {text!r}"]})

    def chain(self, levels: int) -> list[Target]:
        if self.starter_id is None:
            return []
        return [Target(user_id=u) for u in self.heads(self.starter_id, levels)]

    def heads(self, user_id: int, levels: int) -> list[int]:
        if self.org is None:
            raise ValidationError({"assignee": ["no organisation chart is installed (department heads)"]})
        return self.org.heads_above(self.conn, user_id, levels)

    # ---- users -----------------------------------------------------------------------
    def user_id(self, name: str) -> int:
        user = self.users.by_name(self.conn, name)
        if user is None:
            raise ValidationError({"assignee": [f"no user '{name}'"]})
        return user.id

    def role_users(self, role: str) -> list[int]:
        return [u.id for u in self.users.all(self.conn) if u.active and role in u.roles]

    def delegated(self, target: Target) -> Target:
        """The target, or the delegate of its user for this flow now (the task shows both)."""
        if target.user_id is None or self.org is None:
            return target
        delegate = self.org.delegate_for(self.conn, target.user_id, self.flow, self.now)
        if delegate is None or delegate == target.user_id:
            return target
        return Target(user_id=delegate, delegated_from_id=target.user_id)
