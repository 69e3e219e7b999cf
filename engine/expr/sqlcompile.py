"""Checked AST -> SQLAlchemy Core expression (a WHERE clause, or a value to SELECT).

Tables come only from ``SqlTables``; every dialect difference lives in ``sql_dialect``.
Two-valued logic: every condition is wrapped so that a comparison with NULL is FALSE,
exactly as in the Python back end.
"""

from __future__ import annotations

import operator
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.sql.expression import ColumnElement

from engine.expr import functions as fx
from engine.expr import nodes as n
from engine.expr import runtime as rt
from engine.expr import sql_dialect as sd
from engine.expr.errors import ExprError
from engine.expr.pycompile import is_strict_bool
from engine.expr.types import ExprType as T

NUMERIC = (T.INTEGER, T.DECIMAL, T.FLOAT, T.DURATION)
_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul}


class BindRow:
    """The outer record as bound parameters (the Python back end runs form aggregates in SQL)."""

    def __init__(self) -> None:
        self.used: dict[str, T] = {}

    def column(self, name: str, t: T) -> ColumnElement[Any]:
        self.used[name] = t
        return sa.bindparam(f"this_{name}", None, type_=sd.bind_type(t))


class SqlGen:
    """One translation. ``bind_ctx``: the run context as parameters instead of literals."""

    def __init__(self, tables: Any, ctx: Any, root_form: str, *, bind_ctx: bool = False) -> None:
        self.tables, self.ctx, self.root_form, self.bind_ctx = tables, ctx, root_form, bind_ctx

    # ------------------------------------------------------------ entry points
    def cond(self, node: n.Node, rows: Sequence[Any]) -> ColumnElement[Any]:
        value = self.value(node, rows)
        if is_strict_bool(node):
            return value
        return sa.func.coalesce(value, sa.false())

    def value(self, node: n.Node, rows: Sequence[Any]) -> ColumnElement[Any]:
        return getattr(self, "s_" + type(node).__name__)(node, rows)  # type: ignore[no-any-return]

    def _no(self, node: n.Node, what: str) -> ExprError:
        return ExprError(f"{what} cannot be used in a database filter")

    # ------------------------------------------------------------ leaves
    def s_Literal(self, node: n.Literal, rows: Sequence[Any]) -> ColumnElement[Any]:
        return sd.literal(node.value, node.t)

    def s_ListLit(self, node: n.ListLit, rows: Sequence[Any]) -> ColumnElement[Any]:
        raise self._no(node, "a list value")

    def s_FieldRef(self, node: n.FieldRef, rows: Sequence[Any]) -> ColumnElement[Any]:
        row = rows[node.depth]
        if isinstance(row, BindRow):
            return row.column(node.name, node.t)
        return row.c[node.column]  # type: ignore[no-any-return]

    def s_OldRef(self, node: n.OldRef, rows: Sequence[Any]) -> ColumnElement[Any]:
        raise self._no(node, "old.<field>")

    def ctx_value(self, name: str, t: T) -> ColumnElement[Any]:
        if self.bind_ctx:
            return sa.bindparam("ctx_" + name.replace(".", "_"), None, type_=sd.bind_type(t))
        return sd.literal(ctx_values(self.ctx)[name], t)

    def s_ContextRef(self, node: n.ContextRef, rows: Sequence[Any]) -> ColumnElement[Any]:
        if node.name == "my.roles":
            raise self._no(node, "my.roles as a value (use: x in my.roles)")
        return self.ctx_value(node.name, node.t)

    def s_LinkRef(self, node: n.LinkRef, rows: Sequence[Any]) -> ColumnElement[Any]:
        ident = self.value(node.base, rows)
        form = node.first_form
        for _field, column, target in node.hops:
            t = self.tables.table(form).alias()
            ident = sa.select(t.c[column]).where(t.c.id == ident).correlate_except(t).scalar_subquery()
            form = target
        t = self.tables.table(form).alias()
        return sa.select(t.c[node.column]).where(t.c.id == ident).correlate_except(t).scalar_subquery()

    # ------------------------------------------------------------ operators
    def s_Unary(self, node: n.Unary, rows: Sequence[Any]) -> ColumnElement[Any]:
        if node.op == "not":
            return sa.not_(self.cond(node.operand, rows))
        return -self.value(node.operand, rows)

    def s_Logic(self, node: n.Logic, rows: Sequence[Any]) -> ColumnElement[Any]:
        join = sa.and_ if node.op == "and" else sa.or_
        return join(self.cond(node.left, rows), self.cond(node.right, rows))

    def s_Arith(self, node: n.Arith, rows: Sequence[Any]) -> ColumnElement[Any]:
        lt, rtt, op = node.left.t, node.right.t, node.op
        if T.NULL in (lt, rtt):
            return sa.null()
        a, b = self.value(node.left, rows), self.value(node.right, rows)
        if op == "/":
            return sd.Div(a, b)
        if op == "%":
            return sd.Mod(a, b)
        if T.DURATION in (lt, rtt) and ({lt, rtt} & {T.DATE, T.DATETIME}):
            d, delta, dt_type = (a, b, lt) if rtt == T.DURATION else (b, a, rtt)
            if op == "-":
                delta = -delta
            return sd.DateAdd(d, delta) if dt_type == T.DATE else sd.DateTimeAdd(d, delta)
        if lt == T.DATE and rtt == T.DATE:
            return sd.DateDiff(a, b)
        if lt == T.DATETIME and rtt == T.DATETIME:
            return sd.DateTimeDiff(a, b)
        if lt == T.STRING:
            return a.op("||")(b)
        return _OPS[op](a, b)  # standard operators: a + b + c renders without nested parentheses

    def _comparable(self, node: n.Node, other: n.Node, expr: Any, ordering: bool) -> Any:
        types = {node.t, other.t}
        if T.DATETIME in types:
            return sd.DtValue(expr)
        if types & {T.DECIMAL, T.FLOAT, T.DURATION}:
            return sd.DecCmp(expr)
        if ordering and T.STRING in types:
            return sd.StrOrder(expr)
        return expr

    def _empty(self, node: n.Node, rows: Sequence[Any]) -> ColumnElement[Any]:
        v = self.value(node, rows)
        if node.t == T.STRING:
            return sa.or_(v.is_(None), v == sa.literal("", sa.String()))
        if node.t == T.LIST:
            return sa.or_(v.is_(None), sd.ListLen(v) == 0)
        return v.is_(None)

    def s_IsEmpty(self, node: n.IsEmpty, rows: Sequence[Any]) -> ColumnElement[Any]:
        e = self._empty(node.value, rows)
        return sa.not_(e) if node.negated else e

    def s_Compare(self, node: n.Compare, rows: Sequence[Any]) -> ColumnElement[Any]:
        op, left, right = node.op, node.left, node.right
        raw: Any
        null_left = isinstance(left, n.Literal) and left.value is None
        if op in ("==", "!=") and (null_left or (isinstance(right, n.Literal) and right.value is None)):
            e = self._empty(right if null_left else left, rows)
            return e if op == "==" else sa.not_(e)
        if op == "contains" and isinstance(left, n.ContextRef):  # my.roles contains "x"
            return self.s_Compare(n.Compare("in", right, left, t=T.BOOLEAN), rows)
        if op in ("!=", "not in"):
            pos = n.Compare("==" if op == "!=" else "in", left, right, t=T.BOOLEAN)
            return sa.not_(self.s_Compare(pos, rows))
        if op == "in":
            a = self.value(left, rows)
            if isinstance(right, n.ListLit):
                if not any(isinstance(i, n.Literal) and i.value is not None for i in right.items):
                    return sa.false()
                items = [i for i in right.items if isinstance(i, n.Literal) and i.value is not None]
                joint = next((i for i in items if i.t in (T.DECIMAL, T.FLOAT, T.DATETIME)), items[0])
                raw = self._comparable(left, joint, a, False).in_(
                    [self._comparable(i, left, sd.literal(i.value, i.t), False) for i in items]
                )
            elif isinstance(right, n.ContextRef):
                roles = sorted(ctx_values(self.ctx)["my.roles"]) if not self.bind_ctx else None
                if roles is None:
                    raw = a.in_(sa.bindparam("ctx_my_roles", expanding=True))
                else:
                    raw = a.in_(roles) if roles else sa.false()
            else:
                raw = sd.ListContains(self.value(right, rows), a)
            return sa.func.coalesce(raw, sa.false())
        a, b = self.value(left, rows), self.value(right, rows)
        if op == "contains":
            raw = sd.ListContains(a, b) if left.t == T.LIST else sd.StrContains(a, b) > 0
        elif op == "startswith":
            raw = sa.func.substr(a, 1, sa.func.length(b)) == b
        elif op == "endswith":
            raw = sa.and_(
                sa.func.length(a) >= sa.func.length(b),
                sa.func.substr(a, sa.func.length(a) - sa.func.length(b) + 1) == b,
            )
        else:
            ordering = op not in ("==",)
            a2, b2 = self._comparable(left, right, a, ordering), self._comparable(right, left, b, ordering)
            raw = a2.op(op if op != "==" else "=", is_comparison=True)(b2)
        return sa.func.coalesce(raw, sa.false())

    def s_Between(self, node: n.Between, rows: Sequence[Any]) -> ColumnElement[Any]:
        v = self.value(node.value, rows)
        lo, hi = self.value(node.low, rows), self.value(node.high, rows)
        vl = self._comparable(node.value, node.low, v, True)
        vh = self._comparable(node.value, node.high, v, True)
        lo = self._comparable(node.low, node.value, lo, True)
        hi = self._comparable(node.high, node.value, hi, True)
        return sa.func.coalesce(sa.and_(lo <= vl, vh <= hi), sa.false())

    # ------------------------------------------------------------ calls
    def s_Call(self, node: n.Call, rows: Sequence[Any]) -> ColumnElement[Any]:
        name, args = node.name, node.args
        if name == "if":
            return sa.case((self.cond(args[0], rows), self.value(args[1], rows)), else_=self.value(args[2], rows))
        if name == "changed":
            raise self._no(node, "changed()")
        if name in ("now", "today"):
            return self.ctx_value(name, node.t)
        fn = fx.lookup(name)
        assert fn is not None and fn.sql is not None
        return fn.sql(sd.DIALECT, [self.value(a, rows) for a in args], [a.t for a in args])  # type: ignore[no-any-return]

    def aggregate_select(self, node: n.Aggregate, rows: Sequence[Any]) -> Any:
        """``SELECT agg(...) FROM inner WHERE ...`` (not yet a scalar subquery)."""
        if node.kind == "child":
            inner = self.tables.child_table(self.root_form, node.source).alias()
            outer = rows[0]
            parent = outer.column("id", T.INTEGER) if isinstance(outer, BindRow) else outer.c.id
            conds: list[Any] = [inner.c.parent_id == parent]
        else:
            inner = self.tables.table(node.form).alias()
            conds = []
        irows = (inner, *rows)
        if node.where is not None:
            conds.append(self.cond(node.where, irows))
        if node.func == "exists":
            return sa.select(sa.exists().where(*conds).correlate_except(inner))
        body = self.value(node.body, irows) if node.body is not None else None
        agg: Any
        if node.func == "count":
            agg = sa.func.count() if body is None else sa.func.count(body)
        elif node.func == "sum":
            agg = sa.func.coalesce(sa.func.sum(body), 0)
        else:
            agg = getattr(sa.func, node.func)(body)
        if node.t in (T.DECIMAL, T.FLOAT):
            agg = sa.type_coerce(agg, sd.ExprDecimal())
        return sa.select(agg).select_from(inner).where(*conds).correlate_except(inner)

    def s_Aggregate(self, node: n.Aggregate, rows: Sequence[Any]) -> ColumnElement[Any]:
        stmt = self.aggregate_select(node, rows)
        if node.func == "exists":
            return stmt.selected_columns[0]  # type: ignore[no-any-return]
        return stmt.scalar_subquery()  # type: ignore[no-any-return]


def ctx_values(ctx: Any) -> dict[str, Any]:
    """The values of me, my.*, now() and today() for one run context."""
    if ctx is None:
        raise ExprError("this expression needs a run context (ctx)")
    return {
        "me": ctx.user_id,
        "my.id": ctx.user_id,
        "my.customer": ctx.customer_id,
        "my.username": ctx.username,
        "my.roles": ctx.roles,
        "now": ctx.now(),
        "today": rt.today(ctx),
    }


def ctx_params(ctx: Any) -> dict[str, Any]:
    vals = ctx_values(ctx)
    out = {"ctx_" + k.replace(".", "_"): v for k, v in vals.items()}
    out["ctx_my_roles"] = sorted(vals["my.roles"])
    return out


def to_sql(tree: n.Node, tables: Any, ctx: Any, form: str) -> ColumnElement[Any]:
    """A WHERE clause (boolean expressions) or a value for ``tables.table(form)``."""
    gen = SqlGen(tables, ctx, form)
    rows = (tables.table(form),)
    if tree.t == T.BOOLEAN:
        return gen.cond(tree, rows)
    value = gen.value(tree, rows)
    rtype = sd.result_type(tree.t)
    return value if rtype is None else sa.type_coerce(value, rtype)


class FormAggregate:
    """Runs ``count(other_form where ...)`` for the Python back end through ``data.scalar``."""

    def __init__(self, node: n.Aggregate, root_form: str) -> None:
        self.node, self.root_form = node, root_form
        self._cache: dict[int, tuple[Any, Any, BindRow]] = {}

    def statement(self, tables: Any) -> tuple[Any, BindRow]:
        entry = self._cache.get(id(tables))
        if entry is None or entry[0] is not tables:
            outer = BindRow()
            stmt = SqlGen(tables, None, self.root_form, bind_ctx=True).aggregate_select(self.node, (outer,))
            entry = (tables, stmt, outer)
            self._cache[id(tables)] = entry
        return entry[1], entry[2]

    def __call__(self, record: Any, ctx: Any, data: Any) -> Any:
        data = rt.need_data(data, f"{self.node.func}({self.node.form} ...)")
        stmt, outer = self.statement(data.tables)
        params = {f"this_{k}": sd.bind_value(record.get(k), t) for k, t in outer.used.items()}
        if ctx is not None:
            params.update(ctx_params(ctx))
        value = data.scalar(stmt.params(params))
        if self.node.func == "exists":
            return bool(value)
        if value is None and self.node.func in ("count", "sum"):
            value = 0
        if self.node.t == T.DECIMAL and value is not None:
            from decimal import Decimal

            value = value if isinstance(value, Decimal) else Decimal(str(value))
        return value
