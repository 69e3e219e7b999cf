"""Rule files -> RuleSpecs, compiled once per definitions version; every error at once.

Conditions and values are compiled by the expression language (``engine.expr``) against
the form's scope, from their exact text and position in the ``.rules`` file. Inside
``for line in lines`` the loop variable's fields are reachable as ``line.<field>``; in
``update``/``delete ... where`` the target form's fields are plain names and the triggering
record's are ``this.<field>`` (bound as SQL parameters).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
from typing import Any, Callable, Mapping, Optional, Sequence

from engine.definitions.model import FormSpec, PackSpec, RoleSpec
from engine.errors import DefinitionError, DefinitionErrors, Position
from engine.expr import nodes as n
from engine.expr.check import Checker, _Env
from engine.expr.compiled import CompiledExpr, compile_expression
from engine.expr.errors import ExprError, Origin
from engine.expr.parser import parse
from engine.expr.scope import FieldInfo, Scope
from engine.expr.types import ExprType
from engine.rules import syntax as sx
from engine.rules.flow_ended import ENDED, with_outcome
from engine.rules.spec import (
    CREATED,
    DEFAULT_DEPTH,
    DEFAULT_RETENTION,
    DELETED,
    PERIODS,
    UPDATED,
    Action,
    RuleSet,
    RuleSpec,
    TimerTrigger,
    Trigger,
    build_index,
)

#: a ``{field}`` placeholder of a message template (engine.rules.templates)
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

#: turns one action of a rule into an Action (None: an error was reported)
Builder = Callable[["RuleCompiler", sx.ActionNode, str, Optional["Loop"]], Optional[Action]]
#: the action builders by kind (``set``, ``notify``, ``update``, ...): :mod:`engine.rules.actions`
#: and :mod:`engine.rules.actions_sql` register theirs when ``engine.rules`` is imported
BUILDERS: dict[str, Builder] = {}


def builder(kind: str) -> Callable[[Builder], Builder]:
    """Decorator: register the builder of the actions of ``kind``."""

    def add(fn: Builder) -> Builder:
        BUILDERS[kind] = fn
        return fn

    return add


def build_action(cc: "RuleCompiler", node: sx.ActionNode, form: str, loop: Optional["Loop"]) -> Optional[Action]:
    """The Action of ``node``, by the builder registered for its kind."""
    return BUILDERS[node.kind](cc, node, form, loop)


def did_you_mean(name: str, candidates: Sequence[str]) -> Optional[str]:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


@dataclasses.dataclass(frozen=True)
class Loop:
    """A ``for <var> in <table>`` around actions: the child rows' scope."""

    var: str
    table: str
    scope: Scope


@dataclasses.dataclass(frozen=True)
class SqlExpr:
    """An expression checked for SQL on ``form`` with the triggering record as ``this``."""

    source: str
    tree: n.Node
    form: str
    position: Position


class RuleCompiler:
    """Compiles the rule files of one pack against the forms/scopes/roles it can see."""

    def __init__(
        self,
        pack: PackSpec,
        forms: Mapping[str, FormSpec],
        scopes: Mapping[str, Scope],
        roles: Mapping[str, RoleSpec],
        revision: int = 0,
        decisions: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self.pack, self.forms, self.scopes, self.roles = pack, forms, scopes, roles
        self.decisions: Mapping[str, Any] = decisions or {}  # name -> DecisionTable (``decide``)
        self.revision = revision
        self.errors: list[DefinitionError] = []
        self.lines: list[str] = []
        self._file = ""
        self._ended: Optional[str] = None  # the form of the ``when flow X ended`` rule compiling

    def _located(self, exc: DefinitionError) -> DefinitionError:
        """Show the whole line of the rule file under an expression's error."""
        p = exc.position
        if 0 < p.line <= len(self.lines) and p.file.endswith(self._file):
            exc.position = Position(p.file, p.line, p.column, self.lines[p.line - 1])
        return exc

    # ---- helpers used by action builders -----------------------------------------
    def error(self, message: str, position: Position, hint: Optional[str] = None) -> DefinitionError:
        err = DefinitionError(message, position, hint)
        self.errors.append(err)
        return err

    def form(self, name: sx.Name) -> Optional[FormSpec]:
        spec = self.forms.get(name.text)
        if spec is None:
            for f in self.forms.values():  # a form's label works as its name
                if name.text in f.label.all():
                    return f
            self.error(f"unknown form '{name.text}'", name.position, did_you_mean(name.text, list(self.forms)))
        return spec

    def field(self, scope: Scope, name: sx.Name) -> Optional[FieldInfo]:
        info = scope.resolve(name.text)
        if info is None:
            candidates = scope.spellings()
            self.error(
                f"unknown field '{name.text}' in {scope.form}", name.position, did_you_mean(name.text, candidates)
            )
        return info

    def role(self, name: str, position: Position) -> None:
        if name not in self.roles:
            self.error(f"unknown role '{name}'", position, did_you_mean(name, list(self.roles)))

    def channel(self, name: sx.Name) -> bool:
        """Whether ``name`` is an installed channel (``lowcode.channels``); an error if not."""
        from engine.rules.channels import GROUP, installed

        known = sorted(installed())
        if name.text in known:
            return True
        self.error(
            f"unknown channel '{name.text}'",
            name.position,
            did_you_mean(name.text, known)
            or (
                f"installed channels: {', '.join(known)}"
                if known
                else f"a channel plugin registers under {GROUP} in setup.cfg"
            ),
        )
        return False

    def scope(self, form: str) -> Scope:
        scope = self.scopes[form]
        return with_outcome(scope) if form == self._ended else scope  # when flow X ended: flow_outcome

    def expr(
        self, e: sx.Expr, form: str, loop: Optional[Loop] = None, expect: Optional[ExprType] = None
    ) -> Optional[CompiledExpr]:
        """A value or condition evaluated in Python on the triggering record (and loop row)."""
        scope = self.scope(form)
        p = e.position
        try:
            if loop is None:
                return compile_expression(e.text, scope, expect=expect, file=p.file, line=p.line, column=p.column)
            origin = Origin(e.text, p.file, p.line, p.column)
            ext = loop_scope(scope, loop)
            tree = _rewrite_loop(parse(e.text, file=p.file, line=p.line, column=p.column), loop, origin)
            checker = Checker(ext, origin)
            checked = checker.check(tree, expect)
            return CompiledExpr(e.text, checked, frozenset(checker.names), ext.form)
        except ExprError as exc:
            self.errors.append(self._located(exc))
            return None

    def sql_expr(
        self, e: sx.Expr, target: str, form: str, loop: Optional[Loop], expect: Optional[ExprType] = None
    ) -> Optional[SqlExpr]:
        """An expression on ``target``'s rows; ``this.x`` / ``line.x`` are the triggering values."""
        p = e.position
        origin = Origin(e.text, p.file, p.line, p.column)
        outer = self.scope(form) if loop is None else loop_scope(self.scope(form), loop)
        try:
            tree = parse(e.text, file=p.file, line=p.line, column=p.column)
            if loop is not None:
                tree = _rewrite_loop(tree, loop, origin)
            checker = Checker(self.scope(target), origin)
            checked = checker.visit(tree, _Env(self.scope(target), outer=outer))
            if expect is ExprType.BOOLEAN and checked.t not in (ExprType.BOOLEAN, ExprType.ANY, ExprType.NULL):
                raise origin.error(f"expected a condition (boolean), got {checked.t.value}", 1, 1)
            return SqlExpr(e.text, checked, target, p)
        except ExprError as exc:
            self.errors.append(self._located(exc))
            return None

    def template(self, text: Optional[str], form: str, position: Position, loop: Optional[Loop] = None) -> None:
        """Check the ``{field}`` placeholders of a message against the form."""
        if not text:
            return
        scope = self.scope(form)
        for m in PLACEHOLDER.finditer(text):
            name = m.group(1).strip()
            parts = name.split(".")
            if loop is not None and parts[0] == loop.var and len(parts) == 2:
                scope_, name_ = loop.scope, parts[1]
            elif len(parts) == 1:
                scope_, name_ = scope, parts[0]
            else:
                self.error(f"placeholder {{{name}}}: use a field of the record", position)
                continue
            if scope_.resolve(name_) is None:
                candidates = scope_.spellings()
                self.error(
                    f"placeholder {{{name}}}: unknown field '{name_}' in {scope_.form}",
                    position,
                    did_you_mean(name_, candidates),
                )

    # ---- the rule file ---------------------------------------------------------------
    def compile_file(self, path: str, text: str) -> tuple[list[RuleSpec], dict[str, Any]]:
        file = f"{self.pack.name}/{path}"
        self.lines, self._file = text.splitlines(), file
        items, errors = sx.parse_rules(text, file)
        self.errors.extend(errors)
        rules: list[RuleSpec] = []
        settings: dict[str, Any] = {}
        current: Optional[str] = None
        for item in items:
            if isinstance(item, sx.OnForm):
                spec = self.form(item.form)
                current = spec.name if spec is not None else ""
            elif isinstance(item, sx.Setting):
                settings.update(self.setting(item))
            elif isinstance(item, sx.RuleNode):
                if current is None:
                    self.error("a rule needs a form first: start the file with 'on <form>'", item.position)
                    current = ""
                if not current:
                    continue
                rule = self.rule(item, current, build_action)
                if rule is not None:
                    rules.append(rule)
        return rules, settings

    def setting(self, item: sx.Setting) -> dict[str, Any]:
        if item.name == "depth":
            value = int(item.value)
            if not 1 <= value <= 100:
                self.error("limit depth must be between 1 and 100", item.position)
            return {"max_depth": value}
        return {"retention": _duration(item.value)}

    def rule(self, node: sx.RuleNode, form: str, build_action: Any) -> Optional[RuleSpec]:
        before = len(self.errors)
        self._ended = form if node.trigger is not None and node.trigger.kind == "flow_ended" else None
        trigger = self.trigger(node.trigger, form)
        condition = None
        if node.condition is not None:
            condition = self.expr(node.condition, form, expect=ExprType.BOOLEAN)
        actions = tuple(a for a in (build_action(self, a, form, None) for a in node.actions) if a is not None)
        self._ended = None
        if len(self.errors) > before or trigger is None:
            return None
        return RuleSpec(
            self.pack.name,
            form,
            node.name,
            trigger,
            condition,
            actions,
            node.position,
            self.pack.version,
            self.revision,
            node.short,
        )

    def trigger(self, t: Optional[sx.TriggerNode], form: str) -> Optional[Trigger]:
        if t is None or t.kind == "saved":
            return Trigger("saved", frozenset({CREATED, UPDATED}))
        if t.kind in (CREATED, UPDATED, DELETED):
            return Trigger(t.kind, frozenset({t.kind}))
        if t.kind == "changed":
            info = self.field(self.scope(form), t.path[0])
            if info is None:
                return None
            if len(t.path) > 1:
                self.error("a change trigger names a field of the record: '<field> changed'", t.path[1].position)
                return None
            return Trigger("changed", frozenset({UPDATED}), fields=(info.name,))
        if t.kind in ("every", "interval"):
            if t.kind == "interval":
                return Trigger(
                    "schedule",
                    timer=TimerTrigger("schedule", interval=_duration(t.duration or "1d"), timezone=self.pack.timezone),
                )
            assert t.period is not None
            if t.period.text not in PERIODS:
                self.error(
                    f"unknown period '{t.period.text}'",
                    t.period.position,
                    did_you_mean(t.period.text, PERIODS) or "use day, hour, week, month, workday or a weekday",
                )
                return None
            at = None
            if t.at is not None:
                hh, mm = (int(x) for x in t.at.split(":"))
                if hh > 23 or mm > 59:
                    self.error(f"invalid time of day {t.at}", t.position)
                    return None
                at = dt.time(hh, mm)
            return Trigger(
                "schedule", timer=TimerTrigger("schedule", every=t.period.text, at=at, timezone=self.pack.timezone)
            )
        if t.kind == "relative":
            info = self.field(self.scope(form), t.path[0])
            if info is None:
                return None
            path = [info.name]
            scope = self.scope(form)
            for name in t.path[1:]:
                if info.link_form is None:
                    self.error(f"'{info.name}' is not a link", name.position)
                    return None
                scope = self.scope(info.link_form)
                info = self.field(scope, name)
                if info is None:
                    return None
                path.append(info.name)
            if info.type not in (ExprType.DATE, ExprType.DATETIME):
                self.error(f"'{'.'.join(path)}' is a {info.type.value}, not a date or date-time", t.path[-1].position)
                return None
            offset = _duration(t.duration or "0s")
            if t.direction == "before":
                offset = -offset
            return Trigger(
                "relative", timer=TimerTrigger("relative", offset=offset, path=tuple(path), timezone=self.pack.timezone)
            )
        if t.kind == "webhook":
            if t.channel is not None and not self.channel(t.channel):
                return None
            return Trigger("webhook", webhook=t.text, channel=t.channel.text if t.channel else None)
        if t.kind == "flow":
            assert t.flow is not None and t.node is not None
            return Trigger("flow", flow=t.flow.text, node=t.node.text, direction=t.direction)
        if t.kind == "flow_ended":  # indexed as (flow, "ended", ""); the rule sees flow_outcome
            assert t.flow is not None
            return Trigger("flow", flow=t.flow.text, node="", direction=ENDED, outcome=t.direction)
        raise AssertionError(t.kind)  # pragma: no cover


def loop_scope(parent: Scope, loop: Loop) -> Scope:
    """The parent's fields plus ``<var>__<field>`` for each field of the loop's row."""
    fields = dict(parent.fields)
    for name, info in loop.scope.fields.items():
        key = f"{loop.var}__{name}"
        fields[key] = dataclasses.replace(info, name=key, labels=(), column=None)
    return Scope(parent.form, fields, f"{parent.version}:{loop.var}", parent.forms)


def _rewrite_loop(node: n.Node, loop: Loop, origin: Origin) -> n.Node:
    """``line.qty`` -> ``this.line__qty`` (so it resolves in the loop scope / binds in SQL)."""
    if isinstance(node, n.Path) and node.parts[0] == loop.var:
        if len(node.parts) < 2:
            raise origin.error(
                f"'{loop.var}' is a row: use {loop.var}.<field>", node.span.line or 1, node.span.column or 1
            )
        info = loop.scope.resolve(node.parts[1])
        if info is None:
            candidates = loop.scope.spellings()
            raise origin.error(
                f"unknown field '{node.parts[1]}' in {loop.table}",
                node.span.line or 1,
                node.span.column or 1,
                did_you_mean(node.parts[1], candidates),
            )
        return dataclasses.replace(node, parts=("this", f"{loop.var}__{info.name}", *node.parts[2:]))
    return map_children(node, lambda c: _rewrite_loop(c, loop, origin))


def map_children(node: n.Node, fn: Any) -> n.Node:
    """A copy of ``node`` with ``fn`` applied to each child node."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, n.Node):
            new = fn(value)
            if new is not value:
                changes[f.name] = new
        elif isinstance(value, tuple) and any(isinstance(v, n.Node) for v in value):
            new_t = tuple(fn(v) if isinstance(v, n.Node) else v for v in value)
            if new_t != value:
                changes[f.name] = new_t
    return dataclasses.replace(node, **changes) if changes else node


_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def _duration(text: str) -> dt.timedelta:
    return dt.timedelta(**{_UNITS[text[-1]]: int(text[:-1])})


def compile_pack_rules(
    pack: PackSpec,
    forms: Mapping[str, FormSpec],
    scopes: Mapping[str, Scope],
    roles: Mapping[str, RoleSpec],
    revision: int = 0,
    *,
    decisions: Optional[Mapping[str, Any]] = None,
) -> tuple[list[RuleSpec], dict[str, Any]]:
    """Every rule of one pack, or DefinitionErrors with every error of every rule file.

    ``decisions`` (table name -> DecisionTable) are the tables ``decide <table>`` may name.
    """
    compiler = RuleCompiler(pack, forms, scopes, roles, revision, decisions)
    rules: list[RuleSpec] = []
    settings: dict[str, Any] = {}
    for path in sorted(pack.rules):
        found, s = compiler.compile_file(path, pack.rules[path])
        rules.extend(found)
        settings.update(s)
    seen: dict[str, RuleSpec] = {}
    for rule in rules:
        if rule.key in seen:
            compiler.error(
                f"rule '{rule.name}' on {rule.form} is defined twice (first at {seen[rule.key].position})",
                rule.position,
            )
        seen[rule.key] = rule
    if compiler.errors:
        raise DefinitionErrors(compiler.errors)
    return rules, settings


def compile_rules(
    packs: Sequence[PackSpec],
    forms: Mapping[str, FormSpec],
    scopes: Mapping[str, Scope],
    roles: Mapping[str, RoleSpec],
    key: Sequence[tuple[str, int]] = (),
    *,
    decisions: Optional[Mapping[str, Any]] = None,
) -> RuleSet:
    """The RuleSet of all packs (errors of every pack collected together)."""
    revisions = dict(key)
    rules: list[RuleSpec] = []
    errors: list[DefinitionError] = []
    depth, retention = DEFAULT_DEPTH, DEFAULT_RETENTION
    for pack in packs:
        try:
            found, settings = compile_pack_rules(
                pack, forms, scopes, roles, revisions.get(pack.name, 0), decisions=decisions
            )
        except DefinitionErrors as exc:
            errors.extend(exc.errors)
            continue
        rules.extend(found)
        depth = settings.get("max_depth", depth)
        retention = settings.get("retention", retention)
    if errors:
        raise DefinitionErrors(errors)
    return build_index(tuple(rules), depth, retention)
