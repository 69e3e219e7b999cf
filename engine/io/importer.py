"""Bulk import: spreadsheet rows -> records, through the same permissions, validation, store
and events as the API, in chunks so memory does not grow with the file.

Rows become records: every row is one record, except that consecutive rows continuing the
same record (same key, or the same parent cells, or empty parent cells) add sub-table lines,
and totals rows (合计, see :mod:`engine.io.totals`), which are left out and listed in the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.definitions.model import FieldSpec, FormSpec
from engine.errors import Conflict, Duplicate, LowcodeError, NotFound, PermissionDenied, QueryError, ValidationError
from engine.field_errors import duplicate
from engine.field_errors import render as field_message
from engine.forms import FIELD_TYPES
from engine.io.cells import cell_reader
from engine.io.columns import Column, ColumnMap, FieldIndex
from engine.io.links import LinkResolver
from engine.io.messages import action_word, render
from engine.io.readers import formulas_of
from engine.io.report import ImportReport, RowError, SkippedRow
from engine.io.totals import TotalsRows
from engine.runtime import Definitions
from engine.store.db import Database, attempt
from engine.store.records import RecordStore
from engine.store.write import Checked
from engine.store.writer import Writer

MODES = ("all-or-nothing", "skip-invalid")
CHUNK = 500
HEADER_SCAN = 50  # the header row must be among the first rows of the sheet
_PATH = re.compile(r"^\[?(\d+)?\]?\.?([^\[\].]+)(?:\[(\d+)\]\.([^\[\].]+))?$")


@dataclass
class _Pending:
    """One record being assembled from one or more rows."""

    rows: list[int]
    data: dict[str, Any]
    line_rows: dict[str, list[int]]
    group: Any = None
    # filled while writing
    clean: Optional[Checked] = None
    target: Optional[tuple[int, int]] = None  # (id, version) when the key matched
    failed: bool = False


class Importer:
    """One import run. Use :meth:`run` with numbered rows ``(row_number, cells)``."""

    def __init__(
        self,
        defs: Definitions,
        store: RecordStore,
        db: Database,
        ctx: RunContext,
        form: str,
        *,
        mode: str = "all-or-nothing",
        key: Optional[str] = None,
        source: str = "import",
        dry_run: bool = False,
        chunk: int = CHUNK,
    ) -> None:
        if form not in defs.forms:
            raise NotFound(f"no form named '{form}'")
        if mode not in MODES:
            raise QueryError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.defs, self.store, self.db, self.ctx = defs, store, db, ctx
        self.spec: FormSpec = defs.forms[form]
        self.form, self.mode, self.source, self.dry_run, self.chunk = form, mode, source, dry_run, chunk
        self.index = FieldIndex(self.spec)
        self.key_field = self._key_field(key)
        self.report = ImportReport(form, mode, self.key_field.name if self.key_field else None, dry_run)
        self.policy = defs.policy
        self.locale = ctx.locale
        self.resolvers: dict[str, LinkResolver] = {}
        self.seen_keys: dict[Any, int] = {}
        self.writer = Writer.importer(ctx, source)
        self._can = {a: self.policy.can(ctx, form, a) for a in ("create", "update")}
        if self.key_field is None:
            self.policy.require(ctx, form, "create")
        elif not (self.policy.can(ctx, form, "create") or self.policy.can(ctx, form, "update")):
            raise PermissionDenied(f"you may not create or update {form}")

    def _key_field(self, key: Optional[str]) -> Optional[FieldSpec]:
        if not key:
            return None
        hit = self.index.match(key)
        if hit is None or hit[0] is not None or not FIELD_TYPES[hit[1].type].stored:
            raise QueryError(
                f"key {key!r} is not a field of {self.form} that can identify a record",
                {"key": [f"unknown field {key!r}"]},
            )
        return hit[1]

    # ---- reading ------------------------------------------------------------------

    def _find_header(self, rows: Iterator[tuple[int, Sequence[Any]]]) -> ColumnMap:
        for number, cells in rows:
            if self.index.looks_like_header(cells):
                return self.index.column_map(number, cells)
            if number >= HEADER_SCAN:
                break
        raise QueryError(render("no_header", self.locale))

    def _check_columns(self, cmap: ColumnMap) -> None:
        blocked = self.policy.not_writable(self.ctx, self.form)
        denied = {
            c.header: [field_message("readonly", self.locale)]
            for c in cmap.columns
            if c.path in blocked or (c.table is not None and c.table.name in blocked)
        }
        if denied:
            raise PermissionDenied(f"you may not write {', '.join(denied)}", denied)
        if self.key_field is not None and cmap.by_path(self.key_field.name) is None:
            label = self.key_field.label.get(self.locale) or self.key_field.name
            raise QueryError(
                render("key_not_in_file", self.locale, key=label), {"key": [f"no column for {self.key_field.name!r}"]}
            )

    def _records(self, rows: Iterator[tuple[int, Sequence[Any]]], cmap: ColumnMap) -> Iterator[_Pending]:
        parent, children = cmap.parent(), cmap.children()
        tables = sorted({c.table.name for c in children if c.table})
        group_col = self._group_column(cmap)
        current: Optional[_Pending] = None
        zone = self.ctx.timezone
        pidx = [(c.field.name, c.index, cell_reader(c.field, zone)) for c in parent]
        tidx = [
            (
                t,
                [
                    (c.field.name, c.index, cell_reader(c.field, zone))
                    for c in children
                    if c.table and c.table.name == t
                ],
            )
            for t in tables
        ]
        totals = TotalsRows()
        for number, cells in rows:
            if totals.check(number, cells, formulas_of(cells)):
                self.report.skipped.append(SkippedRow(number, render("totals_row", self.locale, row=number)))
                continue
            size = len(cells)
            pvals = {name: _value(cells, i, size, read) for name, i, read in pidx}
            lines = {}
            for t, cols in tidx:
                line = {name: v for name, i, read in cols if (v := _value(cells, i, size, read)) is not None}
                if line:
                    lines[t] = line
            if all(v is None for v in pvals.values()) and not lines:
                continue  # an empty row
            self.report.rows += 1
            group = (pvals.get(group_col.field.name) if group_col else tuple(pvals.values())) if tables else None
            continues = (
                current is not None
                and tables
                and lines
                and (
                    all(v is None for v in pvals.values())
                    or (group is not None and group == current.group and group not in ((), None))
                )
            )
            if continues:
                assert current is not None
                current.rows.append(number)
                for t, line in lines.items():
                    current.data.setdefault(t, []).append(line)
                    current.line_rows.setdefault(t, []).append(number)
                continue
            if current is not None:
                yield current
            data: dict[str, Any] = {k: v for k, v in pvals.items() if v is not None}
            current = _Pending([number], data, {}, group)
            for t, line in lines.items():
                data[t] = [line]
                current.line_rows[t] = [number]
        if current is not None:
            yield current

    def _group_column(self, cmap: ColumnMap) -> Optional[Column]:
        if self.key_field is not None:
            return cmap.by_path(self.key_field.name)
        for c in cmap.parent():
            if c.field.unique or c.field.is_autonumber:
                return c
        return None

    # ---- running --------------------------------------------------------------------

    def run(self, rows: Iterable[tuple[int, Sequence[Any]]]) -> ImportReport:
        """Import the rows; returns the report (never raises for bad data, only for bad requests)."""
        it = iter(rows)
        cmap = self._find_header(it)
        self.cmap = cmap
        self.report.header_row = cmap.header_row
        self.report.unknown_columns = list(cmap.unknown)
        self.report.columns = {c.header: c.path for c in cmap.columns}
        self._check_columns(cmap)
        records = self._records(it, cmap)
        if self.mode == "all-or-nothing":
            # Every chunk is written, also after an error, so that the database's own checks
            # (unique columns and indexes, rules refusing) report their rows too; one
            # transaction holds them all and rolls back unless the whole file is valid.
            with self.db.begin() as conn:
                for chunk in _chunks(records, self.chunk):
                    self._chunk(conn, chunk)
                if self.report.error_count or self.dry_run:
                    conn.rollback()
                else:
                    self.report.written = True
            if self.report.error_count and not self.dry_run:
                self.report.created = self.report.updated = 0
        else:
            for chunk in _chunks(records, self.chunk):
                with self.db.begin() as conn:
                    self._chunk(conn, chunk)
                    if self.dry_run:
                        conn.rollback()
            self.report.written = not self.dry_run and (self.report.created + self.report.updated) > 0
        return self.report

    def _chunk(self, conn: Connection, chunk: list[_Pending]) -> None:
        with self.store.bus.deferring(conn):  # rollups over this form: once per chunk, not per row
            self._chunk_rows(conn, chunk)

    def _chunk_rows(self, conn: Connection, chunk: list[_Pending]) -> None:
        self.report.records += len(chunk)
        self._resolve_links(conn, chunk)
        if self.key_field is not None:
            self._match_keys(conn, chunk)
        for rec in chunk:
            if rec.failed:
                continue
            try:
                rec.clean = self.store.validate(self.ctx, self.form, rec.data, partial=rec.target is not None)
            except ValidationError as exc:
                self._fail(rec, exc.fields)
            else:
                action = "update" if rec.target else "create"
                if not self._can[action]:
                    self._fail(
                        rec, {"_": [render("not_permitted", self.locale, action=action_word(action, self.locale))]}
                    )
        creates = [r for r in chunk if not r.failed and r.target is None]
        updates = [r for r in chunk if not r.failed and r.target is not None]
        if creates:
            self._create(conn, creates)
        for rec in updates:
            self._update(conn, rec)

    def _create(self, conn: Connection, recs: list[_Pending]) -> None:
        try:
            with attempt(conn):  # on failure, redone record by record: its rule runs are not kept
                made = self.store.create_many(conn, self.ctx, self.form, [r.clean for r in recs], writer=self.writer)
                self._must_see(conn, [m["id"] for m in made], "create")
        except LowcodeError:
            for rec in recs:  # find the culprits one by one
                self._create_one(conn, rec)
            return
        self.report.created += len(recs)

    def _create_one(self, conn: Connection, rec: _Pending) -> None:
        try:
            with conn.begin_nested():
                made = self.store.create(conn, self.ctx, self.form, rec.clean, writer=self.writer)
                self._must_see(conn, [made["id"]], "create")
        except LowcodeError as exc:
            self._fail_exc(rec, exc, "create")
        else:
            self.report.created += 1

    def _update(self, conn: Connection, rec: _Pending) -> None:
        assert rec.target is not None
        record_id, version = rec.target
        where = self.policy.acting_clause(self.ctx, self.form, "update")
        try:
            with conn.begin_nested():
                self.store.update(
                    conn,
                    self.ctx,
                    self.form,
                    record_id,
                    rec.clean,
                    writer=self.writer,
                    expected_version=version,
                    where=where,
                )
                self._must_see(conn, [record_id], "update")
        except LowcodeError as exc:
            self._fail_exc(rec, exc, "update")
        else:
            self.report.updated += 1

    def _must_see(self, conn: Connection, ids: list[int], action: str) -> None:
        if not self.policy.all_within(conn, self.ctx, self.form, ids, action):
            raise PermissionDenied(f"outside the rows you may {action}")

    # ---- keys and links -------------------------------------------------------------------

    def _match_keys(self, conn: Connection, chunk: list[_Pending]) -> None:
        assert self.key_field is not None
        name = self.key_field.name
        parse = FIELD_TYPES[self.key_field.type].parse
        keyed: dict[Any, _Pending] = {}
        for rec in chunk:
            raw = rec.data.get(name)
            if raw is None:
                if self.key_field.is_autonumber:
                    continue  # a new record: the number comes from the sequence
                label = self.key_field.label.get(self.locale) or name
                self._fail(rec, {name: [render("key_missing", self.locale, key=label)]})
                continue
            try:
                value = parse(self.key_field, raw)
            except ValueError:
                value = raw
            if value in keyed or value in self.seen_keys:
                first = keyed[value].rows[0] if value in keyed else self.seen_keys[value]
                self._fail(rec, {name: [render("key_repeated", self.locale, key=raw, row=first)]})
                continue
            keyed[value] = rec
        if len(self.seen_keys) > 100_000:
            self.seen_keys.clear()
        self.seen_keys.update({k: r.rows[0] for k, r in keyed.items()})
        if not keyed:
            return
        table = self.defs.tables.table(self.form)
        col = table.c[name]
        found = conn.execute(sa.select(col, table.c.id, table.c.version).where(col.in_(list(keyed))))
        visible = self.policy.acting_clause(self.ctx, self.form, "update")
        allowed: Optional[set[int]] = None
        rows = list(found)
        if visible is not None and rows:
            allowed = {
                i for (i,) in conn.execute(sa.select(table.c.id).where(table.c.id.in_([r.id for r in rows]), visible))
            }
        for row in rows:
            hit = keyed.get(row[0])
            if hit is None:
                continue
            if allowed is not None and row.id not in allowed:
                self._fail(
                    hit, {name: [render("not_permitted", self.locale, action=action_word("update", self.locale))]}
                )
                continue
            hit.target = (row.id, row.version)

    def _resolve_links(self, conn: Connection, chunk: list[_Pending]) -> None:
        """Names in link, multilink and user cells -> ids (one query per target and chunk)."""
        for c in self.cmap.columns:
            f, table = c.field, (c.table.name if c.table else None)
            if f.is_user:
                target = None
            elif f.refers_to_records and f.form in self.defs.forms:
                target = self.defs.forms[f.form or ""]
            else:
                continue
            form_key = (f.form or "") if target else ""  # with a target, f.form names it
            resolver = self.resolvers.get(form_key)
            if resolver is None:
                resolver = self.resolvers[form_key] = LinkResolver(target, self.defs.tables)
            holders = (
                [(rec, f.name, rec.data) for rec in chunk]
                if table is None
                else [
                    (rec, f"{table}[{i}].{f.name}", line)
                    for rec in chunk
                    for i, line in enumerate(rec.data.get(table, ()), 1)
                ]
            )
            values: list[Any] = []
            for _, _, holder in holders:
                raw = holder.get(f.name)
                values.extend(raw if isinstance(raw, list) else (raw,))
            resolver.resolve(conn, values)
            label = target.label.get(self.locale) if target else None
            for rec, path, holder in holders:
                raw = holder.get(f.name)
                if raw is None:
                    continue
                ids = [self._resolved(rec, path, resolver, v, label) for v in (raw if isinstance(raw, list) else [raw])]
                holder[f.name] = ids if isinstance(raw, list) else ids[0]

    def _resolved(self, rec: _Pending, path: str, resolver: LinkResolver, raw: Any, label: Optional[str]) -> Any:
        """The id for one name, or the name itself after recording why it names nothing."""
        if isinstance(raw, int):
            return raw
        hit = resolver.get(raw)
        if hit is None:
            message = (
                render("no_link", self.locale, form=label, value=raw)
                if label is not None
                else render("no_user", self.locale, value=raw)
            )
            self._fail(rec, {path: [message]})
        elif hit == "ambiguous":
            self._fail(rec, {path: [render("ambiguous_link", self.locale, form=label, value=raw)]})
        else:
            return hit
        return raw

    # ---- errors ---------------------------------------------------------------------------

    def _fail_exc(self, rec: _Pending, exc: LowcodeError, action: str) -> None:
        fields = getattr(exc, "fields", None) or {}
        if isinstance(exc, ValidationError):
            self._fail(rec, fields)
        elif isinstance(exc, PermissionDenied):
            self._fail(
                rec, fields or {"_": [render("not_permitted", self.locale, action=action_word(action, self.locale))]}
            )
        elif isinstance(exc, Duplicate):  # named by the columns as the sheet heads them
            message = duplicate([self._locate(rec, name)[1] for name in exc.unique], self.locale)
            self._fail(rec, {name: [message] for name in exc.unique})
        elif isinstance(exc, Conflict) and fields:
            self._fail(rec, fields)
        else:
            self._fail(rec, {"_": [str(exc)]})

    def _fail(self, rec: _Pending, fields: dict[str, list[str]]) -> None:
        if not rec.failed:
            rec.failed = True
            self.report.failed += 1
        for path, messages in fields.items():
            row, column, fname = self._locate(rec, path)
            for message in messages:
                self.report.add(RowError(row, column, message, fname))

    def _locate(self, rec: _Pending, path: str) -> tuple[int, str, Optional[str]]:
        """The spreadsheet row and column of an error path (``qty``, ``lines[2].qty``)."""
        m = _PATH.match(path)
        if not m or path == "_":
            return rec.rows[0], "", None
        name, line, child = m.group(2), m.group(3), m.group(4)
        if line and child:
            rows = rec.line_rows.get(name, [])
            row = rows[int(line) - 1] if 0 < int(line) <= len(rows) else rec.rows[0]
            col = self.cmap.by_path(f"{name}.{child}")
            if col is not None:
                return row, col.header, f"{name}.{child}"
            tspec = self.spec.field(name)
            cspec = tspec.child(child) if tspec else None
            return (
                row,
                (
                    f"{tspec.label.get(self.locale)}.{cspec.label.get(self.locale)}"
                    if tspec and cspec
                    else f"{name}.{child}"
                ),
                f"{name}.{child}",
            )
        col = self.cmap.by_path(name)
        if col is not None:
            return rec.rows[0], col.header, name
        f = self.spec.field(name)
        return rec.rows[0], (f.label.get(self.locale) if f else name), name


def _value(cells: Sequence[Any], i: int, size: int, read: Any) -> Any:
    """Cell ``i`` of a row (None past its end), as the field's parser takes it."""
    value = cells[i] if i < size else None
    return value if value is None or read is None else read(value)


def _chunks(records: Iterator[_Pending], size: int) -> Iterator[list[_Pending]]:
    chunk: list[_Pending] = []
    for rec in records:
        chunk.append(rec)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def numbered(rows: Iterable[Sequence[Any]], start: int = 1) -> Iterator[tuple[int, Sequence[Any]]]:
    """Number plain rows as a spreadsheet would (for rows that do not come from a reader)."""
    return enumerate(rows, start=start)
