"""Errors of rule runs: a refused guarded update, a chain too deep, a failing action."""

from __future__ import annotations

from typing import Optional

from engine.errors import Conflict, LowcodeError, Position


class RuleRefused(Conflict):
    """A guarded ``update ... require ... else "message"`` refused the change (HTTP 409)."""

    def __init__(self, message: str, rule: str = "", position: Optional[Position] = None) -> None:
        super().__init__(message, {"rule": [message]})
        self.rule, self.position = rule, position


class RuleChainTooDeep(LowcodeError):
    """Rules triggering rules went deeper than the limit; the change is rolled back."""

    def __init__(self, chain: list[str], limit: int) -> None:
        self.chain, self.limit = chain, limit
        super().__init__(f"rules triggered each other more than {limit} levels deep: " + " → ".join(chain))


class RuleFailed(LowcodeError):
    """An action of a rule failed; names the rule, the action and its place in the rule file."""

    def __init__(self, rule: str, action: str, position: Position, cause: BaseException) -> None:
        self.rule, self.action, self.position, self.cause = rule, action, position, cause
        super().__init__(f"rule '{rule}' failed in its '{action}' action at {position}: {describe(cause)}")


def describe(exc: BaseException) -> str:
    """An error as one line, with a ValidationError's messages by field."""
    fields = getattr(exc, "fields", None)
    if fields:
        return f"{exc}: " + "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in fields.items())
    return str(exc)
