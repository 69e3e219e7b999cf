"""The one write pipeline. Every create, update and delete, whoever the writer (API, workspace,
batch, import, rule actions, rollups, later flows), runs these stages in the writing
transaction, in this order:

1. **validate** the shape of what was sent (:class:`~engine.forms.validate.FormValidator`;
   skipped for :class:`Checked` values, which went through this very stage already);
2. **write guards** (:meth:`~engine.store.events.EventBus.guard`): each sees a
   :class:`~engine.store.writer.WriteRequest` naming the :class:`~engine.store.writer.Writer`;
3. **formulas**: conditions, defaults, formulas, lookups, rollups of the record itself, files,
   the form's checks (:class:`~engine.forms.compute.FormLogic`), then the links;
4. the **row** and its child rows (auto numbers, optimistic version check);
5. the **journal**: audit rows and version snapshots (:mod:`engine.store.journal`);
6. the **events** (:class:`~engine.store.events.RecordEvent`): rules, stored aggregates of
   other forms (dependents), timers; later flows and report rollups.

Each record is read once: the records a write links to are read before the formulas, one
query per linked form (:func:`~engine.store.links.read_links`); the row and its child rows
come back from ``INSERT``/``UPDATE ... RETURNING`` (the child rows of a record in one
statement); and the transaction keeps what it wrote and read (:mod:`engine.store.recent`), so
the rules, a rule's amendment and the answer never read them again. The journal of a write
and of everything its events write goes out when the outermost write ends
(:func:`~engine.store.journal.deferred`).

A set-based update (many rows, one statement) has its own shape of the same stages in
:mod:`engine.store.setwrite`. Permissions are the service layer's, above this one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Mapping, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.definitions.model import FormSpec
from engine.errors import Conflict, Duplicate, NotFound, PermissionDenied, StaleVersion, ValidationError
from engine.field_errors import duplicate
from engine.store.dialect import insert_many_returning_ids, insert_returning_rows, supports_update_returning
from engine.store.events import RecordEvent
from engine.store.journal import Entry, changes_between, changes_of, deferred, journal, journal_created
from engine.store.links import check_links, read_links
from engine.store.recent import kept_data, remember
from engine.store.serialize import dump_record
from engine.store.statements import insert_returning, update_by_id
from engine.store.writer import Writer, WriteRequest, same_rows

if TYPE_CHECKING:
    from engine.store.records import Clause, RecordStore

_SYSTEM_SET = frozenset(("id", "version", "owner", "created_at", "created_by", "updated_at", "updated_by"))


@dataclass(frozen=True)
class Checked:
    """Values :meth:`RecordStore.validate` validated for ``form`` (``partial``: for an update).

    Writers that report every problem of many records before writing any (batch, import)
    validate first and hand these to the store, which then skips stage 1."""

    form: str
    values: Mapping[str, Any]
    partial: bool


def admit(
    store: "RecordStore",
    conn: Connection,
    ctx: RunContext,
    form: str,
    data: Any,
    *,
    action: Literal["create", "update"],
    writer: Writer,
    old: Optional[Mapping[str, Any]] = None,
) -> dict[str, Any]:
    """Stages 1 and 2: the validated values of ``data``, once every write guard let them pass."""
    partial = action == "update"
    if isinstance(data, Checked):
        if data.form != form or data.partial != partial:
            raise ValueError(f"values checked for {data.form} (partial={data.partial}) written to {form} by {action}")
        clean = dict(data.values)
    else:
        clean = dict(store.validate(ctx, form, data, partial=partial).values)
    store.bus.guard(conn, WriteRequest(action, form, writer, ctx, clean, old, old["id"] if old else None))
    return clean


def emit(
    store: "RecordStore",
    conn: Connection,
    ctx: RunContext,
    kind: str,
    form: str,
    record_id: int,
    new: Optional[Mapping[str, Any]],
    old: Optional[Mapping[str, Any]],
    changes: Mapping[str, Any],
    writer: Writer,
    depth: int,
) -> None:
    """Stage 6: the event of one written record."""
    store.bus.emit(
        conn, RecordEvent(kind, form, record_id, ctx, new, old, frozenset(changes), writer=writer, depth=depth)
    )


def create(
    store: "RecordStore",
    conn: Connection,
    ctx: RunContext,
    form: str,
    data: Any,
    *,
    writer: Writer,
    depth: int = 0,
    owner: Optional[int] = None,
) -> dict[str, Any]:
    """Insert one record and everything that goes with it."""
    spec = store.form(form)
    with deferred(conn):
        values = admit(store, conn, ctx, form, data, action="create", writer=writer)
        read_links(conn, store.tables, spec, [values])
        values = store.prepare(conn, ctx, form, values, None)
        check_links(conn, store.tables, spec, [values], ctx, indexed=False)
        now = ctx.now()
        scalars, children = split(spec, values)
        for f in spec.fields:
            if f.is_autonumber and not scalars.get(f.name):
                scalars[f.name] = store.numbers(conn, f"{form}.{f.name}", f.prop("sequence"), now, store.timezone)
        row = {
            **scalars,
            "version": 1,
            "owner": owner if owner is not None else ctx.user_id,
            "created_at": now,
            "created_by": ctx.user_id,
            "updated_at": now,
            "updated_by": ctx.user_id,
        }
        table = store.tables.table(form)
        try:
            new = dict(conn.execute(insert_returning(table), row).mappings().one())
        except sa.exc.IntegrityError as exc:
            raise duplicate_error(store, spec, exc, ctx) from None
        record_id = new["id"]
        new.update(write_children(store, conn, form, record_id, children))
        data = dump_record(spec, new)
        remember(conn, form, record_id, new, locked=True, created=True, data=data)
        changes = changes_of(spec, None, data)
        journal(conn, ctx, spec, [Entry("create", new, changes, data=data)], now, writer.source)
        emit(store, conn, ctx, "created", form, record_id, new, None, changes, writer, depth)
    return new


def create_many(
    store: "RecordStore",
    conn: Connection,
    ctx: RunContext,
    form: str,
    rows: Sequence[Any],
    *,
    writer: Writer,
    depth: int = 0,
) -> list[dict[str, Any]]:
    """Insert many records at once: one ``executemany`` each for the rows, the child rows, the
    audit rows and the versions; still one guard request and one event per record.

    Problems are reported by position: ``[3].customer``, ``[3].lines[1].product``. A
    unique-key violation raises :class:`Conflict` for the whole batch."""
    spec = store.form(form)
    if not rows:
        return []
    prepared = []
    problems: dict[str, list[str]] = {}
    for i, data in enumerate(rows):
        try:
            values = admit(store, conn, ctx, form, data, action="create", writer=writer)
            prepared.append(store.prepare(conn, ctx, form, values, None))
        except ValidationError as exc:
            for path, messages in exc.fields.items():
                problems.setdefault(f"[{i}].{path}", []).extend(messages)
        except PermissionDenied as exc:  # a guard refused it: say which record
            raise type(exc)(
                str(exc), {f"[{i}].{k}": v for k, v in exc.fields.items()} or {f"[{i}]": [str(exc)]}
            ) from None
    if problems:
        raise ValidationError(problems)
    check_links(conn, store.tables, spec, prepared, ctx, indexed=True)
    now = ctx.now()
    table = store.tables.table(form)
    template: dict[str, Any] = {c.name: None for c in table.columns if c.name != "id"}
    template.update(
        version=1, owner=ctx.user_id, created_at=now, created_by=ctx.user_id, updated_at=now, updated_by=ctx.user_id
    )
    subtables = {f.name for f in spec.fields if f.is_table}
    autos = [f for f in spec.fields if f.is_autonumber]
    payload, children = [], []
    for values in prepared:
        row = dict(template)
        row.update({k: v for k, v in values.items() if k in template and k not in _SYSTEM_SET})
        for f in autos:
            if not row.get(f.name):
                row[f.name] = store.numbers(conn, f"{form}.{f.name}", f.prop("sequence"), now, store.timezone)
        payload.append(row)
        children.append({k: list(values[k] or []) for k in subtables if k in values})
    try:
        ids = insert_many_returning_ids(conn, table, payload)
    except sa.exc.IntegrityError as exc:
        raise duplicate_error(store, spec, exc, ctx) from None
    records = [{"id": i, **row} for i, row in zip(ids, payload)]
    for f in spec.fields:
        if not f.is_table:
            continue
        child = store.tables.child_table(form, f.name)
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
    dumped = journal_created(conn, ctx, spec, records, now, writer.source)
    with store.bus.deferring(conn):
        for rec, changes in zip(records, dumped):
            emit(store, conn, ctx, "created", form, rec["id"], rec, None, changes, writer, depth)
    return records


def update(
    store: "RecordStore",
    conn: Connection,
    ctx: RunContext,
    form: str,
    record_id: int,
    data: Any,
    *,
    writer: Writer,
    expected_version: Optional[int] = None,
    where: "Clause" = None,
    depth: int = 0,
    amend: bool = False,
) -> dict[str, Any]:
    """Change fields of one record; a stale ``expected_version`` raises :class:`StaleVersion`."""
    spec = store.form(form)
    clean = data if isinstance(data, Checked) else store.validate(ctx, form, data, partial=True)
    with deferred(conn):
        old = current(store, conn, spec, record_id, expected_version, where)
        changes = admit(store, conn, ctx, form, clean, action="update", writer=writer, old=old)
        read_links(conn, store.tables, spec, [{k: v for k, v in changes.items() if old.get(k) != v}])
        changes = store.prepare(conn, ctx, form, changes, old)
        changed = {k for k, v in changes.items() if old.get(k) != v and not same_rows(old.get(k), v)}
        if not changed:
            return old
        check_links(conn, store.tables, spec, [{k: changes[k] for k in changed}], ctx, indexed=False)
        now = ctx.now()
        scalars, children = split(spec, {k: changes[k] for k in changed})
        table = store.tables.table(form)
        returning = supports_update_returning(conn)
        values = {
            **scalars,
            "version": old["version"] + (0 if amend else 1),
            "updated_at": now,
            "updated_by": ctx.user_id,
            "lc_where_id": record_id,
            "lc_where_version": old["version"],
        }
        try:
            result = conn.execute(update_by_id(table, returning), values)
        except sa.exc.IntegrityError as exc:
            raise duplicate_error(store, spec, exc, ctx) from None
        row = result.mappings().first() if returning else None
        if (row is None) if returning else result.rowcount != 1:
            raise StaleVersion.said("stale_now", form=spec.label, id=record_id)
        rows = write_children(store, conn, form, record_id, children, replace=True, old=old)
        if row is None:
            row = conn.execute(sa.select(table).where(table.c.id == record_id)).mappings().one()
        new = {**{k: v for k, v in old.items() if k not in row}, **row, **rows}
        before = kept_data(conn, form, record_id) or dump_record(spec, old)
        data = dump_record(spec, new)
        remember(conn, form, record_id, new, locked=True, data=data)
        diff = changes_of(spec, before, data)
        journal(conn, ctx, spec, [Entry("update", new, diff, amend=amend, data=data)], now, writer.source)
        emit(store, conn, ctx, "updated", form, record_id, new, old, diff, writer, depth)
    return new


def delete(
    store: "RecordStore",
    conn: Connection,
    ctx: RunContext,
    form: str,
    record_id: int,
    *,
    writer: Writer,
    expected_version: Optional[int] = None,
    where: "Clause" = None,
    depth: int = 0,
) -> dict[str, Any]:
    """Delete one record (its child rows go with it); its history stays."""
    spec = store.form(form)
    with deferred(conn):
        old = current(store, conn, spec, record_id, expected_version, where)
        store.bus.guard(conn, WriteRequest("delete", form, writer, ctx, {}, old, record_id))
        for child in store.tables.children_of(form).values():
            conn.execute(child.delete().where(child.c.parent_id == record_id))
        table = store.tables.table(form)
        result = conn.execute(table.delete().where(table.c.id == record_id, table.c.version == old["version"]))
        if result.rowcount != 1:
            raise StaleVersion.said("stale_now", form=spec.label, id=record_id)
        remember(conn, form, record_id, None, locked=True)
        now = ctx.now()
        diff = changes_between(spec, old, None)
        journal(conn, ctx, spec, [Entry("delete", {**old, "version": old["version"] + 1}, diff)], now, writer.source)
        emit(store, conn, ctx, "deleted", form, record_id, None, old, diff, writer, depth)
    return old


# ---- helpers ----------------------------------------------------------------------------


def current(
    store: "RecordStore",
    conn: Connection,
    spec: FormSpec,
    record_id: int,
    expected_version: Optional[int],
    where: "Clause",
) -> dict[str, Any]:
    """The record about to change, locked (PostgreSQL), at the version the writer read."""
    old = store.get(conn, spec.name, record_id, where=where, for_update=True)
    if old is None:
        raise NotFound.said("not_found", form=spec.label, id=record_id)
    if expected_version is not None and old["version"] != expected_version:
        raise StaleVersion.said("stale", form=spec.label, id=record_id, current=old["version"], sent=expected_version)
    return old


def split(spec: FormSpec, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Column values and sub-table rows of ``values``."""
    scalars: dict[str, Any] = {}
    children: dict[str, list[Any]] = {}
    for name, value in values.items():
        f = spec.field(name)
        if f is None:
            continue
        if f.is_table:
            children[name] = list(value or [])
        else:
            scalars[name] = value
    return scalars, children


def write_children(
    store: "RecordStore",
    conn: Connection,
    form: str,
    parent_id: int,
    children: Mapping[str, list[Mapping[str, Any]]],
    replace: bool = False,
    old: Optional[Mapping[str, Any]] = None,
) -> dict[str, list[dict[str, Any]]]:
    """Insert (``replace``: in place of the old ones) the sub-table rows of one record, and
    return them as stored, by sub-table: every sub-table of the form on create, the replaced
    ones otherwise. A row that keeps its id must belong to the record (``old``, the record
    before, when the caller has it)."""
    spec = store.form(form)
    out: dict[str, list[dict[str, Any]]] = {} if replace else {f: [] for f in store.tables.children_of(form)}
    for field, rows in children.items():
        table = store.tables.child_table(form, field)
        fspec = spec.field(field)
        assert fspec is not None
        keep: set[Any] = {r.get("id") for r in rows if r.get("id")}
        if replace:
            if keep:
                if old is not None:
                    owned = {r.get("id") for r in old.get(field) or ()}
                else:
                    owned = {
                        i
                        for (i,) in conn.execute(
                            sa.select(table.c.id).where(table.c.parent_id == parent_id, table.c.id.in_(keep))
                        )
                    }
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
        stored = {
            r["pos"]: r
            for part in ([p for p in payload if "id" in p], [p for p in payload if "id" not in p])
            for r in insert_returning_rows(conn, table, part)
        }
        out[field] = [
            {k: v for k, v in stored[pos].items() if k not in ("parent_id", "pos")} for pos in range(len(payload))
        ]
    return out


def duplicate_error(store: "RecordStore", spec: FormSpec, exc: sa.exc.IntegrityError, ctx: RunContext) -> Exception:
    """A unique violation as :class:`Duplicate` naming its fields by label (else :class:`Conflict`)."""
    fields = _unique_columns(store.tables.table(spec.name), exc)
    if not fields:
        return Conflict(f"{spec.name}: the change conflicts with existing data ({exc.orig})")
    labels = [(f.label.get(ctx.locale) or name) if (f := spec.field(name)) else name for name in fields]
    message = duplicate(labels, ctx.locale)
    return Duplicate(message, {f: [message] for f in fields}, tuple(fields))


def _unique_columns(table: sa.Table, exc: sa.exc.IntegrityError) -> list[str]:
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
