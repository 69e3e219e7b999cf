"""Names and types: the syntax tree checked against a Scope, returned as a resolved, typed tree."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from typing import Optional

from engine.expr import functions as fx
from engine.expr import nodes as n
from engine.expr.errors import ExprError, Origin
from engine.expr.scope import FieldInfo, Scope
from engine.expr.types import ExprType as T

ORDERED = {T.INTEGER, T.DECIMAL, T.FLOAT, T.STRING, T.DATE, T.DATETIME, T.TIME, T.DURATION}
CONTEXT = {
    ("me",): T.INTEGER,
    ("my", "id"): T.INTEGER,
    ("my", "roles"): T.LIST,
    ("my", "customer"): T.RECORD,
    ("my", "username"): T.STRING,
}
LOOSE = (T.NULL, T.ANY)
ID_FIELD = FieldInfo("id", T.INTEGER)  # every record has its own id


@dataclass
class _Env:
    scope: Scope
    outer: Optional[Scope] = None  # the record outside an aggregate (for this.x)
    prefix: Optional[str] = None  # "lines" / "invoice": stripped from paths in an aggregate
    names_prefix: str = ""  # how names are reported ("lines." ...)


@dataclass
class Checker:
    root: Scope
    origin: Origin
    names: set[str] = field(default_factory=set)
    #: resolved choice fields -> their options (value, labels), for literals compared with them
    options: dict[n.Node, tuple[tuple[str, tuple[str, ...]], ...]] = field(default_factory=dict)

    # ------------------------------------------------------------ helpers
    def error(self, node: n.Node, message: str, hint: Optional[str] = None) -> ExprError:
        return self.origin.error(message, node.span.line or 1, node.span.column or 1, hint)

    def did_you_mean(self, name: str, candidates: list[str]) -> Optional[str]:
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
        return f"did you mean '{close[0]}'?" if close else None

    def check(self, node: n.Node, expect: Optional[T] = None) -> n.Node:
        out = self.visit(node, _Env(self.root))
        if expect is not None and expect != T.ANY and not _fits(out.t, expect):
            article = "an" if expect.value[0] in "aeiou" else "a"
            raise self.error(node, f"expected {article} {expect.value} expression, got {out.t.value}")
        return out

    def visit(self, node: n.Node, env: _Env) -> n.Node:
        method = getattr(self, "v_" + type(node).__name__, None)
        if method is None:  # pragma: no cover - every syntax node has a visitor
            raise self.error(node, f"unsupported expression {type(node).__name__}")
        return method(node, env)

    # ------------------------------------------------------------ leaves
    def v_Literal(self, node: n.Literal, env: _Env) -> n.Node:
        return node

    def v_ListLit(self, node: n.ListLit, env: _Env) -> n.Node:
        items = tuple(self.visit(i, env) for i in node.items)
        types = {i.t for i in items if i.t not in LOOSE}
        if len(types) > 1 and not all(t.numeric for t in types):
            raise self.error(
                node, "list items must have the same type, got " + ", ".join(sorted(t.value for t in types))
            )
        for i in items:
            if not isinstance(i, n.Literal):
                raise self.error(i, "list items must be literal values")
        return replace(node, items=items, t=T.LIST)

    def v_Path(self, node: n.Path, env: _Env) -> n.Node:
        parts = node.parts
        if parts in CONTEXT:
            self.names.add(".".join(parts))
            return n.ContextRef(".".join(parts), span=node.span, t=CONTEXT[parts])
        if parts[0] == "my":
            raise self.error(
                node, f"unknown name '{'.'.join(parts)}'", "use me, my.id, my.roles, my.customer or my.username"
            )
        if parts[0] == "old":
            if len(parts) != 2 or env.outer is not None:
                raise self.error(node, "old.<field> names one field of the record before the change")
            info = self._field(self.root, parts[1], node)
            self.names.add("old." + info.name)
            return n.OldRef(info.name, span=node.span, t=info.type)
        depth, scope, prefix_names = 0, env.scope, env.names_prefix
        if parts[0] == "this":
            if len(parts) == 1:
                raise self.error(node, "this needs a field: this.<field>")
            parts = parts[1:]
            if env.outer is not None:
                depth, scope, prefix_names = 1, env.outer, ""
        elif env.prefix is not None and len(parts) > 1 and self._is_prefix(parts[0], env):
            parts = parts[1:]
        return self._resolve(parts, scope, depth, prefix_names, node)

    def _is_prefix(self, name: str, env: _Env) -> bool:
        if name == env.prefix:
            return True
        info = env.outer.resolve(name) if env.outer is not None else None
        return info is not None and info.name == env.prefix and info.type == T.TABLE

    def _field(self, scope: Scope, name: str, node: n.Node) -> FieldInfo:
        info = scope.resolve(name)
        if info is None and name == "id":
            return ID_FIELD
        if info is None:
            candidates = scope.spellings()
            if scope is self.root and self.root.forms:
                candidates += list(self.root.forms)
            raise self.error(node, f"unknown field '{name}' in {scope.form}", self.did_you_mean(name, candidates))
        return info

    def _resolve(self, parts: tuple[str, ...], scope: Scope, depth: int, names_prefix: str, node: n.Node) -> n.Node:
        info = self._field(scope, parts[0], node)
        if info.type == T.TABLE:
            raise self.error(
                node,
                f"'{parts[0]}' is a sub-table: use an aggregate such as count({parts[0]}) or sum({parts[0]}.<field>)",
            )
        base = n.FieldRef(info.name, info.sql_column, depth, span=node.span, t=info.type)
        shown = [info.name]
        if len(parts) == 1:
            self.names.add(names_prefix + info.name)
            if info.options:
                self.options[base] = info.options
            return base
        hops: list[tuple[str, str, str]] = []
        current = info
        first_form = ""
        for name in parts[1:]:
            if current.type != T.RECORD or not current.link_form:
                raise self.error(
                    node, f"'{'.'.join(shown)}' is a {current.type.value}, not a link: it has no field '{name}'"
                )
            target = scope.other(current.link_form) if scope.forms else self.root.other(current.link_form)
            if target is None:
                raise self.error(node, f"form '{current.link_form}' (linked by '{current.name}') is unknown")
            if not first_form:
                first_form = current.link_form
            else:
                hops.append((current.name, current.sql_column, current.link_form))
            nxt = self._field(target, name, node)
            if nxt.type == T.TABLE:
                raise self.error(node, f"'{name}' is a sub-table of {target.form}; it cannot be read through a link")
            shown.append(nxt.name)
            current, scope = nxt, target
        self.names.add(names_prefix + ".".join(shown))
        ref = n.LinkRef(
            base, tuple(hops), scope.form, current.name, current.sql_column, first_form, span=node.span, t=current.type
        )
        if current.options:
            self.options[ref] = current.options
        return ref

    # ------------------------------------------------------------ operators
    def v_Unary(self, node: n.Unary, env: _Env) -> n.Node:
        operand = self.visit(node.operand, env)
        if node.op == "not":
            self._need_bool(operand)
            return replace(node, operand=operand, t=T.BOOLEAN)
        if operand.t not in LOOSE and not operand.t.numeric and operand.t != T.DURATION:
            raise self.error(node, f"cannot negate a {operand.t.value}")
        return replace(node, operand=operand, t=operand.t)

    def _need_bool(self, node: n.Node) -> None:
        if node.t not in (T.BOOLEAN, T.NULL, T.ANY):
            raise self.error(node, f"expected a condition (true/false), got {node.t.value}")

    def v_Logic(self, node: n.Logic, env: _Env) -> n.Node:
        left, right = self.visit(node.left, env), self.visit(node.right, env)
        self._need_bool(left)
        self._need_bool(right)
        return replace(node, left=left, right=right, t=T.BOOLEAN)

    def v_Arith(self, node: n.Arith, env: _Env) -> n.Node:
        left, right = self.visit(node.left, env), self.visit(node.right, env)
        t = _arith_type(node.op, left.t, right.t)
        if t is None:
            raise self.error(node, f"cannot compute {left.t.value} {node.op} {right.t.value}")
        return replace(node, left=left, right=right, t=t)

    def v_Compare(self, node: n.Compare, env: _Env) -> n.Node:
        left, right = self.visit(node.left, env), self.visit(node.right, env)
        a, b, op = left.t, right.t, node.op
        if op in ("==", "!="):
            ok = _comparable(a, b)
        elif op in ("<", "<=", ">", ">="):
            ok = _comparable(a, b) and (a in ORDERED or a in LOOSE) and (b in ORDERED or b in LOOSE)
        elif op in ("in", "not in"):
            ok = b in (T.LIST, T.ANY, T.NULL)
            if ok and isinstance(right, n.ListLit):
                ok = all(_comparable(a, i.t) for i in right.items)
        elif op == "contains":
            ok = (a in (T.STRING, *LOOSE) and b in (T.STRING, *LOOSE)) or a == T.LIST
        else:  # startswith / endswith
            ok = a in (T.STRING, *LOOSE) and b in (T.STRING, *LOOSE)
        if not ok:
            hint = None
            if {a, b} & {T.DATE, T.DATETIME} and T.STRING in (a, b):
                hint = "write dates without quotes, e.g. 2026-11-21"
            raise self.error(node, f"cannot compare {a.value} {op} {b.value}", hint)
        if op in ("==", "!=", "in", "not in", "contains"):
            for field_side, other in ((left, right), (right, left)):
                if field_side in self.options:
                    items = other.items if isinstance(other, n.ListLit) else (other,)
                    for item in items:
                        self._check_option(field_side, item)
        return replace(node, left=left, right=right, t=T.BOOLEAN)

    def _check_option(self, ref: n.Node, literal: n.Node) -> None:
        """A text literal compared with a choice field must be one of its option values."""
        if not isinstance(literal, n.Literal) or not isinstance(literal.value, str):
            return
        options = self.options[ref]
        values = [value for value, _ in options]
        if literal.value in values:
            return
        name = ref.name if isinstance(ref, (n.FieldRef, n.LinkRef)) else "the field"
        by_label = next((value for value, labels in options if literal.value in labels), None)
        hint = (
            f'write the option\'s value: "{by_label}" ("{literal.value}" is its label)'
            if by_label
            else self.did_you_mean(literal.value, values)
        )
        shown = ", ".join(values[:8]) + (", ..." if len(values) > 8 else "")
        raise self.error(literal, f'"{literal.value}" is not an option of {name} ({shown})', hint)

    def v_Between(self, node: n.Between, env: _Env) -> n.Node:
        value, low, high = (self.visit(x, env) for x in (node.value, node.low, node.high))
        for other in (low, high):
            if not _comparable(value.t, other.t) or value.t not in ORDERED | set(LOOSE):
                raise self.error(node, f"cannot compare {value.t.value} with {other.t.value} in between")
        return replace(node, value=value, low=low, high=high, t=T.BOOLEAN)

    def v_IsEmpty(self, node: n.IsEmpty, env: _Env) -> n.Node:
        return replace(node, value=self.visit(node.value, env), t=T.BOOLEAN)

    # ------------------------------------------------------------ calls
    def v_Call(self, node: n.Call, env: _Env) -> n.Node:
        name = node.name
        if name in fx.AGGREGATES and (node.where is not None or len(node.args) == 1):
            return self._aggregate(node, env)
        if node.where is not None:
            raise self.error(node, f"'where' only works inside an aggregate: {', '.join(sorted(fx.AGGREGATES))}")
        args = tuple(self.visit(a, env) for a in node.args)
        if name == "if":
            if len(args) != 3:
                raise self.error(node, f"if takes 3 arguments (condition, then, else), got {len(args)}")
            self._need_bool(args[0])
            try:
                t = fx._same([args[1].t, args[2].t])
            except TypeError as exc:
                raise self.error(node, f"if: {exc}") from None
            return replace(node, args=args, t=t)
        if name == "changed":
            if len(args) != 1 or not isinstance(args[0], n.FieldRef) or env.outer is not None:
                raise self.error(node, "changed takes one field of the record: changed(status)")
            return replace(node, args=args, t=T.BOOLEAN)
        fn = fx.lookup(name)
        if fn is None:
            raise self.error(node, f"unknown function '{name}'", self.did_you_mean(name, fx.known_names()))
        if len(args) < fn.min_args or (fn.max_args is not None and len(args) > fn.max_args):
            raise self.error(node, f"{name} takes {_arity(fn)}, got {len(args)}")
        try:
            t = fn.returns([a.t for a in args])
        except TypeError as exc:
            raise self.error(node, f"{name}: {exc}") from None
        return replace(node, args=args, t=t)

    def _aggregate(self, node: n.Call, env: _Env) -> n.Node:
        if env.outer is not None:
            raise self.error(node, "aggregates cannot be nested")
        arg = node.args[0]
        sources = _sources(arg, env.scope)
        if isinstance(arg, n.Path) and len(arg.parts) == 1:
            sources = (
                {arg.parts[0]}
                if (arg.parts[0] not in env.scope.fields or _is_table(env.scope, arg.parts[0]))
                else sources
            )
        if len(sources) != 1:
            raise self.error(
                node,
                f"{node.name} needs one sub-table or form to aggregate, e.g. "
                f"{node.name}(lines.qty) or {node.name}(other_form where ...)",
            )
        source = sources.pop()
        info = env.scope.resolve(source)
        if info is not None and info.type == T.TABLE and info.children is not None:
            kind, inner, column, form = "child", info.children, info.sql_column, info.children.form
            source, shown = info.name, info.name + "."
        else:
            other = env.scope.other(source)
            if other is None:
                cands = list(env.scope.fields) + list(env.scope.forms or ())
                raise self.error(node, f"unknown sub-table or form '{source}'", self.did_you_mean(source, cands))
            kind, inner, column, form, shown = "form", other, "", source, source + "."
        if kind == "child":
            self.names.add(source)  # count(lines) depends on the sub-table even without a field
        inner_env = _Env(inner, env.scope, source, shown)
        body = None
        if not (isinstance(arg, n.Path) and arg.parts == (source,)):
            body = self.visit(arg, inner_env)
        where = None
        if node.where is not None:
            where = self.visit(node.where, inner_env)
            self._need_bool(where)
        func = node.name
        if func in ("sum", "avg") and body is None:
            raise self.error(node, f"{func} needs a value: {func}({source}.<field>)")
        if body is not None and func in ("sum", "avg") and body.t not in LOOSE and not body.t.numeric:
            raise self.error(node, f"{func} needs numbers, got {body.t.value}")
        if func in ("min", "max") and body is None:
            raise self.error(node, f"{func} needs a value: {func}({source}.<field>)")
        if func == "exists" and body is not None:
            raise self.error(node, f"exists takes a sub-table or form: exists({source} where ...)")
        t = {"count": T.INTEGER, "exists": T.BOOLEAN, "avg": T.DECIMAL}.get(func)
        if t is None:
            t = body.t if body is not None else T.ANY
            if func == "sum" and t != T.INTEGER:
                t = T.FLOAT if t == T.FLOAT else T.DECIMAL
        return n.Aggregate(func, kind, source, column, form, body, where, span=node.span, t=t)


def _is_table(scope: Scope, name: str) -> bool:
    info = scope.resolve(name)
    return info is not None and info.type == T.TABLE


def _sources(node: n.Node, scope: Scope) -> set[str]:
    """First names of paths in an aggregate argument that are sub-tables or other forms."""
    found: set[str] = set()

    def walk(x: object) -> None:
        if isinstance(x, n.Path):
            head = x.parts[0]
            if head in ("this", "my", "me", "old"):
                return
            info = scope.resolve(head)
            if (info is not None and info.type == T.TABLE) or (info is None and scope.other(head) is not None):
                found.add(info.name if info is not None else head)
        elif isinstance(x, n.Node):
            for v in x.__dict__.values():
                if isinstance(v, tuple):
                    for i in v:
                        walk(i)
                else:
                    walk(v)

    walk(node)
    return found


def _arity(fn: fx.Function) -> str:
    if fn.max_args == fn.min_args:
        return f"{fn.min_args} argument{'s' if fn.min_args != 1 else ''}"
    if fn.max_args is None:
        return f"at least {fn.min_args} arguments"
    return f"{fn.min_args} to {fn.max_args} arguments"


def _fits(t: T, expect: T) -> bool:
    return (
        t in LOOSE
        or t == expect
        or (expect == T.DECIMAL and t == T.INTEGER)
        or (expect == T.FLOAT and t.numeric)
        or (expect == T.INTEGER and t == T.RECORD)
    )


def _comparable(a: T, b: T) -> bool:
    if a in LOOSE or b in LOOSE or a == b:
        return True
    if a.numeric and b.numeric:
        return True
    return {a, b} in ({T.RECORD, T.INTEGER},)


def _arith_type(op: str, a: T, b: T) -> Optional[T]:
    if a == T.ANY or b == T.ANY:
        return T.ANY
    if a == T.NULL or b == T.NULL:
        other = b if a == T.NULL else a
        return other if op in "+-" or other.numeric or other == T.NULL else None
    if a.numeric and b.numeric:
        if op == "/":
            return T.FLOAT if T.FLOAT in (a, b) else T.DECIMAL
        return fx._numeric([a, b])
    table = {
        ("+", T.STRING, T.STRING): T.STRING,
        ("+", T.DATE, T.DURATION): T.DATE,
        ("+", T.DURATION, T.DATE): T.DATE,
        ("+", T.DATETIME, T.DURATION): T.DATETIME,
        ("+", T.DURATION, T.DATETIME): T.DATETIME,
        ("+", T.DURATION, T.DURATION): T.DURATION,
        ("-", T.DURATION, T.DURATION): T.DURATION,
        ("-", T.DATE, T.DURATION): T.DATE,
        ("-", T.DATETIME, T.DURATION): T.DATETIME,
        ("-", T.DATE, T.DATE): T.INTEGER,
        ("-", T.DATETIME, T.DATETIME): T.DURATION,
    }
    return table.get((op, a, b))
