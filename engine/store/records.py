"""Reading and writing records: one transaction holds the row, its child rows, the audit
entry, the version snapshot and the events. Optimistic locking by a version number.

Every write goes through the one pipeline of :mod:`engine.store.write` (validate, write
guards, formulas, rows, journal, events); :class:`RecordStore`'s write methods are its entry."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.definitions.model import FormSpec
from engine.errors import NotFound
from engine.forms.validate import FormValidator
from engine.store import system, write
from engine.store.events import EventBus
from engine.store.recent import known, remember
from engine.store.tables import FormTables
from engine.store.write import Checked
from engine.store.writer import Writer

Clause = Optional[sa.ColumnElement[bool]]
NumberSource = Callable[[Connection, str, str, dt.datetime, str], str]


class RecordStore:
    """Records of every installed form. Stateless beyond the compiled definitions."""

    def __init__(
        self,
        forms: Mapping[str, FormSpec],
        tables: FormTables,
        bus: EventBus,
        numbers: NumberSource,
        timezone: str = "Asia/Shanghai",
        *,
        validators: Mapping[str, FormValidator],
        logic: Optional[Callable[[str], Any]] = None,
    ) -> None:
        self.forms = forms
        self.tables = tables
        self.validators = validators
        self.bus = bus
        self.numbers = numbers
        self.timezone = timezone
        self._compiled = logic  # the compiled definitions' FormLogic by form (Definitions.logic)
        self._logic: dict[str, Any] = {}
        self._scopes: Optional[Mapping[str, Any]] = None

    def form(self, name: str) -> FormSpec:
        spec = self.forms.get(name)
        if spec is None:
            raise NotFound(f"no form named '{name}'")
        return spec

    def logic(self, form: str) -> Any:
        """The form engine's write-time logic of ``form`` (conditions, computed values, checks)."""
        if self._compiled is not None:
            self.form(form)
            return self._compiled(form)
        found = self._logic.get(form)
        if found is None:
            from engine.definitions.scopes import scopes_for
            from engine.forms.computations import new_version
            from engine.forms.compute import FormLogic

            if self._scopes is None:
                self._scopes = scopes_for(self.forms.values(), new_version())
            found = self._logic[form] = FormLogic(self.form(form), self._scopes[form])
        return found

    def prepare(
        self, conn: Connection, ctx: RunContext, form: str, values: Mapping[str, Any], old: Optional[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """``values`` merged over ``old`` with computed fields, conditions and checks applied."""
        from engine.store.access import ConnAccess

        return self.logic(form).prepare(ConnAccess(conn, self), ctx, values, old)  # type: ignore[no-any-return]

    # ---- reading -------------------------------------------------------------------

    def get(
        self, conn: Connection, form: str, record_id: int, *, where: Clause = None, for_update: bool = False
    ) -> Optional[dict[str, Any]]:
        """One record with its child rows, or None (also when ``where`` hides it). A record
        this transaction wrote or read by id already comes from :mod:`engine.store.recent`."""
        table = self.tables.table(self.form(form).name)
        locked = for_update and conn.dialect.name == "postgresql"
        if where is None:
            found, record = known(conn, form, record_id, locked=locked)
            if found:
                return record
        q = sa.select(table).where(table.c.id == record_id)
        if where is not None:
            q = q.where(where)
        if locked:
            q = q.with_for_update()
        row = conn.execute(q).mappings().first()
        if row is None:
            if where is None:
                remember(conn, form, record_id, None)
            return None
        record = dict(row)
        self.attach_children(conn, form, [record])
        remember(conn, form, record_id, record, locked=locked)
        return record

    def select(
        self,
        conn: Connection,
        form: str,
        *,
        where: Clause = None,
        order_by: Sequence[tuple[str, bool]] = (),
        limit: Optional[int] = 50,
        offset: int = 0,
        with_total: bool = True,
        with_children: bool = True,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of records and the total matching ``where`` (same clause, same permissions)."""
        table = self.tables.table(self.form(form).name)
        q = sa.select(table)
        if where is not None:
            q = q.where(where)
        for column, desc in order_by or (("id", False),):
            col = table.c[column]
            q = q.order_by(col.desc() if desc else col.asc())
        if order_by and "id" not in {c for c, _ in order_by}:
            q = q.order_by(table.c.id.asc())
        if limit is not None:
            q = q.limit(limit).offset(offset)
        records = [dict(r) for r in conn.execute(q).mappings()]
        total = len(records)
        if with_total and (limit is not None and (len(records) == limit or offset)):
            cq = sa.select(sa.func.count()).select_from(table)
            if where is not None:
                cq = cq.where(where)
            total = int(conn.execute(cq).scalar_one())
        if with_children:
            self.attach_children(conn, form, records)
        return records, total

    def attach_children(self, conn: Connection, form: str, records: list[dict[str, Any]]) -> None:
        """Give each of ``records`` its sub-table rows (one query per sub-table)."""
        if not records:
            return
        ids = [r["id"] for r in records]
        for field, child in self.tables.children_of(form).items():
            by_parent: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
            q = sa.select(child).where(child.c.parent_id.in_(ids)).order_by(child.c.parent_id, child.c.pos)
            for row in conn.execute(q).mappings():
                item = dict(row)
                parent = item.pop("parent_id")
                item.pop("pos", None)
                by_parent[parent].append(item)
            for r in records:
                r[field] = by_parent[r["id"]]

    # ---- writing: the one pipeline (engine.store.write) --------------------------------

    def validate(self, ctx: RunContext, form: str, data: Any, *, partial: bool = False) -> Checked:
        """Stage 1 of every write: the shape of ``data`` (all errors at once, by field, in
        ``ctx``'s language). The store does it itself for raw values; a writer that reports
        every problem of many records before writing any hands it these."""
        self.form(form)
        return Checked(form, self.validators[form].validate(data, partial=partial, locale=ctx.locale), partial)

    def create(
        self,
        conn: Connection,
        ctx: RunContext,
        form: str,
        data: Any,
        *,
        writer: Writer,
        depth: int = 0,
        owner: Optional[int] = None,
    ) -> dict[str, Any]:
        """Create one record: validate, guards, formulas, row, journal, events."""
        return write.create(self, conn, ctx, form, data, writer=writer, depth=depth, owner=owner)

    def create_many(
        self, conn: Connection, ctx: RunContext, form: str, rows: Sequence[Any], *, writer: Writer, depth: int = 0
    ) -> list[dict[str, Any]]:
        """Create many records at once (one ``executemany`` per table); errors by ``[index]``."""
        return write.create_many(self, conn, ctx, form, rows, writer=writer, depth=depth)

    def update(
        self,
        conn: Connection,
        ctx: RunContext,
        form: str,
        record_id: int,
        data: Any,
        *,
        writer: Writer,
        expected_version: Optional[int] = None,
        where: Clause = None,
        depth: int = 0,
        amend: bool = False,
    ) -> dict[str, Any]:
        """Change fields of a record; a stale ``expected_version`` raises :class:`StaleVersion`.

        ``amend``: the change is part of the write that made the record's current version, in
        this transaction (a rule's ``set`` on the record whose change triggered it): the version
        stays, its snapshot is rewritten, and the audit gets an entry of that same version."""
        return write.update(
            self,
            conn,
            ctx,
            form,
            record_id,
            data,
            writer=writer,
            expected_version=expected_version,
            where=where,
            depth=depth,
            amend=amend,
        )

    def update_where(
        self,
        conn: Connection,
        ctx: RunContext,
        form: str,
        *,
        match: sa.ColumnElement[bool],
        assign: Mapping[str, sa.ColumnElement[Any]],
        require: Clause = None,
        params: Optional[Mapping[str, Any]] = None,
        writer: Writer,
        depth: int = 0,
    ) -> list[dict[str, Any]]:
        """A set-based update: every record ``match`` selects gets ``assign`` (SQL values) in one
        statement, ``require`` checked on the values after it; see :mod:`engine.store.setwrite`."""
        from engine.store.setwrite import update_where

        return update_where(
            self,
            conn,
            ctx,
            form,
            match=match,
            assign=assign,
            require=require,
            params=params or {},
            writer=writer,
            depth=depth,
        )

    def delete(
        self,
        conn: Connection,
        ctx: RunContext,
        form: str,
        record_id: int,
        *,
        writer: Writer,
        expected_version: Optional[int] = None,
        where: Clause = None,
        depth: int = 0,
    ) -> dict[str, Any]:
        """Delete a record (its child rows go with it); its history stays."""
        return write.delete(
            self, conn, ctx, form, record_id, writer=writer, expected_version=expected_version, where=where, depth=depth
        )

    # ---- history ---------------------------------------------------------------------

    def history(self, conn: Connection, form: str, record_id: int) -> dict[str, list[dict[str, Any]]]:
        """The audit trail (field-level old -> new) and every version snapshot."""
        self.form(form)
        a, v = system.audit, system.record_versions
        audit = [
            dict(r)
            for r in conn.execute(
                sa.select(a.c.action, a.c.at, a.c.user_id, a.c.username, a.c.version, a.c.changes, a.c.source)
                .where(a.c.form == form, a.c.record_id == record_id)
                .order_by(a.c.id)
            ).mappings()
        ]
        versions = [
            dict(r)
            for r in conn.execute(
                sa.select(v.c.version, v.c.at, v.c.user_id, v.c.deleted, v.c.data)
                .where(v.c.form == form, v.c.record_id == record_id)
                .order_by(v.c.version)
            ).mappings()
        ]
        return {"audit": audit, "versions": versions}

    def as_of(self, conn: Connection, form: str, record_id: int, when: dt.datetime) -> Optional[dict[str, Any]]:
        """The JSON snapshot of the record as it was at ``when`` (None if it did not exist)."""
        v = system.record_versions
        row = conn.execute(
            sa.select(v.c.data, v.c.deleted)
            .where(v.c.form == form, v.c.record_id == record_id, v.c.at <= when)
            .order_by(v.c.version.desc())
            .limit(1)
        ).first()
        if row is None or row.deleted:
            return None
        return dict(row.data)
