"""An ``action`` node's ``do:`` text compiled as one action of the rule DSL (docs/rules.md).

The text is compiled by the rule compiler itself, as the action of a one-line rule on the
flow's form, so that a flow can do whatever a rule can (``notify``, ``create``, ``update``,
``call``, ``decide``, ...); errors are moved back to where the text stands in the flow file.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, Optional

from engine.definitions.model import FormSpec, Labels, PackSpec, RoleSpec
from engine.errors import DefinitionError, Position
from engine.expr.scope import Scope
from engine.flows.texts import flow_error
from engine.rules.compiler import RuleCompiler
from engine.rules.spec import Action

_HEAD = "true -> "  # the action stands after this on line 2 of the synthetic rule file
_FILE = "flow-action.rules"


def compile_action(
    text: str,
    pos: Position,
    form: str,
    forms: Mapping[str, FormSpec],
    scopes: Mapping[str, Scope],
    roles: Mapping[str, RoleSpec],
    decisions: Optional[Mapping[str, Any]] = None,
) -> tuple[Optional[Action], list[DefinitionError]]:
    """The compiled action of ``text`` on records of ``form``, or the errors, placed at ``pos``."""
    pack = PackSpec(name="flow", version="", label=Labels(), root="")
    compiler = RuleCompiler(pack, forms, scopes, roles, 0, decisions or {})
    body = text.replace("\n", " ")
    rules, _ = compiler.compile_file(_FILE, f"on {form}\n{_HEAD}{body}\n")
    if compiler.errors:
        return None, [_moved(e, pos) for e in compiler.errors]
    actions = rules[0].actions if rules else ()
    if len(actions) != 1:
        return None, [flow_error("bad_action", pos, "use one action node per action", None, detail="give one action")]
    return actions[0], []


def _moved(e: DefinitionError, pos: Position) -> DefinitionError:
    p = e.position
    if p.line == 2:
        column = pos.column + max(p.column - len(_HEAD) - 1, 0)
        where = Position(pos.file, pos.line, column, pos.source_line)
    else:
        where = pos
    return replace(e, position=where)
