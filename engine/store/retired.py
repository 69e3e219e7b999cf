"""Records as an older revision of their form sees them.

The tables are always those of the active revision. A record read for an older revision
keeps the fields that revision defines; a field (or sub-table, or sub-table column) that a
later revision removed, its column dropped, is taken from the record's journal: the latest
version snapshot that still holds it, which is what the record held under the older revision.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.definitions.model import FieldSpec, FormSpec
from engine.forms import FIELD_TYPES
from engine.store import system
from engine.store.serialize import SYSTEM_COLUMNS, parse_snapshot
from engine.store.tables import FormTables


def _stored(spec: FieldSpec) -> bool:
    return FIELD_TYPES[spec.type].stored and not spec.prop("live")


def retired(then: FormSpec, tables: FormTables) -> tuple[list[str], dict[str, list[str]]]:
    """What ``then`` stores that the tables no longer hold: its fields (whole sub-tables
    included), and by sub-table the columns of those the tables still have."""
    table = tables.table(then.name)
    children = tables.children_of(then.name)
    fields: list[str] = []
    columns: dict[str, list[str]] = {}
    for f in then.fields:
        if f.is_table:
            child = children.get(f.name)
            if child is None:
                fields.append(f.name)
                continue
            gone = [c.name for c in f.fields if _stored(c) and c.name not in child.c]
            if gone:
                columns[f.name] = gone
        elif _stored(f) and f.name not in table.c:
            fields.append(f.name)
    return fields, columns


def as_revision(
    conn: Connection, then: FormSpec, tables: FormTables, records: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """``records`` (read through ``tables``) with the fields of ``then``: those no longer
    stored filled from each record's journal, those ``then`` does not define left out."""
    names = set(SYSTEM_COLUMNS) | {f.name for f in then.fields}
    out = []
    for record in records:
        item = {k: v for k, v in record.items() if k in names}
        for f in then.fields:
            if f.is_table and isinstance(item.get(f.name), list):
                keep = {"id"} | {c.name for c in f.fields}
                item[f.name] = [{k: v for k, v in row.items() if k in keep} for row in item[f.name]]
        out.append(item)
    fields, columns = retired(then, tables)
    if out and (fields or columns):
        _fill(conn, then, out, fields, columns)
    return out


def _fill(
    conn: Connection, then: FormSpec, records: list[dict[str, Any]], fields: list[str], columns: Mapping[str, list[str]]
) -> None:
    v = system.record_versions
    by_id = {r["id"]: r for r in records}
    q = (
        sa.select(v.c.record_id, v.c.data)
        .where(v.c.form == then.name, v.c.record_id.in_(sorted(by_id)), v.c.deleted.is_(False))
        .order_by(v.c.record_id, v.c.version.desc())
    )
    wanted = {
        rid: {(None, name) for name in fields} | {(t, c) for t, cs in columns.items() for c in cs} for rid in by_id
    }
    for rid, data in conn.execute(q):
        todo = wanted[rid]
        if not todo:
            continue
        snap: Optional[dict[str, Any]] = None
        for table, name in sorted(todo, key=lambda k: (k[0] or "", k[1])):
            if snap is None:
                snap = parse_snapshot(then, data)
            if table is None:
                if name in data:
                    by_id[rid][name] = snap.get(name)
                    todo.discard((None, name))
            elif _fill_column(by_id[rid], table, name, data, snap):
                todo.discard((table, name))
    for rid, todo in wanted.items():
        for table, name in todo:  # never journalled: empty, as a new field would be
            if table is None:
                by_id[rid].setdefault(name, [] if _is_table(then, name) else None)
            else:
                for row in by_id[rid].get(table) or []:
                    row.setdefault(name, None)


def _fill_column(
    record: dict[str, Any], table: str, column: str, data: Mapping[str, Any], snap: Mapping[str, Any]
) -> bool:
    """Set ``column`` of the rows of ``table`` that this snapshot has it for; True when
    no row is left without it."""
    raw = {r.get("id"): r for r in data.get(table) or [] if isinstance(r, Mapping)}
    parsed = {r.get("id"): r for r in snap.get(table) or []}
    left = False
    for row in record.get(table) or []:
        if column in row:
            continue
        found = raw.get(row.get("id"))
        if found is not None and column in found:
            row[column] = parsed[row["id"]].get(column)
        else:
            left = True
    return not left


def _is_table(form: FormSpec, name: str) -> bool:
    f = form.field(name)
    return f is not None and f.is_table
