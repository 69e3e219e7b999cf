"""The pieces of a flow file that the loader builds for its nodes: assignees, approval modes,
due times and escalation, field lists, submit checks, ``set`` values, actions and sub-flows.

:class:`PartBuilder` holds what every piece needs (the form's scope, the roles, where errors
go); :mod:`engine.flows.loader` builds the flow, its nodes and edges on top of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Optional

from engine.definitions.common import to_labels
from engine.definitions.model import FormSpec, Labels, RoleSpec
from engine.definitions.schema_check import did_you_mean
from engine.definitions.yaml_source import PosDict, PosList
from engine.errors import DefinitionError, DefinitionErrors, Position
from engine.expr import CompiledExpr, ExprType, compile_expression
from engine.expr.scope import FieldInfo, Scope
from engine.flows.durations import parse_duration
from engine.flows.model import Assignee, Due, Escalation, SubflowSpec, SubmitCheck
from engine.flows.texts import flow_error

_DATE_TYPES = (ExprType.DATE, ExprType.DATETIME)
_STARTER = re.compile(r"(?<![\w.])starter\b")


@dataclass
class FlowContext:
    """What a flow file is checked against: the forms and scopes it can see, the roles."""

    forms: Mapping[str, FormSpec]
    scopes: Mapping[str, Scope]
    roles: Mapping[str, RoleSpec]
    locale: str = "zh-CN"
    decisions: Mapping[str, Any] = field(default_factory=dict)  # for a ``do: decide <table>`` action
    #: forms known to exist but broken (their errors are reported already): no second report
    broken_forms: frozenset[str] = frozenset()


class PartBuilder:
    """Builds the parts of one flow file's nodes; every problem goes to ``errors``."""

    def __init__(self, node: PosDict, rel: str, ctx: FlowContext, errors: list[DefinitionError]) -> None:
        self.node, self.rel, self.ctx, self.errors = node, rel, ctx, errors
        self.file = node.source.file
        self.form_name: str = node["form"]
        self.scope: Scope = ctx.scopes.get(self.form_name) or Scope(self.form_name, {})

    # ---- errors -----------------------------------------------------------------------
    def err(self, key: str, pos: Position, hint: Optional[str] = None, /, **params: Any) -> None:
        self.errors.append(flow_error(key, pos, hint, None, **params))

    def field_info(self, name: str, pos: Position, scope: Optional[Scope] = None) -> Optional[FieldInfo]:
        scope = scope or self.scope
        info = scope.fields.get(name)
        if info is None:
            self.err("unknown_field", pos, did_you_mean(name, list(scope.fields)), field=name, form=scope.form)
        return info

    def role(self, name: str, pos: Position) -> None:
        if name not in self.ctx.roles:
            self.err("unknown_role", pos, did_you_mean(name, list(self.ctx.roles)), role=name)

    def expr(
        self, text: str, where: PosDict | PosList, key: Any, expect: Optional[ExprType], scope: Optional[Scope] = None
    ) -> Optional[CompiledExpr]:
        pos = where.text_pos(key)
        try:
            return compile_expression(
                text, scope or self.scope, expect=expect, file=pos.file, line=pos.line, column=pos.column
            )
        except DefinitionErrors as many:
            self.errors.extend(many.errors)
        except DefinitionError as one:
            self.errors.append(one)
        return None

    def labels(self, value: Any, default: str) -> Labels:
        return to_labels(value, self.ctx.locale, default)

    def approval(self, item: PosDict) -> dict[str, Any]:
        mode = item.get("mode", "one")
        out: dict[str, Any] = {"mode": mode}
        need = {"quorum": "quorum", "sequence": "approvers", "chain": "chain"}.get(mode)
        if need is not None and need not in item:
            self.err("mode_needs", item.value_pos("mode"), None, mode=mode, key=need)
        for key, modes in (
            ("quorum", ("quorum",)),
            ("chain", ("chain",)),
            ("approvers", ("any", "all", "quorum", "sequence")),
        ):
            if key in item and mode not in modes:
                self.err(
                    "key_not_for_kind",
                    item.pos_of(key),
                    f"it goes with mode {' / '.join(modes)}",
                    key=key,
                    kind=f"mode {mode}",
                )
        if "quorum" in item:
            out["quorum"] = self.quorum(item["quorum"], item.value_pos("quorum"))
        if "chain" in item:
            out["chain_levels"] = int(item["chain"])
        if "approvers" in item:
            out["approvers"] = tuple(self.assignee(a, item["approvers"], i) for i, a in enumerate(item["approvers"]))
        return out

    def quorum(self, value: Any, pos: Position) -> Optional[float]:
        if isinstance(value, int):
            return float(value)
        share = float(str(value).rstrip("%")) / 100
        if not 0 < share < 1:
            self.err("bad_quorum", pos, "use mode all for everyone", value=repr(value))
            return None
        return share

    def assignee(self, value: PosDict, parent: PosDict | PosList, key: Any) -> Assignee:
        pos = parent.value_pos(key)
        if "role" in value:
            self.role(value["role"], value.value_pos("role"))
            return Assignee(role=value["role"], position=pos)
        if "user" in value:
            return Assignee(user=value["user"], position=pos)
        text = value["expr"]
        compiled = None if _STARTER.search(text) else self.expr(text, value, "expr", None)
        return Assignee(expression=compiled, expression_text=text, position=pos)

    def duration(self, text: str, pos: Position) -> Optional[int]:
        seconds = parse_duration(text)
        if seconds is None:
            self.err("bad_duration", pos, None, text=text)
        return seconds

    def date_field(self, name: str, pos: Position) -> Optional[str]:
        info = self.field_info(name, pos)
        if info is None:
            return None
        if info.type not in _DATE_TYPES:
            self.err("not_date_field", pos, None, field=name, form=self.form_name)
            return None
        return name

    def due(self, item: PosDict) -> Optional[Due]:
        value, pos = item["due"], item.value_pos("due")
        if isinstance(value, PosDict):
            return Due(date_field=self.date_field(value["field"], value.value_pos("field")), position=pos)
        return Due(after_seconds=self.duration(value, pos), position=pos)

    def escalation(self, item: PosDict) -> tuple[Escalation, ...]:
        out: list[Escalation] = []
        last = 0
        for step in item.get("escalation") or ():
            pos = step.value_pos("after")
            after = self.duration(step["after"], pos) or 0
            if after and after <= last:
                self.err("escalation_order", pos, None, after=step["after"])
            last = max(last, after)
            out.append(
                Escalation(
                    after_seconds=after,
                    remind=bool(step.get("remind", False)),
                    notify=self.assignee(step["notify"], step, "notify") if "notify" in step else None,
                    reassign=self.assignee(step["reassign"], step, "reassign") if "reassign" in step else None,
                    auto=step.get("auto"),
                    position=step.here(),
                )
            )
        return tuple(out)

    def field_names(self, fields: PosDict, key: str) -> frozenset[str]:
        names: PosList = fields[key]
        for index, name in enumerate(names):
            head, _, sub = name.partition(".")
            info = self.field_info(head, names.text_pos(index))
            if info is not None and sub:
                child = info.children
                if child is None:
                    self.err("unknown_field", names.text_pos(index), None, field=name, form=self.form_name)
                else:
                    self.field_info(sub, names.text_pos(index), child)
        return frozenset(names)

    def check(self, c: PosDict) -> SubmitCheck:
        return SubmitCheck(
            condition=self.expr(c["if"], c, "if", ExprType.BOOLEAN),
            message=self.labels(c["message"], ""),
            position=c.here(),
        )

    def sets(self, values: PosDict) -> dict[str, Any]:
        out: dict[str, Any] = {}
        spec = self.ctx.forms[self.form_name]
        for name, value in values.items():
            info = self.field_info(name, values.pos_of(name))
            if info is None:
                continue
            f = spec.field(name)
            if f is not None and f.formula:
                self.err("set_computed", values.pos_of(name), None, field=name)
                continue
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            out[name] = self.expr(text, values, name, info.type)
        return out

    def action(self, item: PosDict) -> Any:
        from engine.flows.actions import compile_action

        found, errors = compile_action(
            item["do"],
            item.text_pos("do"),
            self.form_name,
            self.ctx.forms,
            self.ctx.scopes,
            self.ctx.roles,
            self.ctx.decisions,
        )
        self.errors.extend(errors)
        return found

    def subflow(self, item: PosDict) -> SubflowSpec:
        each = item["each"]
        info = self.field_info(each, item.value_pos("each"))
        row_scope: Optional[Scope] = None
        if info is not None:
            if info.children is not None:
                row_scope = info.children
            elif info.link_form is not None:
                row_scope = self.scope.other(info.link_form)
            else:
                self.err("not_each_field", item.value_pos("each"), None, field=each, form=self.form_name)
        inputs: dict[str, Any] = {}
        given: PosDict = item.get("inputs") or PosDict(item.source, item.start)
        for child_field, text in given.items():
            inputs[child_field] = self.expr(text, given, child_field, None, row_scope) if row_scope else None
        outputs: PosDict = item.get("outputs") or PosDict(item.source, item.start)
        for parent_field in outputs:
            self.field_info(parent_field, outputs.pos_of(parent_field))
        return SubflowSpec(
            flow=item["flow"],
            each=each,
            inputs=MappingProxyType(inputs),
            outputs=MappingProxyType(dict(outputs)),
        )
