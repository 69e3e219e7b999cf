"""Set-based rule actions: ``delete <form> where ...`` and ``update <form> where ... set ...
[require ... else "..."]``. The update is one SQL statement (the guarded update is atomic under
concurrency: the requirement is part of its WHERE) and an ordinary write of every record it
changes: :meth:`RecordStore.update_where` validates, asks the write guards, recomputes the
stored formulas, journals and emits the events (see :mod:`engine.store.setwrite`)."""

from __future__ import annotations

from typing import Any, Mapping, Optional

import sqlalchemy as sa

from engine.expr import sql_dialect as sd
from engine.expr.sqlcompile import BindRow, SqlGen
from engine.expr.types import ExprType
from engine.forms.computations import is_computed
from engine.rules import syntax as sx
from engine.rules.compiler import Loop, RuleCompiler, SqlExpr, builder, map_children
from engine.rules.errors import RuleRefused
from engine.rules.spec import DELETED, UPDATED, Action, Write
from engine.rules.templates import template
from engine.store.setwrite import RequirementFailed


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
        ids = [
            r.id
            for r in st.conn.execute(
                sa.select(table.c.id).where(clause).params(_params(st, outer)).order_by(table.c.id)
            )
        ]
        for i in ids:
            st.store.delete(st.conn, st.ctx, target.name, i, writer=st.writer, depth=st.depth + 1)
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
        if info is not None and (spec_field is None or spec_field.is_table):
            cc.error(f"update can set scalar fields of {target.name} only, not '{name.text}'", name.position)
            continue
        if spec_field is not None and is_computed(spec_field):
            cc.error(
                f"update cannot set {target.name}.{spec_field.name}: it is computed",
                name.position,
                "the store computes it on every write; set the fields it is computed from",
            )
            continue
        expr = cc.sql_expr(e, target.name, form, loop)
        if info is not None and expr is not None:
            assigns.append((info.name, expr))
    require = cc.sql_expr(a["require"], target.name, form, loop, ExprType.BOOLEAN) if a["require"] else None
    message = a["message"]
    refused = template(cc, target.name, message, node.position, None)
    if where is None or (a["require"] and require is None):
        return None
    set_trees = {name: e.tree for name, e in assigns}
    after = _substitute(require.tree, set_trees) if require is not None else None

    def run(st: Any) -> str:
        table = st.store.tables.table(target.name)
        outer = BindRow()
        gen = SqlGen(st.store.tables, st.ctx, target.name)
        rows = (table, outer)
        match = gen.cond(where.tree, rows)
        values = {name: gen.value(tree, rows) for name, tree in set_trees.items()}
        requirement = gen.cond(after, rows) if after is not None else None
        try:  # an ordinary write of every matching record: guards, formulas, journal, events
            done = st.store.update_where(
                st.conn,
                st.ctx,
                target.name,
                match=match,
                assign=values,
                require=requirement,
                params=_params(st, outer),
                writer=st.writer,
                depth=st.depth + 1,
            )
        except RequirementFailed as exc:
            text = refused(exc.record) or str(exc)
            raise RuleRefused(text, st.rule.name, node.position) from None
        ids = [r["id"] for r in done]
        for i in ids:
            st.data.forget(target.name, i)
        return f"updated {len(ids)} {target.name}" + (f" ({', '.join(map(str, ids[:10]))})" if ids else "")

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
