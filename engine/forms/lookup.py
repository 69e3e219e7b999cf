"""Lookups: a value taken from a record of another form, chosen by a condition.

``lookup: {from: price_tier, where: "...", value: unit_price, order_by: "min_qty desc"}``
is compiled once: the condition is checked by the expression compiler as the ``where`` of
``exists(price_tier where ...)`` (inside it bare names are ``price_tier``'s fields and
``this.`` is the record being saved), translated to one SQL ``SELECT value ... ORDER BY ...
LIMIT 1`` by the SQL back end, and run inside the write transaction.

Parts of the condition that only read the record being saved (``this.qty``,
``this.parent.customer.tier``) are evaluated in Python first and bound as parameters, so
they see the values being written, not the stored ones.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, cast

import sqlalchemy as sa

from engine.errors import Position
from engine.expr import nodes as n
from engine.expr.compiled import CompiledExpr, compile_expression
from engine.expr.errors import ExprError
from engine.expr.scope import Scope
from engine.expr.sql_dialect import bind_value
from engine.expr.sqlcompile import BindRow, SqlGen, ctx_params
from engine.expr.types import ExprType


class Lookup:
    """A compiled ``lookup: {from, where, value, order_by}``; call it like an expression."""

    def __init__(
        self, spec: Mapping[str, Any], scope: Scope, positions: Mapping[str, Position], here: Position
    ) -> None:
        self.form = str(spec["from"])
        target = scope.other(self.form)
        if target is None:
            known = sorted(scope.forms or {})
            raise ExprError(
                f"lookup: unknown form '{self.form}'" + (f" (forms: {', '.join(known)})" if known else ""),
                _at(positions.get("lookup.from", here)),
            )
        self.target = target
        value = target.resolve(str(spec["value"]))
        if value is None or value.type in (ExprType.TABLE,):
            raise ExprError(
                f"lookup: '{spec['value']}' is not a field of {self.form}", _at(positions.get("lookup.value", here))
            )
        self.value_column = value.sql_column
        self.type = value.type
        self.order: list[tuple[str, bool]] = []
        for part in str(spec.get("order_by") or "").split(","):
            words = part.split()
            if not words:
                continue
            info = target.resolve(words[0])
            if info is None or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
                raise ExprError(
                    f"lookup: cannot order by '{part.strip()}' (write: <field of {self.form}> [asc|desc])",
                    _at(positions.get("lookup.order_by", here)),
                )
            self.order.append((info.sql_column, len(words) == 2 and words[1].lower() == "desc"))
        where = str(spec.get("where") or "true")
        pos = positions.get("lookup.where", here)
        # column offset: the user's text starts len("exists(<form> where ") characters later
        prefix = f"exists({self.form} where "
        probe = compile_expression(
            prefix + where + ")",
            scope,
            expect=ExprType.BOOLEAN,
            file=pos.file,
            line=pos.line,
            column=max(1, pos.column - len(prefix)),
        )
        agg = probe.tree
        assert isinstance(agg, n.Aggregate)
        self.names = frozenset(x[5:] for x in probe.names if x.startswith("this."))
        self.names |= frozenset(x for x in probe.names if not x.startswith(f"{self.form}."))
        self.outer: dict[str, CompiledExpr] = {}
        self.where = _split_outer(agg.where, self.outer, scope.form) if agg.where is not None else None
        self.scope_form = scope.form
        self._stmt: dict[int, tuple[Any, Any, BindRow]] = {}

    def statement(self, tables: Any) -> tuple[Any, BindRow]:
        entry = self._stmt.get(id(tables))
        if entry is None or entry[0] is not tables:
            inner = tables.table(self.form).alias()
            outer = BindRow()
            gen = SqlGen(tables, None, self.scope_form, bind_ctx=True)
            stmt = sa.select(inner.c[self.value_column])
            if self.where is not None:
                stmt = stmt.where(gen.cond(self.where, (inner, outer)))
            for column, desc in self.order:
                stmt = stmt.order_by(inner.c[column].desc() if desc else inner.c[column].asc())
            stmt = stmt.order_by(inner.c.id.asc()).limit(1)
            entry = (tables, stmt, outer)
            self._stmt[id(tables)] = entry
        return entry[1], entry[2]

    def evaluate(self, record: Mapping[str, Any], ctx: Any = None, *, old: Any = None, data: Any = None) -> Any:
        """The looked-up value, or None when no record matches."""
        if data is None:
            raise ExprError("a lookup needs data access: pass data=...")
        stmt, outer = self.statement(data.tables)
        params: dict[str, Any] = {}
        for key, t in outer.used.items():
            part = self.outer.get(key)
            value = part.evaluate(record, ctx, data=data) if part is not None else record.get(key)
            params[f"this_{key}"] = bind_value(value, t)
        if ctx is not None:
            params.update(ctx_params(ctx))
        return data.scalar(stmt.params(params))


def _at(pos: Position) -> Position:
    return pos


def _uses_inner(node: Any) -> bool:
    """True when ``node`` reads the looked-up form's row (depth 0) anywhere."""
    if isinstance(node, n.FieldRef):
        return node.depth == 0
    if isinstance(node, n.LinkRef):
        return node.base.depth == 0
    if isinstance(node, n.Aggregate):
        return True
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            items = value if isinstance(value, tuple) else (value,)
            if any(isinstance(i, n.Node) and _uses_inner(i) for i in items):
                return True
    return False


def _shift(node: Any) -> Any:
    """The same tree with outer references (depth 1) made the top row (depth 0)."""
    if isinstance(node, n.FieldRef):
        return dataclasses.replace(node, depth=node.depth - 1)
    if isinstance(node, n.LinkRef):
        return dataclasses.replace(node, base=_shift(node.base))
    if not dataclasses.is_dataclass(node):
        return node
    changes = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, n.Node):
            changes[f.name] = _shift(value)
        elif isinstance(value, tuple) and any(isinstance(i, n.Node) for i in value):
            changes[f.name] = tuple(_shift(i) if isinstance(i, n.Node) else i for i in value)
    return dataclasses.replace(cast(Any, node), **changes) if changes else node


def _split_outer(node: Any, out: dict[str, CompiledExpr], form: str) -> Any:
    """Replace each largest part that reads only the outer record by a bound parameter."""
    if not _uses_inner(node) and not isinstance(node, n.Literal) and _reads_outer(node):
        key = f"_o{len(out)}"
        out[key] = CompiledExpr(f"<lookup part {key}>", _shift(node), frozenset(), form)
        return n.FieldRef(key, key, 1, t=node.t, span=node.span)
    if not dataclasses.is_dataclass(node):
        return node
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, n.Node):
            changes[f.name] = _split_outer(value, out, form)
        elif isinstance(value, tuple) and any(isinstance(i, n.Node) for i in value):
            changes[f.name] = tuple(_split_outer(i, out, form) if isinstance(i, n.Node) else i for i in value)
    return dataclasses.replace(cast(Any, node), **changes) if changes else node


def _reads_outer(node: Any) -> bool:
    if isinstance(node, n.FieldRef):
        return node.depth >= 1
    if isinstance(node, n.LinkRef):
        return node.base.depth >= 1
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            items = value if isinstance(value, tuple) else (value,)
            if any(isinstance(i, n.Node) and _reads_outer(i) for i in items):
                return True
    return False
