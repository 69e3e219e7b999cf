"""A set-based update: the stages of the one write pipeline (:mod:`engine.store.write`) for
every record a condition selects, with the change itself still one SQL statement.

``update material where id == :m set reserved = reserved + :qty require on_hand - reserved >= 0``
runs as:

1. one ``SELECT`` of the matching rows (locked on PostgreSQL; SQLite's writer holds its only
   write lock), with the values the assignments will give each row and whether the
   requirement holds after them; a row that breaks it raises :class:`RequirementFailed`;
2. for each row: **validate** the values it will get, the **write guards** (a
   :class:`~engine.store.writer.WriteRequest` with those values and the row before), and the
   form's **formulas**, conditions and checks on the row as it will be;
3. the **one** ``UPDATE ... SET reserved = reserved + :qty, version = version + 1 WHERE <match>
   AND <requirement after> RETURNING id`` (atomic: the requirement is part of its WHERE);
4. **one** follow-up ``UPDATE`` (``executemany``) writing the stored formula columns that
   changed (``available = on_hand - reserved``) over the returned ids;
5. the **journal** (one ``executemany`` each for the audit rows and the versions) and one
   **event** per record (rules, stored aggregates of other forms, timers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.errors import Conflict
from engine.store.journal import Entry, changes_between, journal
from engine.store.recent import forget
from engine.store.serialize import json_value
from engine.store.write import admit, emit, split, write_children
from engine.store.writer import Writer, same_rows

if TYPE_CHECKING:
    from engine.store.records import Clause, RecordStore

_CHUNK = 500  # ids per IN (...) when reading the written rows back


class RequirementFailed(Conflict):
    """A row would break the update's requirement; ``record`` is that row as it stands."""

    def __init__(self, message: str, record: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.record = record


def update_where(
    store: "RecordStore",
    conn: Connection,
    ctx: RunContext,
    form: str,
    *,
    match: sa.ColumnElement[bool],
    assign: Mapping[str, sa.ColumnElement[Any]],
    require: "Clause",
    params: Mapping[str, Any],
    writer: Writer,
    depth: int = 0,
) -> list[dict[str, Any]]:
    """Give every ``form`` record that ``match`` selects the SQL values ``assign`` (by field
    name), ``require`` checked on the values after the update; the records as written."""
    spec = store.form(form)
    table = store.tables.table(form)
    labels = {name: f"lc_set_{i}" for i, name in enumerate(assign)}
    extra: list[Any] = [expr.label(labels[name]) for name, expr in assign.items()]
    if require is not None:
        extra.append(require.label("lc_required"))
    sel = sa.select(table, *extra).where(match).order_by(table.c.id)
    if conn.dialect.name == "postgresql":
        sel = sel.with_for_update(of=table)
    found = list(conn.execute(sel.params(params) if params else sel).mappings())
    if not found:
        return []
    olds = [{c.name: row[c.name] for c in table.columns} for row in found]
    if require is not None:
        for row, old in zip(found, olds):
            if not row["lc_required"]:
                raise RequirementFailed(f"{form} {old['id']}: the update would break its requirement", old)
    store.attach_children(conn, form, olds)
    followups: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}  # id -> (what changed, all values)
    for row, old in zip(found, olds):
        given = {name: json_value(row[labels[name]]) for name in assign}
        clean = admit(store, conn, ctx, form, given, action="update", writer=writer, old=old)
        prepared = store.prepare(conn, ctx, form, clean, old)
        later = {
            k: v for k, v in prepared.items() if k not in assign and old.get(k) != v and not same_rows(old.get(k), v)
        }
        if later:
            followups[old["id"]] = (later, prepared)
    now = ctx.now()
    values: dict[Any, Any] = {table.c[name]: expr for name, expr in assign.items()}
    values.update({table.c.version: table.c.version + 1, table.c.updated_at: now, table.c.updated_by: ctx.user_id})
    condition = match if require is None else sa.and_(match, require)
    stmt = table.update().where(condition).values(values).returning(table.c.id)
    done = sorted(r.id for r in (conn.execute(stmt, dict(params)) if params else conn.execute(stmt)))
    forget(conn, form)  # the statement changed rows the transaction may have kept
    if done != [old["id"] for old in olds]:
        missing = next(old for old in olds if old["id"] not in set(done))
        raise RequirementFailed(f"{form} {missing['id']}: the update would break its requirement", missing)
    _write_followups(store, conn, form, followups)
    news = _read(store, conn, form, done)
    by_id = {old["id"]: old for old in olds}
    entries = [Entry("update", new, changes_between(spec, by_id[new["id"]], new)) for new in news]
    journal(conn, ctx, spec, entries, now, writer.source)
    with store.bus.deferring(conn):
        for entry in entries:
            rid = entry.record["id"]
            emit(store, conn, ctx, "updated", form, rid, entry.record, by_id[rid], entry.changes, writer, depth)
    return news


def _write_followups(
    store: "RecordStore",
    conn: Connection,
    form: str,
    followups: Mapping[int, tuple[Mapping[str, Any], Mapping[str, Any]]],
) -> None:
    """The columns the formulas changed (and, rarely, sub-table rows a row formula over the
    record changed): one statement over all records for the columns."""
    if not followups:
        return
    spec = store.form(form)
    table = store.tables.table(form)
    columns: set[str] = set()
    for record_id, (later, _) in followups.items():
        scalars, children = split(spec, later)
        columns.update(scalars)
        if children:
            write_children(store, conn, form, record_id, children, replace=True)
    if not columns:
        return
    names = sorted(columns)
    stmt = (
        table.update()
        .where(table.c.id == sa.bindparam("lc_id"))
        .values({table.c[n]: sa.bindparam(f"lc_v_{n}") for n in names})
    )
    conn.execute(
        stmt,
        [
            {"lc_id": record_id, **{f"lc_v_{n}": values.get(n) for n in names}}
            for record_id, (later, values) in followups.items()
            if columns & later.keys()
        ],
    )


def _read(store: "RecordStore", conn: Connection, form: str, ids: list[int]) -> list[dict[str, Any]]:
    """The records ``ids`` as written, in that order (a few hundred ids per query)."""
    table = store.tables.table(form)
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), _CHUNK):
        part = ids[start : start + _CHUNK]
        rows, _ = store.select(conn, form, where=table.c.id.in_(part), limit=None, with_total=False)
        out.extend(rows)
    return out
