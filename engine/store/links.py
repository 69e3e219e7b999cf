"""Every link a write stores points at an existing record: one query per link field and write,
however many records the write holds (none for the records the transaction knows already, see
:func:`read_links`). Errors name the place (``customer``, ``lines[2].product``; in a bulk
write ``[3].customer``)."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.definitions.model import FieldSpec, FormSpec
from engine.errors import ValidationError
from engine.field_errors import render
from engine.store.recent import exists, remember
from engine.store.statements import select_by_ids
from engine.store.tables import FormTables


def link_refs(
    spec: FormSpec, rows: Sequence[Mapping[str, Any]], *, indexed: bool
) -> dict[tuple[Optional[str], str], list[tuple[str, Any]]]:
    """The links ``rows`` store, by (sub-table or None, field): each with its place and value."""
    refs: dict[tuple[Optional[str], str], list[tuple[str, Any]]] = {}
    for i, values in enumerate(rows):
        prefix = f"[{i}]." if indexed else ""
        for f in spec.fields:
            value = values.get(f.name)
            if value is None:
                continue
            if f.is_link:
                refs.setdefault((None, f.name), []).append((f"{prefix}{f.name}", value))
            elif f.is_table:
                for child in f.fields:
                    if child.is_link:
                        refs.setdefault((f.name, child.name), []).extend(
                            (f"{prefix}{f.name}[{n + 1}].{child.name}", line.get(child.name))
                            for n, line in enumerate(value)
                            if line.get(child.name) is not None
                        )
    return refs


def _field(spec: FormSpec, table_field: Optional[str], name: str) -> FieldSpec:
    parent = spec.field(table_field) if table_field else None
    fspec = parent.child(name) if parent else spec.field(name)
    assert fspec is not None
    return fspec


def read_links(conn: Connection, tables: FormTables, spec: FormSpec, rows: Sequence[Mapping[str, Any]]) -> None:
    """Read the records ``rows`` link to, one query per linked form, and keep them for the rest of
    the transaction (:mod:`engine.store.recent`): the formulas' lookups, the link check and the
    rules then find them there. A linked form with sub-tables is left to be read when asked for."""
    wanted: dict[str, set[Any]] = {}
    for (table_field, name), found in link_refs(spec, rows, indexed=False).items():
        target = _field(spec, table_field, name).form
        if target is not None and not tables.children_of(target):
            wanted.setdefault(target, set()).update(v for _, v in found if type(v) is int)
    for form, ids in wanted.items():
        unknown = [i for i in sorted(ids) if exists(conn, form, i) is None]
        if not unknown:
            continue
        table = tables.table(form)
        for row in conn.execute(select_by_ids(table), {"ids": unknown}).mappings():
            remember(conn, form, row["id"], dict(row))
        for i in unknown:
            if exists(conn, form, i) is None:
                remember(conn, form, i, None)


def check_links(
    conn: Connection,
    tables: FormTables,
    spec: FormSpec,
    rows: Sequence[Mapping[str, Any]],
    ctx: RunContext,
    *,
    indexed: bool,
) -> None:
    """Raise a :class:`ValidationError` naming each link of ``rows`` to no record; paths start
    with the row's index (``[3].``) when ``indexed``."""
    errors: dict[str, list[str]] = {}
    for (table_field, name), found in link_refs(spec, rows, indexed=indexed).items():
        _missing(conn, tables, _field(spec, table_field, name), found, errors, ctx)
    if errors:
        raise ValidationError(errors)


def _missing(
    conn: Connection,
    tables: FormTables,
    f: FieldSpec,
    refs: list[tuple[str, Any]],
    errors: dict[str, list[str]],
    ctx: RunContext,
) -> None:
    if not refs or f.form is None:
        return
    target = tables.table(f.form)
    found: set[Any] = set()
    wanted: set[Any] = set()
    for _, value in refs:
        there = exists(conn, f.form, value) if type(value) is int else None
        if there is None:
            wanted.add(value)
        elif there:
            found.add(value)
    if wanted:
        found.update(i for (i,) in conn.execute(sa.select(target.c.id).where(target.c.id.in_(wanted))))
    for path, value in refs:
        if value not in found:
            errors.setdefault(path, []).append(render("no_such_record", ctx.locale, id=value))
