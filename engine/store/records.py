"""Reading and writing records: one transaction holds the row, its child rows, the audit
entry, the version snapshot and the events. Optimistic locking by a version number."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable, Mapping, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.definitions.model import FieldSpec, FormSpec
from engine.errors import Conflict, Duplicate, NotFound, StaleVersion, ValidationError
from engine.forms.messages import duplicate, render
from engine.store import system
from engine.store.bulk import journal_created
from engine.store.dialect import insert_many_returning_ids
from engine.store.events import EventBus, RecordEvent
from engine.store.serialize import dump_record
from engine.store.tables import FormTables

Clause = Optional[sa.ColumnElement[bool]]
NumberSource = Callable[[Connection, str, str, dt.datetime, str], str]
_SYSTEM_SET = frozenset(("id", "version", "owner", "created_at", "created_by", "updated_at", "updated_by"))


class RecordStore:
    """Records of every installed form. Stateless beyond the compiled definitions."""

    def __init__(self, forms: Mapping[str, FormSpec], tables: FormTables, bus: EventBus,
                 numbers: NumberSource, timezone: str = "Asia/Shanghai",
                 logic: Optional[Callable[[str], Any]] = None) -> None:
        self.forms = forms
        self.tables = tables
        self.bus = bus
        self.numbers = numbers
        self.timezone = timezone
        self._compiled = logic      # the compiled definitions' FormLogic by form (Definitions.logic)
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
            from engine.forms.compute import FormLogic, new_version
            if self._scopes is None:
                self._scopes = scopes_for(self.forms.values(), new_version())
            found = self._logic[form] = FormLogic(self.form(form), self._scopes[form])
        return found

    def prepare(self, conn: Connection, ctx: RunContext, form: str, values: Mapping[str, Any],
                old: Optional[Mapping[str, Any]]) -> dict[str, Any]:
        """``values`` merged over ``old`` with computed fields, conditions and checks applied."""
        from engine.store.access import ConnAccess
        return self.logic(form).prepare(ConnAccess(conn, self), ctx, values, old)  # type: ignore[no-any-return]

    # ---- reading -------------------------------------------------------------------

    def get(self, conn: Connection, form: str, record_id: int, *, where: Clause = None,
            for_update: bool = False) -> Optional[dict[str, Any]]:
        """One record with its child rows, or None (also when ``where`` hides it)."""
        table = self.tables.table(self.form(form).name)
        q = sa.select(table).where(table.c.id == record_id)
        if where is not None:
            q = q.where(where)
        if for_update and conn.dialect.name == "postgresql":
            q = q.with_for_update()
        row = conn.execute(q).mappings().first()
        if row is None:
            return None
        record = dict(row)
        self._attach_children(conn, form, [record])
        return record

    def select(self, conn: Connection, form: str, *, where: Clause = None,
             order_by: Sequence[tuple[str, bool]] = (), limit: Optional[int] = 50, offset: int = 0,
             with_total: bool = True, with_children: bool = True) -> tuple[list[dict[str, Any]], int]:
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
            self._attach_children(conn, form, records)
        return records, total

    def _attach_children(self, conn: Connection, form: str, records: list[dict[str, Any]]) -> None:
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

    # ---- writing -------------------------------------------------------------------

    def create(self, conn: Connection, ctx: RunContext, form: str, values: Mapping[str, Any], *,
               source: str = "api", depth: int = 0, owner: Optional[int] = None) -> dict[str, Any]:
        """Insert a record (values already validated) and everything that goes with it."""
        spec = self.form(form)
        self.bus.guard(conn, "create", form, None, values, ctx)
        values = self.prepare(conn, ctx, form, values, None)
        now = ctx.now()
        scalars, children = self._split(spec, values)
        self._check_links(conn, spec, values, ctx)
        for f in spec.fields:
            if f.type == "autonumber" and not scalars.get(f.name):
                scalars[f.name] = self.numbers(conn, f"{form}.{f.name}", f.prop("sequence"), now, self.timezone)
        row = {**scalars, "version": 1, "owner": owner if owner is not None else ctx.user_id,
               "created_at": now, "created_by": ctx.user_id, "updated_at": now, "updated_by": ctx.user_id}
        table = self.tables.table(form)
        try:
            record_id = conn.execute(table.insert().values(row).returning(table.c.id)).scalar_one()
        except sa.exc.IntegrityError as exc:
            raise self._duplicate(spec, exc, ctx) from None
        self._write_children(conn, form, record_id, children)
        new = self.get(conn, form, record_id)
        assert new is not None
        changes = {f: [None, v] for f, v in self._dumped(spec, new).items() if v not in (None, [])}
        self._journal(conn, ctx, spec, new, "create", changes, source, now)
        self.bus.emit(conn, RecordEvent("created", form, record_id, ctx, new, None,
                                        frozenset(changes), source, depth))
        return new

    def create_many(self, conn: Connection, ctx: RunContext, form: str,
                    rows: Sequence[Mapping[str, Any]], *, source: str = "import",
                    depth: int = 0) -> list[dict[str, Any]]:
        """Insert many validated records at once: one ``executemany`` each for the rows, the
        child rows, the audit rows and the versions; still one :class:`RecordEvent` per record.

        Link errors are reported by position: ``[3].customer``, ``[3].lines[1].product``.
        A unique-key violation raises :class:`Conflict` for the whole batch.
        """
        spec = self.form(form)
        if not rows:
            return []
        for values in rows:
            self.bus.guard(conn, "create", form, None, values, ctx)
        prepared = []
        problems: dict[str, list[str]] = {}
        for i, values in enumerate(rows):
            try:
                prepared.append(self.prepare(conn, ctx, form, values, None))
            except ValidationError as exc:
                for path, messages in exc.fields.items():
                    problems.setdefault(f"[{i}].{path}", []).extend(messages)
        if problems:
            raise ValidationError(problems)
        rows = prepared
        self._check_links_many(conn, spec, rows, ctx)
        now = ctx.now()
        table = self.tables.table(form)
        template: dict[str, Any] = {c.name: None for c in table.columns if c.name != "id"}
        template.update(version=1, owner=ctx.user_id, created_at=now, created_by=ctx.user_id,
                        updated_at=now, updated_by=ctx.user_id)
        subtables = {f.name for f in spec.fields if f.type == "table"}
        autos = [f for f in spec.fields if f.type == "autonumber"]
        payload, children = [], []
        for values in rows:
            row = dict(template)
            row.update({k: v for k, v in values.items() if k in template and k not in _SYSTEM_SET})
            for f in autos:
                if not row.get(f.name):
                    row[f.name] = self.numbers(conn, f"{form}.{f.name}", f.prop("sequence"), now, self.timezone)
            payload.append(row)
            children.append({k: list(values[k] or []) for k in subtables if k in values})
        try:
            ids = insert_many_returning_ids(conn, table, payload)
        except sa.exc.IntegrityError as exc:
            raise self._duplicate(spec, exc, ctx) from None
        records = [{"id": i, **row} for i, row in zip(ids, payload)]
        for f in spec.fields:
            if f.type != "table":
                continue
            child = self.tables.child_table(form, f.name)
            names = [c.name for c in f.fields if c.name in child.c]
            items, owners = [], []
            for rec, kids in zip(records, children):
                rec[f.name] = []
                for pos, line in enumerate(kids.get(f.name) or ()):
                    items.append({**{n: line.get(n) for n in names}, "parent_id": rec["id"], "pos": pos})
                    owners.append(rec)
            if items:
                child_ids = insert_many_returning_ids(conn, child, items)
                for item, cid, rec in zip(items, child_ids, owners):
                    rec[f.name].append({"id": cid, **{n: item[n] for n in names}})
        dumped = journal_created(conn, ctx, spec, records, now, source)
        with self.bus.deferring(conn):
            for rec, changes in zip(records, dumped):
                self.bus.emit(conn, RecordEvent("created", form, rec["id"], ctx, rec, None,
                                                frozenset(changes), source, depth))
        return records

    def _check_links_many(self, conn: Connection, spec: FormSpec, rows: Sequence[Mapping[str, Any]],
                          ctx: RunContext) -> None:
        """Every link of every row exists: one query per link field for the whole batch."""
        refs: dict[tuple[Optional[str], str], list[tuple[str, Any]]] = {}
        for i, values in enumerate(rows):
            for f in spec.fields:
                value = values.get(f.name)
                if value is None:
                    continue
                if f.type == "link":
                    refs.setdefault((None, f.name), []).append((f"[{i}].{f.name}", value))
                elif f.type == "table":
                    for child in f.fields:
                        if child.type == "link":
                            refs.setdefault((f.name, child.name), []).extend(
                                (f"[{i}].{f.name}[{n + 1}].{child.name}", line.get(child.name))
                                for n, line in enumerate(value) if line.get(child.name) is not None)
        errors: dict[str, list[str]] = {}
        for (table_field, name), found in refs.items():
            parent = spec.field(table_field) if table_field else None
            fspec = parent.child(name) if parent else spec.field(name)
            assert fspec is not None
            self._missing(conn, fspec, found, errors, ctx)
        if errors:
            raise ValidationError(errors)

    def update(self, conn: Connection, ctx: RunContext, form: str, record_id: int,
               changes: Mapping[str, Any], *, expected_version: Optional[int] = None,
               where: Clause = None, source: str = "api", depth: int = 0, amend: bool = False) -> dict[str, Any]:
        """Change fields of a record; a stale ``expected_version`` raises :class:`Conflict`.

        ``amend``: the change is part of the write that made the record's current version, in
        this transaction (a rule's ``set`` on the record whose change triggered it): the version
        stays, its snapshot is rewritten, and the audit gets an entry of that same version."""
        spec = self.form(form)
        old = self.get(conn, form, record_id, where=where, for_update=True)
        if old is None:
            raise NotFound.said("not_found", form=spec.label, id=record_id)
        if expected_version is not None and old["version"] != expected_version:
            raise StaleVersion.said("stale", form=spec.label, id=record_id, current=old["version"],
                                    sent=expected_version)
        self.bus.guard(conn, "update", form, old, changes, ctx)
        changes = self.prepare(conn, ctx, form, changes, old)
        changed = {k for k, v in changes.items() if old.get(k) != v and not _same_rows(old.get(k), v)}
        if not changed:
            return old
        self._check_links(conn, spec, {k: changes[k] for k in changed}, ctx)
        now = ctx.now()
        scalars, children = self._split(spec, {k: changes[k] for k in changed})
        table = self.tables.table(form)
        stmt = (table.update().where(table.c.id == record_id, table.c.version == old["version"])
                .values({**scalars, "version": old["version"] + (0 if amend else 1), "updated_at": now,
                         "updated_by": ctx.user_id}))
        try:
            result = conn.execute(stmt)
        except sa.exc.IntegrityError as exc:
            raise self._duplicate(spec, exc, ctx) from None
        if result.rowcount != 1:
            raise StaleVersion.said("stale_now", form=spec.label, id=record_id)
        for field, rows in children.items():
            self._write_children(conn, form, record_id, {field: rows}, replace=True)
        new = self.get(conn, form, record_id)
        assert new is not None
        before, after = self._dumped(spec, old), self._dumped(spec, new)
        diff = {f: [before[f], after[f]] for f in before if before[f] != after[f]}
        self._journal(conn, ctx, spec, new, "update", diff, source, now, amend=amend)
        self.bus.emit(conn, RecordEvent("updated", form, record_id, ctx, new, old,
                                        frozenset(diff), source, depth))
        return new

    def delete(self, conn: Connection, ctx: RunContext, form: str, record_id: int, *,
               expected_version: Optional[int] = None, where: Clause = None,
               source: str = "api", depth: int = 0) -> dict[str, Any]:
        """Delete a record (its child rows go with it); its history stays."""
        spec = self.form(form)
        old = self.get(conn, form, record_id, where=where, for_update=True)
        if old is None:
            raise NotFound.said("not_found", form=spec.label, id=record_id)
        if expected_version is not None and old["version"] != expected_version:
            raise StaleVersion.said("stale", form=spec.label, id=record_id, current=old["version"],
                                    sent=expected_version)
        self.bus.guard(conn, "delete", form, old, {}, ctx)
        for child in self.tables.children_of(form).values():
            conn.execute(child.delete().where(child.c.parent_id == record_id))
        table = self.tables.table(form)
        result = conn.execute(table.delete().where(table.c.id == record_id, table.c.version == old["version"]))
        if result.rowcount != 1:
            raise StaleVersion.said("stale_now", form=spec.label, id=record_id)
        now = ctx.now()
        before = self._dumped(spec, old)
        diff = {f: [v, None] for f, v in before.items() if v not in (None, [])}
        gone = {**old, "version": old["version"] + 1}
        self._journal(conn, ctx, spec, gone, "delete", diff, source, now, deleted=True)
        self.bus.emit(conn, RecordEvent("deleted", form, record_id, ctx, None, old,
                                        frozenset(diff), source, depth))
        return old

    # ---- history ---------------------------------------------------------------------

    def history(self, conn: Connection, form: str, record_id: int) -> dict[str, list[dict[str, Any]]]:
        """The audit trail (field-level old -> new) and every version snapshot."""
        self.form(form)
        a, v = system.audit, system.record_versions
        audit = [dict(r) for r in conn.execute(
            sa.select(a.c.action, a.c.at, a.c.user_id, a.c.username, a.c.version, a.c.changes, a.c.source)
            .where(a.c.form == form, a.c.record_id == record_id).order_by(a.c.id)).mappings()]
        versions = [dict(r) for r in conn.execute(
            sa.select(v.c.version, v.c.at, v.c.user_id, v.c.deleted, v.c.data)
            .where(v.c.form == form, v.c.record_id == record_id).order_by(v.c.version)).mappings()]
        return {"audit": audit, "versions": versions}

    def as_of(self, conn: Connection, form: str, record_id: int, when: dt.datetime) -> Optional[dict[str, Any]]:
        """The JSON snapshot of the record as it was at ``when`` (None if it did not exist)."""
        v = system.record_versions
        row = conn.execute(
            sa.select(v.c.data, v.c.deleted).where(v.c.form == form, v.c.record_id == record_id, v.c.at <= when)
            .order_by(v.c.version.desc()).limit(1)).first()
        if row is None or row.deleted:
            return None
        return dict(row.data)

    # ---- helpers ----------------------------------------------------------------------

    def _split(self, spec: FormSpec, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        scalars: dict[str, Any] = {}
        children: dict[str, list[Any]] = {}
        for name, value in values.items():
            f = spec.field(name)
            if f is None:
                continue
            if f.type == "table":
                children[name] = list(value or [])
            else:
                scalars[name] = value
        return scalars, children

    def _write_children(self, conn: Connection, form: str, parent_id: int,
                        children: Mapping[str, list[Mapping[str, Any]]], replace: bool = False) -> None:
        spec = self.form(form)
        for field, rows in children.items():
            table = self.tables.child_table(form, field)
            fspec = spec.field(field)
            assert fspec is not None
            keep: set[Any] = {r.get("id") for r in rows if r.get("id")}
            if replace:
                if keep:
                    owned = {i for (i,) in conn.execute(sa.select(table.c.id).where(
                        table.c.parent_id == parent_id, table.c.id.in_(keep)))}
                    stray = keep - owned
                    if stray:
                        raise ValidationError({field: [f"rows {sorted(stray)} do not belong to this record"]})
                conn.execute(table.delete().where(table.c.parent_id == parent_id))
            names = [c.name for c in fspec.fields if c.name in table.c]
            payload = []
            for pos, row in enumerate(rows):
                item = {n: row.get(n) for n in names}
                item.update(parent_id=parent_id, pos=pos)
                if replace and row.get("id") in keep:
                    item["id"] = row["id"]
                payload.append(item)
            with_id = [p for p in payload if "id" in p]
            without = [p for p in payload if "id" not in p]
            if with_id:
                conn.execute(table.insert(), with_id)
            if without:
                conn.execute(table.insert(), without)

    def _check_links(self, conn: Connection, spec: FormSpec, values: Mapping[str, Any], ctx: RunContext) -> None:
        errors: dict[str, list[str]] = {}
        for f in spec.fields:
            if f.name not in values or values[f.name] is None:
                continue
            if f.type == "link":
                self._missing(conn, f, [(f.name, values[f.name])], errors, ctx)
            elif f.type == "table":
                for child in f.fields:
                    if child.type == "link":
                        refs = [(f"{f.name}[{i + 1}].{child.name}", row.get(child.name))
                                for i, row in enumerate(values[f.name] or []) if row.get(child.name) is not None]
                        self._missing(conn, child, refs, errors, ctx)
        if errors:
            raise ValidationError(errors)

    def _missing(self, conn: Connection, f: FieldSpec, refs: list[tuple[str, Any]],
                 errors: dict[str, list[str]], ctx: RunContext) -> None:
        if not refs or f.form is None:
            return
        target = self.tables.table(f.form)
        wanted = {v for _, v in refs}
        found = {i for (i,) in conn.execute(sa.select(target.c.id).where(target.c.id.in_(wanted)))}
        for path, value in refs:
            if value not in found:
                errors.setdefault(path, []).append(render("no_such_record", ctx.locale, id=value))

    def _dumped(self, spec: FormSpec, record: Mapping[str, Any]) -> dict[str, Any]:
        """Field values as JSON, by field name (system columns left out)."""
        data = dump_record(spec, record)
        return {f.name: data.get(f.name) for f in spec.fields}

    def _journal(self, conn: Connection, ctx: RunContext, spec: FormSpec, record: Mapping[str, Any],
                 action: str, changes: Mapping[str, Any], source: str, now: dt.datetime,
                 deleted: bool = False, amend: bool = False) -> None:
        conn.execute(system.audit.insert().values(
            form=spec.name, record_id=record["id"], action=action, at=now, user_id=ctx.user_id,
            username=ctx.username, version=record["version"], changes=dict(changes), source=source))
        v = system.record_versions
        if amend:       # the version's snapshot is the record as its whole change left it
            conn.execute(v.update().where(v.c.form == spec.name, v.c.record_id == record["id"],
                                          v.c.version == record["version"]).values(data=dump_record(spec, record)))
            return
        conn.execute(v.insert().values(
            form=spec.name, record_id=record["id"], version=record["version"], at=now,
            user_id=ctx.user_id, deleted=deleted, data=dump_record(spec, record)))

    def _duplicate(self, spec: FormSpec, exc: sa.exc.IntegrityError, ctx: RunContext) -> Exception:
        fields = _unique_columns(spec, self.tables.table(spec.name), exc)
        if not fields:
            return Conflict(f"{spec.name}: the change conflicts with existing data ({exc.orig})")
        labels = [(f.label.get(ctx.locale) or name) if (f := spec.field(name)) else name for name in fields]
        message = duplicate(labels, ctx.locale)
        return Duplicate(message, {f: [message] for f in fields}, tuple(fields))


def _same_rows(old: Any, new: Any) -> bool:
    """Child rows are unchanged when every given value matches, row by row (ids aside)."""
    if not isinstance(old, list) or not isinstance(new, list) or len(old) != len(new):
        return False
    if not all(isinstance(o, Mapping) and isinstance(n, Mapping) for o, n in zip(old, new)):
        return False   # a list value (tags, file ids), not rows: compared as a whole
    return all(all(o.get(k) == v for k, v in n.items() if k != "id") for o, n in zip(old, new))


def _unique_columns(spec: FormSpec, table: sa.Table, exc: sa.exc.IntegrityError) -> list[str]:
    """Which fields a unique violation is about, on either dialect."""
    orig = exc.orig
    name = getattr(getattr(orig, "diag", None), "constraint_name", None)
    if name:
        for ix in table.indexes:
            if ix.name == name:
                return [c.name for c in ix.columns]
    match = re.search(r"UNIQUE constraint failed: (.+)$", str(orig))
    if match:
        return [part.strip().split(".")[-1] for part in match.group(1).split(",")]
    return []

