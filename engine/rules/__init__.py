"""Rules: when/if/then on top of the expression language; triggers; actions; the run log."""

from engine.rules import (  # noqa: F401  (register the action builders)
    actions,
    actions_sql,
    pack_check,  # noqa: F401  (the loader checks decision tables)
)
from engine.rules.compiler import compile_pack_rules, compile_rules
from engine.rules.engine import RuleEngine
from engine.rules.errors import RuleChainTooDeep, RuleFailed, RuleRefused
from engine.rules.log import prune_runs, rule_runs
from engine.rules.spec import Action, RuleSet, RuleSpec, TimerTrigger, Trigger

__all__ = [
    "Action",
    "RuleChainTooDeep",
    "RuleEngine",
    "RuleFailed",
    "RuleRefused",
    "RuleSet",
    "RuleSpec",
    "TimerTrigger",
    "Trigger",
    "compile_pack_rules",
    "compile_rules",
    "prune_runs",
    "rule_runs",
]
