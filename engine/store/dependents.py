"""Stored values that aggregate other forms' records, kept current when those records change.

A team's ``open_hours: rollup {of: task.hours, fn: sum, where: "team == this.id and status
!= 'done'"}`` is computed when the team is saved. It must also change when a task is
created, edited (its hours, status or team) or deleted: this module
finds, for each written record, which records of which forms hold such a value, and has the
store recompute them inside the same transaction (so they are never stale, and a failure
rolls the whole change back).

Which records: the aggregate's ``where`` is read for conjuncts ``<field> == this.<field>``
(either order). ``team == this.id`` means "the teams the task pointed to before and after
the change"; without such a conjunct every record of the form is recomputed. A change
that touches none of the fields the aggregate reads recomputes nothing. Records are
recomputed through :meth:`RecordStore.update` with no changes: it recomputes the record's
computed values, writes only what differs (version, audit trail with ``source: rollup``) and
emits its own event, so values built on values (a rollup over rollups) follow in turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.errors import Conflict
from engine.expr import nodes as n
from engine.store.events import RecordEvent
from engine.store.running import Running
from engine.store.writer import Writer

if TYPE_CHECKING:
    from engine.store.records import RecordStore

#: how deep recomputations may trigger each other before it is called a circle
MAX_DEPTH = 16


class RollupCircle(Conflict):
    """Values over other forms keep changing each other (a circle between definitions)."""


@dataclass(frozen=True)
class Watch:
    """Records of ``form`` hold ``field``, an aggregate over records of ``source``."""

    form: str
    field: str
    source: str
    reads: frozenset[str]  # fields of ``source`` the aggregate reads
    keys: tuple[tuple[str, str], ...]  # (field of source, field of form): equal when related


def watches(logics: Iterable[Any]) -> dict[str, list[Watch]]:
    """Watches by the form whose writes they follow, from each form's :class:`FormLogic`."""
    found: dict[str, list[Watch]] = {}
    for logic in logics:
        for comp in logic.computations:
            if comp.live or comp.copy or comp.table is not None or comp.tree is None:
                continue
            for agg in _form_aggregates(comp.tree):
                watch = Watch(logic.form.name, comp.name, agg.form, _reads(agg), _keys(agg.where))
                found.setdefault(agg.form, []).append(watch)
    return found


def _form_aggregates(node: Any) -> Iterator[n.Aggregate]:
    if isinstance(node, n.Aggregate) and node.kind == "form":
        yield node
        return
    for child in _children(node):
        yield from _form_aggregates(child)


def _children(node: Any) -> Iterator[Any]:
    if isinstance(node, n.Node):
        for value in node.__dict__.values():
            if isinstance(value, tuple):
                yield from (v for v in value if isinstance(v, n.Node))
            elif isinstance(value, n.Node):
                yield value


def _reads(agg: n.Aggregate) -> frozenset[str]:
    """Fields of the aggregated form read by the body and the filter (row depth 0)."""
    out: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, n.FieldRef):
            if node.depth == 0:
                out.add(node.name)
        elif isinstance(node, n.LinkRef):
            walk(node.base)
        elif isinstance(node, n.Aggregate):  # a sub-table of the aggregated form
            if node.kind == "child":
                out.add(node.source)
        else:
            for child in _children(node):
                walk(child)

    for part in (agg.body, agg.where):
        if part is not None:
            walk(part)
    return frozenset(out)


def _keys(where: Optional[n.Node]) -> tuple[tuple[str, str], ...]:
    """``(source field, field)`` of the conjuncts ``source_field == this.field`` of ``where``."""
    if isinstance(where, n.Logic) and where.op == "and":
        return _keys(where.left) + _keys(where.right)
    if isinstance(where, n.Compare) and where.op == "==":
        for inner, outer in ((where.left, where.right), (where.right, where.left)):
            if (
                isinstance(inner, n.FieldRef)
                and isinstance(outer, n.FieldRef)
                and inner.depth == 0
                and outer.depth == 1
            ):
                return ((inner.name, outer.name),)
    return ()


class Dependents:
    """EventBus handler: recompute the stored aggregates a written record feeds."""

    def __init__(self, platform: Running) -> None:
        self.platform = platform
        self._watches: Optional[dict[str, list[Watch]]] = None
        self._key: Any = None

    def watching(self, form: str) -> list[Watch]:
        # the definitions the writing store was built from (no reload check per event)
        defs = self.platform.current()
        if self._key is not defs:
            self._watches = watches(defs.logic(name) for name in defs.forms)
            self._key = defs
        assert self._watches is not None
        return self._watches.get(form, [])

    def __call__(self, conn: Connection, event: RecordEvent) -> None:
        found = self.watching(event.form)
        if not found:
            return
        if event.depth >= MAX_DEPTH:
            raise RollupCircle(
                f"values over other forms keep changing each other ({event.form} "
                f"{event.record_id}, {MAX_DEPTH} levels deep): check the rollups' definitions"
            )
        store = self.platform.current_store()
        targets: dict[str, set[int]] = {}
        for watch in found:
            if event.kind == "updated" and not (watch.reads & event.changed):
                continue
            targets.setdefault(watch.form, set()).update(self._related(conn, store, watch, event))
        for form, ids in targets.items():
            for record_id in sorted(ids):  # one order, so two writers lock alike

                def recompute(form: str = form, record_id: int = record_id) -> None:
                    if store.get(conn, form, record_id) is not None:
                        store.update(
                            conn,
                            event.ctx,
                            form,
                            record_id,
                            {},
                            writer=Writer.system(event.ctx, "rollup"),
                            depth=event.depth + 1,
                        )

                # in an import or batch: once per record at the end of the chunk, not per row
                if not store.bus.later(conn, ("rollup", form, record_id), recompute):
                    recompute()

    def _related(self, conn: Connection, store: "RecordStore", watch: Watch, event: RecordEvent) -> set[int]:
        """Ids of ``watch.form`` records whose aggregate may count the written record."""
        table = store.tables.table(watch.form)
        if not watch.keys:
            return set(conn.execute(sa.select(table.c.id)).scalars())
        before_after = [rec for rec in (event.old, event.new) if rec is not None]
        wanted: dict[str, set[Any]] = {
            field: {rec.get(source) for rec in before_after} - {None} for source, field in watch.keys
        }
        if not all(wanted.values()):
            return set()
        if list(wanted) == ["id"]:
            return {int(v) for v in wanted["id"]}
        clause = sa.and_(*(table.c[field].in_(sorted(values, key=str)) for field, values in wanted.items()))
        return set(conn.execute(sa.select(table.c.id).where(clause)).scalars())
