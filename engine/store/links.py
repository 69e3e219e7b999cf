"""Every link a write stores points at an existing record: one query per link field and write,
however many records the write holds. Errors name the place (``customer``,
``lines[2].product``; in a bulk write ``[3].customer``)."""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.definitions.model import FieldSpec, FormSpec
from engine.errors import ValidationError
from engine.field_errors import render
from engine.store.tables import FormTables


def check_links(conn: Connection, tables: FormTables, spec: FormSpec, rows: Sequence[Mapping[str, Any]],
                ctx: RunContext, *, indexed: bool) -> None:
    """Raise a :class:`ValidationError` naming each link of ``rows`` to no record; paths start
    with the row's index (``[3].``) when ``indexed``."""
    refs: dict[tuple[Optional[str], str], list[tuple[str, Any]]] = {}
    for i, values in enumerate(rows):
        prefix = f"[{i}]." if indexed else ""
        for f in spec.fields:
            value = values.get(f.name)
            if value is None:
                continue
            if f.type == "link":
                refs.setdefault((None, f.name), []).append((f"{prefix}{f.name}", value))
            elif f.type == "table":
                for child in f.fields:
                    if child.type == "link":
                        refs.setdefault((f.name, child.name), []).extend(
                            (f"{prefix}{f.name}[{n + 1}].{child.name}", line.get(child.name))
                            for n, line in enumerate(value) if line.get(child.name) is not None)
    errors: dict[str, list[str]] = {}
    for (table_field, name), found in refs.items():
        parent = spec.field(table_field) if table_field else None
        fspec = parent.child(name) if parent else spec.field(name)
        assert fspec is not None
        _missing(conn, tables, fspec, found, errors, ctx)
    if errors:
        raise ValidationError(errors)


def _missing(conn: Connection, tables: FormTables, f: FieldSpec, refs: list[tuple[str, Any]],
             errors: dict[str, list[str]], ctx: RunContext) -> None:
    if not refs or f.form is None:
        return
    target = tables.table(f.form)
    wanted = {v for _, v in refs}
    found = {i for (i,) in conn.execute(sa.select(target.c.id).where(target.c.id.in_(wanted)))}
    for path, value in refs:
        if value not in found:
            errors.setdefault(path, []).append(render("no_such_record", ctx.locale, id=value))
