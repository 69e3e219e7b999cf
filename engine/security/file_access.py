"""Who may read a stored file: the same form, field and row permissions as the records.

A file is readable by its uploader, by a superuser, and by anyone who may read a record
(with the file's field or sub-table column not hidden from them) that holds the file.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.definitions.model import FieldSpec
from engine.forms.fieldtype import FIELD_TYPES

if TYPE_CHECKING:
    from engine.definitions.model import FormSpec
    from engine.security.policy import Policy
    from engine.store.tables import FormTables


class Readable(Protocol):
    """What the file check reads of compiled definitions (:class:`engine.runtime.Definitions`)."""

    @property
    def forms(self) -> Mapping[str, "FormSpec"]: ...

    @property
    def tables(self) -> "FormTables": ...

    @property
    def policy(self) -> "Policy": ...


def _holds(value: Any, file_id: int) -> bool:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return False
    if isinstance(value, list):
        return file_id in value
    return value == file_id


def _match(col: Any, spec: FieldSpec, file_id: int) -> Any:
    if isinstance(FIELD_TYPES[spec.type].column_type(spec), sa.JSON):
        return sa.cast(col, sa.Text).like(f"%{file_id}%")  # narrowed here, checked exactly below
    return col == file_id


def may_read_file(defs: Readable, ctx: RunContext, conn: Connection, row: Mapping[str, Any]) -> bool:
    """True when ``ctx`` may download the stored file ``row`` (an ``lc_file`` row)."""
    policy = defs.policy
    if policy.is_superuser(ctx) or (row.get("created_by") is not None and row["created_by"] == ctx.user_id):
        return True
    file_id = int(row["id"])
    for name, form in defs.forms.items():
        if not policy.can(ctx, name, "read"):
            continue
        hidden = policy.hidden(ctx, name)
        rows = policy.row_clause(ctx, name, "read")
        table = defs.tables.table(name)
        for spec in form.fields:
            if spec.name in hidden:
                continue
            if getattr(FIELD_TYPES[spec.type], "files", False):
                q = sa.select(table.c[spec.name]).where(_match(table.c[spec.name], spec, file_id))
                if rows is not None:
                    q = q.where(rows)
                if any(_holds(v, file_id) for (v,) in conn.execute(q.limit(50))):
                    return True
            elif spec.is_table:
                child = defs.tables.child_table(name, spec.name)
                for sub in spec.fields:
                    if f"{spec.name}.{sub.name}" in hidden or not getattr(FIELD_TYPES[sub.type], "files", False):
                        continue
                    q = sa.select(child.c[sub.name]).where(_match(child.c[sub.name], sub, file_id))
                    if rows is not None:
                        q = q.where(child.c.parent_id.in_(sa.select(table.c.id).where(rows)))
                    if any(_holds(v, file_id) for (v,) in conn.execute(q.limit(50))):
                        return True
    return False
