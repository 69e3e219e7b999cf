"""``flows/<name>.yaml`` -> :class:`~engine.flows.model.FlowSpec`, every key checked in place.

The file is parsed with positions (:mod:`engine.definitions.yaml_source`) and checked against
``schemas/flow.json`` first (unknown keys with did-you-mean, types, enums); :func:`build_flow`
then resolves what the schema cannot see: the form and its fields, roles, durations, which keys
apply to which node kind, node ids, and it compiles every expression against the form's scope
(conditions boolean, ``set`` values by the field's type, assignee expressions). Users are data,
not definitions: ``{user: wang}`` is not checked here (the runtime resolves it when a task opens).
The parts of a node (assignees, due times, ...) are built by :mod:`engine.flows.load_parts`; the
graph itself (reachability, joins, cycles) is checked by :mod:`engine.flows.graph_checks`.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any, Mapping, Optional, Sequence

from engine.definitions.model import FormSpec, PackSpec, RoleSpec
from engine.definitions.schema_check import check as schema_check
from engine.definitions.schema_check import did_you_mean
from engine.definitions.yaml_source import PosDict, PosList, Source, bool_key_as_text, parse_yaml
from engine.errors import DefinitionError, DefinitionErrors, Position
from engine.expr import ExprType
from engine.expr.scope import Scope
from engine.flows.load_parts import FlowContext, PartBuilder
from engine.flows.model import EdgeSpec, FlowSpec, NodeSpec
from engine.flows.texts import flow_error

__all__ = ["FlowContext", "build_flow", "compile_flows", "load_flow_text", "parse_flow_file", "stem_of"]

#: the keys each node kind takes besides id, kind, label, at and state
KIND_KEYS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "start": frozenset(),
        "end": frozenset(),
        "approval": frozenset(
            {"assignee", "mode", "quorum", "approvers", "chain", "due", "escalation", "fields", "checks"}
        ),
        "task": frozenset({"assignee", "due", "escalation", "fields", "checks"}),
        "state": frozenset({"assignee", "due", "escalation", "fields", "checks"}),
        "cc": frozenset({"notify"}),
        "exclusive": frozenset(),
        "inclusive": frozenset(),
        "parallel": frozenset(),
        "timer": frozenset({"wait"}),
        "set": frozenset({"set"}),
        "action": frozenset({"do"}),
        "subflow": frozenset({"flow", "each", "inputs", "outputs"}),
    }
)
COMMON_KEYS = frozenset({"id", "kind", "label", "at", "state"})
#: what a node of a kind cannot do without
NEEDED: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"timer": ("wait",), "set": ("set",), "action": ("do",), "subflow": ("flow", "each"), "cc": ("notify",)}
)


def parse_flow_file(text: str, display: str) -> tuple[Optional[PosDict], list[DefinitionError]]:
    """Parse and schema-check one flow file: the data (None if unusable) and its problems."""
    source = Source(display, text)
    data, problems = parse_yaml(text, display)
    if data is None and not problems:
        problems = [source.error("the file is empty")]
    if isinstance(data, PosDict):
        bool_key_as_text(data.get("start"), True, "on")
    if data is not None:
        problems = problems + schema_check(data, "flow", source)
    return (data if isinstance(data, PosDict) else None), problems


def stem_of(rel: str) -> str:
    """``flows/order_approval.yaml`` -> ``order_approval``."""
    return rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def load_flow_text(text: str, rel: str, display: str, ctx: FlowContext) -> FlowSpec:
    """One flow file checked and built, or DefinitionErrors with every problem in it."""
    node, problems = parse_flow_file(text, display)
    if problems or node is None:
        raise DefinitionErrors(problems)
    errors: list[DefinitionError] = []
    flow = build_flow(node, rel, ctx, errors)
    if errors or flow is None:
        raise DefinitionErrors(errors)
    return flow


def build_flow(node: PosDict, rel: str, ctx: FlowContext, errors: list[DefinitionError]) -> Optional[FlowSpec]:
    """The FlowSpec of a schema-clean file; what is wrong goes to ``errors`` (None: no form)."""
    return _Build(node, rel, ctx, errors).flow()


class _Build(PartBuilder):
    # ---- the flow -----------------------------------------------------------------------
    def flow(self) -> Optional[FlowSpec]:
        n = self.node
        name, stem = n["name"], stem_of(self.rel)
        if name != stem:
            self.err("name_not_stem", n.value_pos("name"), None, name=name, stem=stem)
        if self.form_name not in self.ctx.forms:
            if self.form_name not in self.ctx.broken_forms:
                self.err(
                    "unknown_form",
                    n.value_pos("form"),
                    did_you_mean(self.form_name, list(self.ctx.forms)),
                    form=self.form_name,
                )
            return None
        start = n.get("start") or PosDict(n.source, n.start)
        start_if = self.expr(start["if"], start, "if", ExprType.BOOLEAN) if "if" in start else None
        status_field = self.status_field()
        nodes = self.nodes(status_field)
        edges = self.edges(nodes)
        return FlowSpec(
            name=name,
            label=self.labels(n.get("label"), name),
            form=self.form_name,
            file=self.rel,
            position=n.here(),
            nodes=MappingProxyType(nodes),
            edges=tuple(edges),
            start_on=start.get("on", "manual"),
            start_if=start_if,
            withdraw=n.get("withdraw", "before_first_approval"),
            status_field=status_field,
            freezes=self.freezes(),
        )

    def status_field(self) -> Optional[str]:
        name = self.node.get("status_field")
        if name is None:
            return None
        pos = self.node.value_pos("status_field")
        info = self.field_info(name, pos)
        if info is None:
            return None
        spec = self.ctx.forms[self.form_name].field(name)
        if spec is None or spec.type != "select":
            self.err("status_not_select", pos, None, field=name, form=self.form_name)
            return None
        return name

    def freezes(self) -> tuple[tuple[str, str], ...]:
        out: list[tuple[str, str]] = []
        for item in self.node.get("freezes") or ():
            other = self.ctx.scopes.get(item["form"])
            if other is None:
                if item["form"] not in self.ctx.broken_forms:
                    self.err(
                        "unknown_form",
                        item.value_pos("form"),
                        did_you_mean(item["form"], list(self.ctx.forms)),
                        form=item["form"],
                    )
                continue
            info = self.field_info(item["link"], item.value_pos("link"), other)
            if info is None:
                continue
            if info.link_form != self.form_name:
                self.err(
                    "freeze_link",
                    item.value_pos("link"),
                    None,
                    link=item["link"],
                    form=other.form,
                    target=self.form_name,
                )
                continue
            out.append((item["form"], item["link"]))
        return tuple(out)

    # ---- nodes --------------------------------------------------------------------------
    def nodes(self, status_field: Optional[str]) -> dict[str, NodeSpec]:
        out: dict[str, NodeSpec] = {}
        lines: dict[str, int] = {}
        starts: list[str] = []
        items: PosList = self.node["nodes"]
        for index, item in enumerate(items):
            nid, kind = item["id"], item["kind"]
            if nid in out:
                self.err("duplicate_node", item.value_pos("id"), None, id=nid, line=lines[nid])
                continue
            lines[nid] = item.value_pos("id").line
            if kind == "start":
                if starts:
                    self.err("two_starts", item.value_pos("kind"), None, first=starts[0], id=nid)
                starts.append(nid)
            out[nid] = self.build_node(item, items.pos_of(index), status_field)
        if not starts:
            self.err("no_start", items.here())
        if not any(n.kind == "end" for n in out.values()):
            self.err("no_end", items.here())
        return out

    def build_node(self, item: PosDict, pos: Position, status_field: Optional[str]) -> NodeSpec:
        nid, kind = item["id"], item["kind"]
        allowed = KIND_KEYS[kind] | COMMON_KEYS
        for key in item:
            if key not in allowed:
                self.err("key_not_for_kind", item.pos_of(key), None, key=key, kind=kind)
        for key in NEEDED.get(kind, ()):
            if key not in item:
                self.err("key_needed", item.value_pos("kind"), None, kind=kind, key=key)
        at = item.get("at")
        fields: PosDict = item.get("fields") or PosDict(item.source, item.start)
        values: dict[str, Any] = {
            "id": nid,
            "kind": kind,
            "label": self.labels(item.get("label"), nid),
            "position": pos,
            "at": (float(at[0]), float(at[1])) if at else None,
            "state": self.state(item, status_field),
            "assignee": self.assignee(item["assignee"], item, "assignee") if "assignee" in item else None,
            "due": self.due(item) if "due" in item else None,
            "escalation": self.escalation(item),
            "visible": self.field_names(fields, "visible") if "visible" in fields else None,
            "editable": self.field_names(fields, "editable") if "editable" in fields else frozenset(),
            "checks": tuple(self.check(c) for c in item.get("checks") or ()),
            "notify": self.assignee(item["notify"], item, "notify") if "notify" in item else None,
        }
        if kind == "approval":
            values.update(self.approval(item))
        if "set" in item:
            values["set"] = MappingProxyType(self.sets(item["set"]))
        if "do" in item:
            values["action_text"] = item["do"]
            values["action"] = self.action(item)
        if "wait" in item:
            wait = item["wait"]
            if isinstance(wait, PosDict):
                values["wait_until"] = self.date_field(wait["until"], wait.value_pos("until"))
            else:
                values["wait_seconds"] = self.duration(wait, item.value_pos("wait"))
        if kind == "subflow" and "flow" in item and "each" in item:
            values["subflow"] = self.subflow(item)
        return NodeSpec(**values)

    def state(self, item: PosDict, status_field: Optional[str]) -> Optional[str]:
        value = item.get("state")
        if value is None:
            return None
        pos = item.text_pos("state")
        if status_field is None:
            if "status_field" not in self.node:
                self.err("no_status_field", item.pos_of("state"))
            return None
        spec = self.ctx.forms[self.form_name].field(status_field)
        options = [o.value for o in spec.options] if spec is not None else []
        if value not in options:
            by_label = [o.value for o in (spec.options if spec else ()) if value in o.label.all()]
            hint = (
                f"did you mean '{by_label[0]}' (the value of that label)?" if by_label else did_you_mean(value, options)
            )
            self.err("state_not_option", pos, hint, state=value, form=self.form_name, field=status_field)
        return str(value)

    # ---- edges --------------------------------------------------------------------------
    def edges(self, nodes: Mapping[str, NodeSpec]) -> list[EdgeSpec]:
        out: list[EdgeSpec] = []
        items: PosList = self.node["edges"]
        for index, e in enumerate(items):
            ok = True
            for end in ("from", "to"):
                if e[end] not in nodes:
                    ok = False
                    self.err("unknown_node", e.value_pos(end), did_you_mean(e[end], list(nodes)), id=e[end])
            for role in e.get("roles") or ():
                self.role(role, e.value_pos("roles"))
            source = nodes.get(e["from"])
            for key in ("action", "roles"):
                if key in e and source is not None and source.kind != "state" and source.state is None:
                    self.err("action_not_state", e.pos_of(key), None, key=key)
            text = e.get("if")
            condition = self.expr(text, e, "if", ExprType.BOOLEAN) if text is not None else None
            if not ok:
                continue
            out.append(
                EdgeSpec(
                    source=e["from"],
                    target=e["to"],
                    position=items.pos_of(index),
                    condition=condition,
                    condition_text=text,
                    default=bool(e.get("default", False)),
                    label=self.labels(e["label"], "") if "label" in e else None,
                    action=e.get("action"),
                    roles=frozenset(e.get("roles") or ()),
                )
            )
        return out


def compile_flows(
    packs: Sequence[PackSpec],
    forms: Mapping[str, FormSpec],
    scopes: Mapping[str, Scope],
    roles: Mapping[str, RoleSpec],
    decisions: Mapping[str, Any],
) -> dict[str, FlowSpec]:
    """Every pack's flows by name, built and graph-checked; all errors at once."""
    from engine.flows.graph_checks import check_graphs

    flows: dict[str, FlowSpec] = {}
    errors: list[DefinitionError] = []
    for pack in packs:
        ctx = FlowContext(forms, scopes, roles, pack.locale, decisions)
        for rel in sorted(r for r in pack.files if re.fullmatch(r"flows/[^/]+\.(?:ya?ml|json)", r)):
            display = f"{pack.root}/{rel}" if pack.root else rel
            try:
                flow = load_flow_text(pack.files[rel], rel, display, ctx)
            except DefinitionErrors as exc:
                errors.extend(exc.errors)
                continue
            if flow.name in flows:
                errors.append(flow_error("duplicate_flow", flow.position, None, None, name=flow.name))
                continue
            flows[flow.name] = flow
    errors.extend(check_graphs(flows.values(), forms, roles))
    if errors:
        raise DefinitionErrors(errors)
    return flows
