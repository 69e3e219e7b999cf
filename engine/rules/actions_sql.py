"""Set-based rule actions: ``delete <form> where ...`` and ``update <form> where ... set ...
[require ... else "..."]``, each one SQL statement (the guarded update is atomic under
concurrency: the requirement is part of its WHERE)."""
from __future__ import annotations

from typing import Any, Mapping, Optional

import sqlalchemy as sa

from engine.expr import sql_dialect as sd
from engine.expr.sqlcompile import BindRow, SqlGen
from engine.expr.types import ExprType
from engine.rules import syntax as sx
from engine.rules.actions import _template, builder
from engine.rules.compiler import Loop, RuleCompiler, SqlExpr, map_children
from engine.rules.errors import RuleRefused
from engine.rules.spec import DELETED, UPDATED, Action, Write
from engine.store.events import RecordEvent


def _params(st: Any, outer: BindRow) -> dict[str, Any]:
    values = st.values()
    return {f"this_{k}": sd.bind_value(values.get(k), t) for k, t in outer.used.items()}


@builder("delete_where")
def _delete_where(cc: RuleCompiler, node: sx.ActionNode, form: str, loop: Optional[Loop]) -> Optional[Action]:
    target = cc.form(node.args["form"])
    if target is None:
        return None
    where = cc.sql_expr(node.args["where"], target.name, form, loop, ExprType.BOOLEAN)

    def run(st: Any) -> str:
        assert where is not None
        table = st.store.tables.table(target.name)
        outer = BindRow()
        clause = SqlGen(st.store.tables, st.ctx, target.name).cond(where.tree, (table, outer))
        ids = [r.id for r in st.conn.execute(sa.select(table.c.id).where(clause).params(_params(st, outer))
                                             .order_by(table.c.id))]
        for i in ids:
            st.store.delete(st.conn, st.ctx, target.name, i, source="rule", depth=st.depth + 1)
        return f"deleted {len(ids)} {target.name}" + (f" ({', '.join(map(str, ids[:10]))})" if ids else "")
    return Action("delete", node.position, run, effects=(Write(target.name, DELETED),))


# ---- update ... where ... set ... [require ... else "..."] ----------------------------------
@builder("update")
def _update(cc: RuleCompiler, node: sx.ActionNode, form: str, loop: Optional[Loop]) -> Optional[Action]:
    a = node.args
    target = cc.form(a["form"])
    if target is None:
        return None
    tscope = cc.scope(target.name)
    where = cc.sql_expr(a["where"], target.name, form, loop, ExprType.BOOLEAN)
    assigns: list[tuple[str, SqlExpr]] = []
    for name, e in a["assigns"]:
        info = cc.field(tscope, name)
        spec_field = target.field(info.name) if info is not None else None
        if info is not None and (spec_field is None or spec_field.type == "table"):
            cc.error(f"update can set scalar fields of {target.name} only, not '{name.text}'", name.position)
            continue
        expr = cc.sql_expr(e, target.name, form, loop)
        if info is not None and expr is not None:
            assigns.append((info.name, expr))
    require = cc.sql_expr(a["require"], target.name, form, loop, ExprType.BOOLEAN) if a["require"] else None
    message = a["message"]
    refused = _template(cc, target.name, message, node.position, None)
    if where is None or (a["require"] and require is None):
        return None
    set_trees = {name: e.tree for name, e in assigns}
    after = _substitute(require.tree, set_trees) if require is not None else None

    def run(st: Any) -> str:
        store, conn = st.store, st.conn
        tables = store.tables
        table = tables.table(target.name)
        outer = BindRow()
        gen = SqlGen(tables, st.ctx, target.name)
        rows = (table, outer)
        match = gen.cond(where.tree, rows)
        values = {table.c[tscope.fields[name].sql_column]: gen.value(tree, rows) for name, tree in set_trees.items()}
        now = st.ctx.now()
        values.update({table.c.version: table.c.version + 1, table.c.updated_at: now,
                       table.c.updated_by: st.ctx.user_id})
        params = lambda: _params(st, outer)  # noqa: E731 - BindRow learns names while compiling
        condition = match if after is None else sa.and_(match, gen.cond(after, rows))
        sel = sa.select(table).where(match)
        if conn.dialect.name == "postgresql":
            sel = sel.with_for_update()
        stmt = table.update().where(condition).values(values).returning(table.c.id)
        p = params()
        olds = {r["id"]: dict(r) for r in conn.execute(sel.params(p) if p else sel).mappings()}
        done = [r.id for r in conn.execute(stmt, p)] if p else [r.id for r in conn.execute(stmt)]
        if require is not None and len(done) < len(olds):
            bad = next(i for i in olds if i not in set(done))
            current = store.get(conn, target.name, bad) or olds[bad]
            text = refused(current) or f"{target.name} {bad}: the update would break its requirement"
            raise RuleRefused(text, st.rule.name, node.position)
        spec = store.form(target.name)
        for i in done:
            new = store.get(conn, target.name, i)
            old = olds.get(i)
            if new is None or old is None:
                continue
            before, after_ = store._dumped(spec, old), store._dumped(spec, new)
            diff = {f: [before[f], after_[f]] for f in before if before[f] != after_[f]}
            store._journal(conn, st.ctx, spec, new, "update", diff, "rule", now)
            st.data.forget(target.name, i)
            store.bus.emit(conn, RecordEvent("updated", target.name, i, st.ctx, new, old,
                                             frozenset(diff), "rule", st.depth + 1))
        return f"updated {len(done)} {target.name}" + (f" ({', '.join(map(str, done[:10]))})" if done else "")
    return Action("update", node.position, run, effects=(Write(target.name, UPDATED, frozenset(set_trees)),))


def _substitute(tree: Any, set_trees: Mapping[str, Any]) -> Any:
    """The requirement as it reads after the update: assigned fields replaced by their new value."""
    from engine.expr import nodes as n
    if isinstance(tree, n.FieldRef) and tree.depth == 0 and tree.name in set_trees:
        return set_trees[tree.name]
    if isinstance(tree, n.Aggregate):
        return tree
    return map_children(tree, lambda c: _substitute(c, set_trees))


# ---- start flow, flag, webhook, plugin, for ----------------------------------------------
