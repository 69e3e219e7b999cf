"""Checked AST -> Python source -> one compiled function (Jinja style; user text is never eval'd).

The function has the signature ``f(record, ctx=None, *, old=None, data=None)``. Constants are
bound once as closure locals; null checks use walrus temporaries so every sub-expression is
computed once: ``stock < 20`` becomes ``(_t0 := r.get('stock')) is not None and _t0 < 20``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Callable, Optional

from engine.expr import functions as fx
from engine.expr import nodes as n
from engine.expr import runtime as rt
from engine.expr.types import ExprType as T

STRICT_BOOL = (n.Compare, n.Logic, n.Between, n.IsEmpty, n.Aggregate)
_SAFE_BUILTINS = {"len": len, "any": any, "None": None, "True": True, "False": False}
_CTX = {
    "me": "ctx.user_id",
    "my.id": "ctx.user_id",
    "my.customer": "ctx.customer_id",
    "my.username": "ctx.username",
    "my.roles": "ctx.roles",
}


def is_strict_bool(node: n.Node) -> bool:
    """True when the node always yields True/False (never null)."""
    if isinstance(node, STRICT_BOOL):
        return not isinstance(node, n.Aggregate) or node.func == "exists"
    if isinstance(node, n.Unary):
        return node.op == "not"
    if isinstance(node, n.Literal):
        return isinstance(node.value, bool)
    return isinstance(node, n.Call) and node.name == "changed"


class PyGen:
    """One code generation: collects constants and temporaries."""

    def __init__(self, form_aggregate: Callable[[n.Aggregate], Any]) -> None:
        self.consts: dict[str, Any] = {}
        self._const_ids: dict[tuple[type, Any], str] = {}
        self.ntmp = 0
        self.uses_old = False
        self.uses_ctx = False
        self.form_aggregate = form_aggregate

    def const(self, value: Any, hint: str = "c") -> str:
        try:
            key: Any = (type(value), value)
            hash(key)
        except TypeError:
            key = (type(value), id(value))
        if key in self._const_ids:
            return self._const_ids[key]
        name = f"_{hint}{len(self.consts)}"
        self.consts[name] = value
        self._const_ids[key] = name
        return name

    def tmp(self) -> str:
        self.ntmp += 1
        return f"_t{self.ntmp}"

    # ------------------------------------------------------------ entry points
    def truth(self, node: n.Node, rows: tuple[str, ...]) -> str:
        code = self.gen(node, rows)
        return code if is_strict_bool(node) else f"({code} is True)"

    def gen(self, node: n.Node, rows: tuple[str, ...]) -> str:
        return getattr(self, "g_" + type(node).__name__)(node, rows)

    # ------------------------------------------------------------ leaves
    def g_Literal(self, node: n.Literal, rows: tuple[str, ...]) -> str:
        v = node.value
        if v is None or isinstance(v, (bool, int, str)):
            return repr(v)
        return self.const(v)

    def g_ListLit(self, node: n.ListLit, rows: tuple[str, ...]) -> str:
        return self.const([i.value for i in node.items if isinstance(i, n.Literal)], "l")

    def g_FieldRef(self, node: n.FieldRef, rows: tuple[str, ...]) -> str:
        return f"{rows[node.depth]}.get({node.name!r})"

    def g_OldRef(self, node: n.OldRef, rows: tuple[str, ...]) -> str:
        self.uses_old = True
        return f"_old.get({node.name!r})"

    def g_ContextRef(self, node: n.ContextRef, rows: tuple[str, ...]) -> str:
        self.uses_ctx = True
        return _CTX[node.name]

    def g_LinkRef(self, node: n.LinkRef, rows: tuple[str, ...]) -> str:
        base = self.gen(node.base, rows)
        hops = self.const(node.hops, "h")
        return f"_link(data, {node.first_form!r}, {base}, {hops}, {node.name!r})"

    # ------------------------------------------------------------ operators
    def g_Unary(self, node: n.Unary, rows: tuple[str, ...]) -> str:
        if node.op == "not":
            return f"(not {self.truth(node.operand, rows)})"
        a = self.tmp()
        return f"(None if ({a} := {self.gen(node.operand, rows)}) is None else -{a})"

    def g_Logic(self, node: n.Logic, rows: tuple[str, ...]) -> str:
        parts = [node.right]
        left = node.left
        while isinstance(left, n.Logic) and left.op == node.op:  # flatten a and b and c
            parts.append(left.right)
            left = left.left
        parts.append(left)
        return "(" + f" {node.op} ".join(self.truth(p, rows) for p in reversed(parts)) + ")"

    def _nn(self, node: n.Node, rows: tuple[str, ...]) -> tuple[str, list[str]]:
        """(name or literal code, null checks) for an operand."""
        if isinstance(node, n.Literal) and node.value is not None:
            return self.gen(node, rows), []
        t = self.tmp()
        return t, [f"({t} := {self.gen(node, rows)}) is not None"]

    def g_Arith(self, node: n.Arith, rows: tuple[str, ...]) -> str:
        lt, rt_ = node.left.t, node.right.t
        if T.NULL in (lt, rt_):
            return "None"
        if node.op in ("/", "%"):
            fn = "_div" if node.op == "/" else "_mod"
            return f"{fn}({self.gen(node.left, rows)}, {self.gen(node.right, rows)})"
        if lt in (T.DATE, T.DATETIME) and rt_ == T.DURATION or lt == T.DURATION and rt_ in (T.DATE, T.DATETIME):
            d, delta = (node.left, node.right) if rt_ == T.DURATION else (node.right, node.left)
            sign = -1 if node.op == "-" else 1
            return f"_date_add({self.gen(d, rows)}, {self.gen(delta, rows)}, {sign})"
        if node.op in "+-*" and _flat_numeric(node):
            return self._arith_chain(node, rows)
        a, ca = self._nn(node.left, rows)
        b, cb = self._nn(node.right, rows)
        expr = f"{a} {node.op} {b}"
        if lt == T.DATE and rt_ == T.DATE:
            expr = f"({expr}).days"
        elif T.FLOAT in (lt, rt_) and T.DECIMAL in (lt, rt_):
            expr = f"float({a}) {node.op} float({b})"
        checks = ca + cb
        if not checks:
            return f"({expr})"
        return f"({expr} if {' and '.join(checks)} else None)"

    def _arith_chain(self, node: n.Arith, rows: tuple[str, ...]) -> str:
        """``a + b - c`` (left-assoc, same precedence) as one flat Python expression."""
        group = "+-" if node.op in "+-" else "*"
        ops, operands = [], []
        cur: n.Node = node
        while isinstance(cur, n.Arith) and cur.op in group and _flat_numeric(cur):
            ops.append(cur.op)
            operands.append(cur.right)
            cur = cur.left
        operands.append(cur)
        operands.reverse()
        ops.reverse()
        names, checks = [], []
        for operand in operands:
            code, check = self._nn(operand, rows)
            names.append(code)
            checks += check
        expr = names[0] + "".join(f" {op} {name}" for op, name in zip(ops, names[1:]))
        return f"({expr} if {' and '.join(checks)} else None)" if checks else f"({expr})"

    def _empty(self, node: n.Node, rows: tuple[str, ...]) -> str:
        code = self.gen(node, rows)
        if node.t == T.STRING:
            t = self.tmp()
            return f"(({t} := {code}) is None or {t} == '')"
        if node.t == T.LIST:
            return f"(not {code})"
        if node.t in (T.ANY, T.NULL):
            return f"_is_empty({code})"
        return f"({code} is None)"

    def g_IsEmpty(self, node: n.IsEmpty, rows: tuple[str, ...]) -> str:
        code = self._empty(node.value, rows)
        return f"(not {code})" if node.negated else code

    def g_Compare(self, node: n.Compare, rows: tuple[str, ...]) -> str:
        op, left, right = node.op, node.left, node.right
        if op in ("==", "!=") and (_is_null(left) or _is_null(right)):
            other = right if _is_null(left) else left
            code = self._empty(other, rows)
            return code if op == "==" else f"(not {code})"
        if op == "!=":
            return f"(not {self.g_Compare(n.Compare('==', left, right, t=T.BOOLEAN), rows)})"
        if op == "not in":
            return f"(not {self.g_Compare(n.Compare('in', left, right, t=T.BOOLEAN), rows)})"
        if op == "==" and isinstance(right, n.Literal):
            return f"({self.gen(left, rows)} == {self.gen(right, rows)})"
        if op == "in":
            if isinstance(right, n.ListLit):
                values = frozenset(i.value for i in right.items if isinstance(i, n.Literal) and i.value is not None)
                return f"({self.gen(left, rows)} in {self.const(values, 's')})"
            a, ca = self._nn(left, rows)
            if isinstance(right, n.ContextRef):
                self.uses_ctx = True
                return f"({' and '.join(ca + [f'{a} in ctx.roles'])})"
            return f"({' and '.join(ca + [f'{a} in ({self.gen(right, rows)} or ())'])})"
        a, ca = self._nn(left, rows)
        if op == "contains" and left.t == T.LIST:
            b, cb = self._nn(right, rows)
            return f"({' and '.join(cb + [f'{b} in ({self.gen(left, rows)} or ())'])})"
        b, cb = self._nn(right, rows)
        test = {"contains": f"{b} in {a}", "startswith": f"{a}.startswith({b})", "endswith": f"{a}.endswith({b})"}.get(
            op, f"{a} {op} {b}"
        )
        return f"({' and '.join(ca + cb + [test])})"

    def g_Between(self, node: n.Between, rows: tuple[str, ...]) -> str:
        v, cv = self._nn(node.value, rows)
        lo, cl = self._nn(node.low, rows)
        hi, ch = self._nn(node.high, rows)
        return f"({' and '.join(cv + cl + ch + [f'{lo} <= {v} <= {hi}'])})"

    # ------------------------------------------------------------ calls
    def g_Call(self, node: n.Call, rows: tuple[str, ...]) -> str:
        name, args = node.name, node.args
        if name == "if":
            return f"({self.gen(args[1], rows)} if {self.truth(args[0], rows)} else {self.gen(args[2], rows)})"
        if name == "changed":
            f = args[0]
            assert isinstance(f, n.FieldRef)
            return f"(old is not None and old.get({f.name!r}) != {rows[0]}.get({f.name!r}))"
        if name in ("now", "today"):
            self.uses_ctx = True
            return "ctx.now()" if name == "now" else "_today(ctx)"
        fn = fx.lookup(name)
        assert fn is not None and fn.python is not None
        if fn.inline is not None and len(args) == 1:
            t = self.tmp()
            return f"(None if ({t} := {self.gen(args[0], rows)}) is None else {fn.inline.format(t)})"
        impl = fn.python
        if name == "round" and len(args) == 1 and node.t == T.INTEGER:
            impl = fx.py_round_int
        return f"{self.const(impl, 'f_' + name + '_')}({', '.join(self.gen(a, rows) for a in args)})"

    def g_Aggregate(self, node: n.Aggregate, rows: tuple[str, ...]) -> str:
        if node.kind == "form":
            helper = self.const(self.form_aggregate(node), "agg")
            return f"{helper}({rows[0]}, ctx, data)"
        c = f"_c{len(rows)}"
        inner = (c, *rows)
        source = f"({rows[0]}.get({node.source!r}) or ())"
        cond = f" if {self.truth(node.where, inner)}" if node.where is not None else ""
        if node.func == "exists":
            return f"any(True for {c} in {source}{cond})" if cond else f"(len({source}) > 0)"
        if node.body is None:  # count rows
            return f"len([1 for {c} in {source}{cond}])" if cond else f"len({source})"
        v = self.tmp()
        values = f"[{v} for {c} in {source}{cond} if ({v} := {self.gen(node.body, inner)}) is not None]"
        if node.func == "count":
            return f"len({values})"
        if node.func == "sum":
            zero = self.const(Decimal(0) if node.t == T.DECIMAL else 0.0 if node.t == T.FLOAT else 0, "z")
            return f"_sum({values}, {zero})"
        return f"_{node.func}({values})"


def _flat_numeric(node: n.Arith) -> bool:
    types = (node.left.t, node.right.t)
    return all(t in (T.INTEGER, T.DECIMAL) for t in types)


def _is_null(node: n.Node) -> bool:
    return isinstance(node, n.Literal) and node.value is None


RUNTIME = {
    "_link": rt.link_get,
    "_div": rt.div,
    "_mod": rt.mod,
    "_date_add": rt.date_add,
    "_is_empty": rt.is_empty,
    "_today": rt.today,
    "_sum": rt.agg_sum,
    "_avg": rt.agg_avg,
    "_min": rt.agg_min,
    "_max": rt.agg_max,
    "_EMPTY": rt.EMPTY,
    "_no_ctx": rt.no_ctx,
}


def generate(tree: n.Node, form_aggregate: Callable[[n.Aggregate], Any]) -> tuple[str, dict[str, Any]]:
    """Python source of a factory ``_make(consts...)`` returning the expression function."""
    gen = PyGen(form_aggregate)
    body = gen.truth(tree, ("r",)) if tree.t == T.BOOLEAN else gen.gen(tree, ("r",))
    names = list(RUNTIME) + list(gen.consts)
    lines = [f"def _make({', '.join(names)}):", "    def _expr(r, ctx=None, old=None, data=None):"]
    if gen.uses_ctx:
        lines.append("        if ctx is None: _no_ctx()")
    if gen.uses_old:
        lines.append("        _old = _EMPTY if old is None else old")
    lines += [f"        return {body}", "    return _expr", ""]
    return "\n".join(lines), {**RUNTIME, **gen.consts}


def build(source: str, bindings: dict[str, Any], filename: str) -> Callable[..., Any]:
    """Compile the generated source once and bind the constants."""
    namespace: dict[str, Any] = {"__builtins__": _SAFE_BUILTINS}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace["_make"](**bindings)  # type: ignore[no-any-return]


def constant_repr(value: Any) -> Optional[str]:  # pragma: no cover - debugging aid
    if isinstance(value, (Decimal, dt.date, dt.timedelta)):
        return repr(value)
    return None
