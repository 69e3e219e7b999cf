"""Links in spreadsheets: a record is named by its id, a unique text field or its title.

Import resolves ``C001`` or ``宁波海曙精密五金有限公司`` to the customer's id; export writes the
value import reads back (the first unique text field, else the title, else the id). A user
field is named by the user name (``wang``), or the user's id.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.definitions.model import FormSpec
from engine.store.system import users
from engine.store.tables import FormTables

_TEXT = ("text", "email", "phone")
CACHE_LIMIT = 20000


def lookup_fields(form: FormSpec) -> list[str]:
    """Text fields that can name a record, best first: unique ones, then the title."""
    out = [f.name for f in form.fields if f.is_autonumber or (f.type in _TEXT and f.unique)]
    if form.title and form.title not in out:
        out.append(form.title)
    return out


def export_field(form: FormSpec) -> Optional[str]:
    """The field whose value names a record in an export (None: write the id)."""
    unique = [f.name for f in form.fields if f.is_autonumber or (f.type in _TEXT and f.unique)]
    return unique[0] if unique else form.title


class LinkResolver:
    """Resolves names to ids for one target form (or, without a form, users), with a bounded cache."""

    def __init__(self, form: Optional[FormSpec], tables: Optional[FormTables]) -> None:
        self.form = form
        if form is None or tables is None:
            self.table, self.fields = users, ["username"]
        else:
            self.table, self.fields = tables.table(form.name), lookup_fields(form)
        self.cache: dict[str, Any] = {}  # text -> id, or "ambiguous", or None (missing)

    def resolve(self, conn: Connection, values: Iterable[Any]) -> None:
        """Look up every value not cached yet, in one query per lookup field."""
        wanted = {str(v).strip() for v in values if v is not None and not isinstance(v, int)} - set(self.cache)
        if not wanted:
            return
        if len(self.cache) > CACHE_LIMIT:
            self.cache.clear()
        found: dict[str, set[int]] = {}
        for name in self.fields:
            todo = wanted - set(found)
            if not todo:
                break
            col = self.table.c[name]
            for rid, value in conn.execute(sa.select(self.table.c.id, col).where(col.in_(todo))):
                found.setdefault(str(value), set()).add(rid)
        for text in wanted:
            ids = found.get(text)
            if ids is None and text.isdigit():
                self.cache[text] = int(text)
            elif ids is None:
                self.cache[text] = None
            else:
                self.cache[text] = next(iter(ids)) if len(ids) == 1 else "ambiguous"

    def get(self, value: Any) -> Any:
        if value is None or isinstance(value, int):
            return value
        return self.cache.get(str(value).strip())


def names_for(conn: Connection, form: FormSpec, tables: FormTables, ids: Iterable[int]) -> dict[int, Any]:
    """id -> export value for the ids of one target form: its code, else its title, else the id."""
    ids = {i for i in ids if i is not None}
    names = list(dict.fromkeys(n for n in (export_field(form), form.title) if n))
    if not ids or not names:
        return {i: i for i in ids}
    table = tables.table(form.name)
    rows = conn.execute(sa.select(table.c.id, *(table.c[n] for n in names)).where(table.c.id.in_(ids)))
    return {row[0]: next((v for v in row[1:] if v not in (None, "")), row[0]) for row in rows}


def user_names(conn: Connection, ids: Iterable[int]) -> dict[int, Any]:
    """user id -> user name (the id itself for an unknown user)."""
    wanted = {i for i in ids if i is not None}
    found: dict[int, Any] = {}
    if wanted:
        found = {
            uid: name
            for uid, name in conn.execute(sa.select(users.c.id, users.c.username).where(users.c.id.in_(wanted)))
        }
    return {i: found.get(i, i) for i in wanted}
