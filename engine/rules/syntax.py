"""Rule files (``rules/*.rules``) -> frozen syntax items; every syntax error of a file at once.

One cached LALR parser over ``rules.lark``, which imports the expression grammar. Each
expression is kept as its exact text and the place where it starts, so that the rule
compiler hands it to :func:`engine.expr.compile_expression` with ``file``, ``line`` and
``column`` and errors point into the ``.rules`` file. No lark object leaves this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path as FsPath
from typing import Any, Optional, Union

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from engine.errors import DefinitionError, Position
from engine.expr.parser import keywords

GRAMMAR = FsPath(__file__).with_name("rules.lark")
EXPR_DIR = FsPath(__file__).resolve().parent.parent / "expr"
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}
#: keywords that may start a line inside a long rule (they continue it)
_CONTINUE = re.compile(r"(when|if|then)\b")

_WORDS = {
    "NAME": "a name",
    "INT": "a number",
    "DECIMAL": "a number",
    "STRING": "a quoted text",
    "DATE": "a date",
    "DATETIME": "a date-time",
    "DURATION": "a duration (72h, 2d, 30m)",
    "TIME": "a time of day (08:00)",
    "ARROW": "→ or ->",
    "_SEP": "a new line",
    "BEFORE_AFTER": "before or after",
    "ENTER_LEAVE": "enter or leave",
    "OUTCOME": "completed, rejected, withdrawn or cancelled",
    "$END": "the end of the file",
}


@dataclass(frozen=True)
class Name:
    """An identifier of the rule file (form, field, role, flow) and where it stands."""

    text: str
    position: Position


@dataclass(frozen=True)
class Expr:
    """The exact text of an expression and where it starts in the file."""

    text: str
    position: Position


@dataclass(frozen=True)
class TriggerNode:
    kind: str  # created|updated|deleted|saved|changed|every|interval|relative|webhook|flow
    position: Position
    path: tuple[Name, ...] = ()  # changed / relative: the field path
    period: Optional[Name] = None  # every <period>
    at: Optional[str] = None  # every day at 08:00
    duration: Optional[str] = None  # 72h (relative) / every 2h
    direction: Optional[str] = None  # before | after | enter | leave | an outcome (flow_ended)
    flow: Optional[Name] = None
    node: Optional[Name] = None
    text: Optional[str] = None  # webhook "name"
    channel: Optional[Name] = None  # webhook ... channel <name>


@dataclass(frozen=True)
class ActionNode:
    """One action as written; ``args`` holds Names, Exprs, strings and nested ActionNodes."""

    kind: str
    position: Position
    args: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class RuleNode:
    name: str
    position: Position
    trigger: Optional[TriggerNode]
    condition: Optional[Expr]
    actions: tuple[ActionNode, ...]
    short: bool = False


@dataclass(frozen=True)
class OnForm:
    form: Name


@dataclass(frozen=True)
class Setting:
    name: str  # depth | retention
    value: str
    position: Position


Item = Union[OnForm, RuleNode, Setting]


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(
        GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
        import_paths=[str(EXPR_DIR)],
    )


def parse_rules(text: str, file: str = "<rules>") -> tuple[list[Item], list[DefinitionError]]:
    """All items of a rule file and all syntax errors (each top-level item parsed on its own)."""
    lines = text.splitlines()
    items: list[Item] = []
    errors: list[DefinitionError] = []
    for start, end in _chunks(lines):
        chunk = "\n" * start + "\n".join(lines[start:end])
        try:
            tree = _parser().parse(chunk)
        except UnexpectedInput as exc:
            errors.append(_syntax_error(exc, chunk, lines, file))
            continue
        builder = _Build(chunk, lines, file)
        try:
            items.extend(builder.items(tree))
        except DefinitionError as exc:
            errors.append(exc)
    return items, errors


def _chunks(lines: list[str]) -> list[tuple[int, int]]:
    """Line ranges of the top-level items: a line starting in column 1 starts one."""
    starts = [
        i
        for i, line in enumerate(lines)
        if line[:1] and not line[:1].isspace() and not line.startswith("#") and not _CONTINUE.match(line)
    ]
    if not starts:
        return []
    return [(s, e) for s, e in zip(starts, starts[1:] + [len(lines)])]


def _position(file: str, lines: list[str], line: int, column: int) -> Position:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return Position(file, line, column, text)


def _expected(names: set[str]) -> str:
    words = set()
    for x in names:
        if x in _WORDS:
            words.add(_WORDS[x])
        elif x.startswith("grammar__"):
            words.add(_WORDS.get(x[9:], "an expression"))
        else:
            words.add(_term_text(x))
    return ", ".join(sorted(words, key=lambda w: (w.startswith("a ") or w.startswith("an "), w)))


@lru_cache(maxsize=None)
def _term_text(name: str) -> str:
    for term in _parser().terminals:
        if term.name == name and term.pattern.type == "str":
            return str(term.pattern.value)
    return name.lower()


def _syntax_error(exc: UnexpectedInput, chunk: str, lines: list[str], file: str) -> DefinitionError:
    line, column = max(exc.line, 1), max(exc.column, 1)
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        expected = _expected(set(exc.accepts or exc.expected))
        if {"USER", "ROLE"} <= set(exc.accepts or exc.expected):  # after notify
            expected = "role, user, an expression (owner, a user field, a link, a user name)"
        if tok.type == "$END" or (tok.type == "_SEP"):
            last = chunk.rstrip().splitlines()
            line = len(last)
            column = len(last[-1]) + 1 if last else 1
            what = "unexpected end of line" if tok.type == "_SEP" else "unexpected end of the rule"
            return DefinitionError(f"{what}; expected one of: {expected}", _position(file, lines, line, column))
        hint = None
        accepts = set(exc.accepts or exc.expected)
        if "NAME" in accepts and str(tok.value).lower() in keywords():
            hint = f"'{tok.value}' is a keyword, not a name"
        elif tok.type == "NAME":
            import difflib

            words = [w for w in expected.split(", ") if w.isalpha()]
            close = difflib.get_close_matches(str(tok.value), words, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else None
        return DefinitionError(
            f"unexpected {str(tok.value)!r}; expected one of: {expected}", _position(file, lines, line, column), hint
        )
    if isinstance(exc, UnexpectedCharacters):
        at: Optional[int] = exc.pos_in_stream  # lark's class attribute says None; here it is the offset
        ch = chunk[at] if at is not None and at < len(chunk) else ""
        if ch in "\"'":
            return DefinitionError(
                "unterminated text (a quoted text must end on its line)", _position(file, lines, line, column)
            )
        return DefinitionError(f"unexpected character {ch!r}", _position(file, lines, line, column))
    return DefinitionError("syntax error", _position(file, lines, line, column))  # pragma: no cover


def unquote(token: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), token[1:-1])


class _Build:
    """lark tree -> frozen items (nothing of lark survives)."""

    def __init__(self, chunk: str, lines: list[str], file: str) -> None:
        self.chunk, self.lines, self.file = chunk, lines, file

    def pos(self, node: Union[Tree, Token]) -> Position:
        if isinstance(node, Token):
            return _position(self.file, self.lines, node.line or 1, node.column or 1)
        return _position(self.file, self.lines, node.meta.line, node.meta.column)

    def name(self, tok: Union[Tree, Token]) -> Name:
        assert isinstance(tok, Token), tok  # the grammar puts a NAME token here
        return Name(str(tok), self.pos(tok))

    def expr(self, tree: Tree) -> Expr:
        meta = tree.meta
        return Expr(self.chunk[meta.start_pos : meta.end_pos], self.pos(tree))

    def items(self, tree: Tree) -> list[Item]:
        out: list[Item] = []
        for child in tree.children:
            if not isinstance(child, Tree):
                continue
            kind = child.data
            if kind == "on_form":
                out.append(OnForm(self.name(child.children[0])))
            elif kind == "set_depth":
                out.append(Setting("depth", str(child.children[0]), self.pos(child)))
            elif kind == "set_retention":
                out.append(Setting("retention", str(child.children[0]), self.pos(child)))
            elif kind == "long_rule":
                out.append(self.long_rule(child))
            elif kind == "short_rule":
                out.append(self.short_rule(child))
        return out

    def long_rule(self, tree: Tree) -> RuleNode:
        name = unquote(str(tree.children[0]))
        trigger = condition = None
        actions: tuple[ActionNode, ...] = ()
        for child in tree.children[1:]:
            if not isinstance(child, Tree):
                continue
            if child.data == "trigger_part":
                trigger = self.trigger(child.children[0])
            elif child.data == "if_part":
                condition = self.expr(child.children[0])
            elif child.data == "actions":
                actions = tuple(self.action(a) for a in child.children)
        return RuleNode(name, self.pos(tree), trigger, condition, actions)

    def short_rule(self, tree: Tree) -> RuleNode:
        cond = self.expr(tree.children[0])
        line = self.lines[tree.meta.line - 1].strip()
        actions = tuple(self.action(a) for a in tree.children[2].children)
        return RuleNode(line, self.pos(tree), None, cond, actions, short=True)

    def trigger(self, t: Tree) -> TriggerNode:
        p, c, kind = self.pos(t), t.children, t.data[2:]
        if kind in ("saved", "created", "updated", "deleted"):
            return TriggerNode(kind, p)
        if kind == "changed":
            return TriggerNode("changed", p, path=self.path(c[0]))
        if kind == "every":
            return TriggerNode("every", p, period=self.name(c[0]), at=str(c[1]) if c[1] is not None else None)
        if kind == "every_interval":
            return TriggerNode("interval", p, duration=str(c[0]))
        if kind == "relative":
            return TriggerNode("relative", p, duration=str(c[0]), direction=str(c[1]), path=self.path(c[2]))
        if kind == "webhook":
            return TriggerNode(
                "webhook",
                p,
                text=unquote(str(c[0])) if c[0] is not None else None,
                channel=self.name(c[1]) if c[1] is not None else None,
            )
        if kind == "flow":
            return TriggerNode("flow", p, flow=self.name(c[0]), direction=str(c[1]), node=self.name(c[2]))
        if kind == "flow_ended":  # direction: the outcome it waits for (None: any)
            return TriggerNode("flow_ended", p, flow=self.name(c[0]), direction=str(c[1]) if c[1] else None)
        raise AssertionError(kind)  # pragma: no cover

    def path(self, t: Tree) -> tuple[Name, ...]:
        return tuple(self.name(tok) for tok in t.children)

    def assigns(self, t: Tree) -> list[tuple[Name, Expr]]:
        return [(self.name(a.children[0]), self.expr(a.children[1])) for a in t.children]

    def obj(self, t: Optional[Tree]) -> list[tuple[Name, Expr]]:
        if t is None:
            return []
        return [(self.name(p.children[0]), self.expr(p.children[1])) for p in t.children if p is not None]

    def action(self, t: Tree) -> ActionNode:
        p, c, kind = self.pos(t), t.children, t.data[2:]
        s = lambda tok: unquote(str(tok)) if tok is not None else None  # noqa: E731
        if kind == "notify":
            target = c[0]
            who = target.data[3:]
            message = {"message": s(c[1]), "message_pos": self.pos(c[1]) if c[1] else p}
            if who == "expr":
                return ActionNode("notify", p, {"to": "expr", "expr": self.expr(target.children[0]), **message})
            arg = target.children[0]
            assert isinstance(arg, Token), arg  # NAME or STRING
            value = unquote(str(arg)) if arg.type == "STRING" else str(arg)
            return ActionNode("notify", p, {"to": who, "who": value, "who_pos": self.pos(arg), **message})
        if kind == "set":
            return ActionNode("set", p, {"assigns": self.assigns(c[0])})
        if kind == "create":
            return ActionNode("create", p, {"form": self.name(c[0]), "values": self.obj(c[1])})
        if kind == "upsert":
            return ActionNode("upsert", p, {"form": self.name(c[0]), "key": self.name(c[1]), "values": self.obj(c[2])})
        if kind == "delete":
            if c[0] is None:
                return ActionNode("delete", p, {})
            return ActionNode("delete_where", p, {"form": self.name(c[0]), "where": self.expr(c[1])})
        if kind == "update":
            req = c[3]
            args: dict[str, Any] = {
                "form": self.name(c[0]),
                "where": self.expr(c[1]),
                "assigns": self.assigns(c[2]),
                "require": None,
                "message": None,
            }
            if req is not None:
                args["require"] = self.expr(req.children[0])
                args["message"] = s(req.children[1])
            return ActionNode("update", p, args)
        if kind == "start_flow":
            return ActionNode("start_flow", p, {"flow": self.name(c[0])})
        if kind == "flag":
            return ActionNode("flag", p, {"colour": self.name(c[0]), "tag": s(c[1])})
        if kind == "webhook":
            return ActionNode("webhook", p, {"url": s(c[0]), "secret": s(c[1])})
        if kind == "decide":
            return ActionNode("decide", p, {"table": self.name(c[0])})
        if kind == "plugin":
            return ActionNode("plugin", p, {"name": self.name(c[0]), "values": self.obj(c[1])})
        if kind == "for":
            names = [x for x in c if isinstance(x, Token) and x.type == "NAME"]
            body = [self.action(a) for a in c if isinstance(a, Tree)]
            return ActionNode("for", p, {"var": self.name(names[0]), "table": self.name(names[1]), "body": body})
        raise AssertionError(kind)  # pragma: no cover
