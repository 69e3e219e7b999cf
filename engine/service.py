"""Records as every entry point sees them: permissions, then the store's one write pipeline.

The API, the workspace, the command line, batches and imports all call this for the
permissions (form action, writable fields, rows), and the store for the rest: validation,
write guards, formulas, rows, journal and events (:mod:`engine.store.write`), so no path can
skip a permission, a validation, a guard or the event pipeline.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence

import sqlalchemy as sa

from engine.context import RunContext
from engine.errors import NotFound, PermissionDenied
from engine.flows.changes import ChangeRequested
from engine.listing import ListQuery, build_where
from engine.pinned import AtRevision, refuse_unwritable
from engine.platform import Platform
from engine.rules.flags import distinct, flag_rows
from engine.rules.log import write_now
from engine.runtime import Definitions
from engine.security.fields import changes_without_hidden, needs_stored, with_stored, without_hidden
from engine.store.idempotency import IdempotencyKey, once
from engine.store.recent import copy_record, kept_data
from engine.store.records import RecordStore
from engine.store.serialize import dump_record
from engine.store.writer import Writer


class Records:
    """Create, read, update, delete and list records for one caller at a time."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def _defs(self, form: str) -> Definitions:
        defs = self.platform.definitions()
        if form not in defs.forms:
            raise NotFound(f"no form named '{form}'")
        return defs

    def _check_writable(self, defs: Definitions, ctx: RunContext, form: str, data: Any) -> None:
        refuse_unwritable(defs.forms[form], defs.policy.not_writable(ctx, form), data, ctx.locale)

    def kept_columns(
        self,
        defs: Definitions,
        ctx: RunContext,
        form: str,
        record_id: int,
        data: Any,
        version: Optional[int],
        where: Any,
    ) -> tuple[Any, Optional[int]]:
        """An update's data and expected version, where the sub-table rows that keep their id
        keep the stored values of the columns ``ctx`` may not write (a new row gets their
        defaults). The version read guards the kept values against a concurrent change."""
        spec, blocked = defs.forms[form], defs.policy.not_writable(ctx, form)
        if not needs_stored(spec, data, blocked):
            return data, version
        with self.platform.db.connect() as conn:
            old = self.platform.store_of(defs).get(conn, form, record_id, where=where)
        if old is None:
            return data, version  # the update says it is not found
        return with_stored(spec, data, dump_record(spec, old), blocked), version if version is not None else old[
            "version"
        ]

    def redact(
        self,
        defs: Definitions,
        ctx: RunContext,
        form: str,
        record: Mapping[str, Any],
        data: Optional[Mapping[str, Any]] = None,
    ) -> dict[str, Any]:
        """The record as JSON (``data``: already dumped) with the fields and sub-table columns
        hidden from ``ctx`` left out."""
        spec = defs.forms[form]
        dumped = copy_record(data) if data is not None else dump_record(spec, record)
        return without_hidden(spec, dumped, defs.policy.hidden(ctx, form))

    def _must_see(
        self, defs: Definitions, ctx: RunContext, conn: Any, form: str, ids: Sequence[int], action: str
    ) -> None:
        """The written records stay among the rows ``ctx`` may ``action`` (else all rolls back)."""
        if not defs.policy.all_within(conn, ctx, form, ids, action):
            raise PermissionDenied(f"the record would fall outside the {form} rows you may {action}")

    def _write(self, idem: Optional[IdempotencyKey], status: int, work: Callable[[Any], Any]) -> Any:
        """Run ``work`` in one transaction; with a key, a replay returns the first answer. The
        rule runs of the change are logged in it too (:func:`engine.rules.log.write_now`)."""

        def whole(conn: Any) -> Any:
            answer = work(conn)
            write_now(conn)
            return answer

        return once(self.platform.db, idem, self.platform.clock.now(), status, whole)[0]

    def create(
        self, ctx: RunContext, form: str, data: Any, *, source: str = "api", idem: Optional[IdempotencyKey] = None
    ) -> dict[str, Any]:
        defs = self._defs(form)
        defs.policy.require(ctx, form, "create")
        self._check_writable(defs, ctx, form, data)
        store = self.platform.store_of(defs)
        clean = store.validate(ctx, form, data)

        def work(conn: Any) -> dict[str, Any]:
            record = store.create(conn, ctx, form, clean, writer=Writer.user(ctx, source))
            record = self._after_rules(defs, store, conn, form, record)
            self._must_see(defs, ctx, conn, form, [record["id"]], "create")
            self._live(store, conn, ctx, form, [record])
            return self.answers(defs, ctx, conn, form, [record])[0]

        return self._write(idem, 201, work)

    def update(
        self,
        ctx: RunContext,
        form: str,
        record_id: int,
        data: Any,
        *,
        version: Optional[int],
        source: str = "api",
        idem: Optional[IdempotencyKey] = None,
    ) -> dict[str, Any]:
        defs = self._defs(form)
        defs.policy.require(ctx, form, "update")
        self._check_writable(defs, ctx, form, data)
        where = defs.policy.acting_clause(ctx, form, "update")
        data, version = self.kept_columns(defs, ctx, form, record_id, data, version, where)
        store = self.platform.store_of(defs)
        clean = store.validate(ctx, form, data, partial=True)
        changes = self.platform.changes  # under a flow's change control: a change request (202), nothing written
        if changes.controlling(defs, form):  # (engine/flows/changes.py)
            with self.platform.db.connect() as conn:
                plan = changes.plan(conn, ctx, store, form, record_id, clean, version, where)
            if plan is not None:
                return ChangeRequested(self._write(idem, 202, lambda c: changes.request(c, ctx, store, plan, source)))

        def work(conn: Any) -> dict[str, Any]:
            record = store.update(
                conn,
                ctx,
                form,
                record_id,
                clean,
                writer=Writer.user(ctx, source),
                expected_version=version,
                where=where,
            )
            record = self._after_rules(defs, store, conn, form, record)
            self._must_see(defs, ctx, conn, form, [record_id], "update")
            self._live(store, conn, ctx, form, [record])
            return self.answers(defs, ctx, conn, form, [record])[0]

        return self._write(idem, 200, work)

    def delete(
        self,
        ctx: RunContext,
        form: str,
        record_id: int,
        *,
        version: Optional[int],
        source: str = "api",
        idem: Optional[IdempotencyKey] = None,
    ) -> None:
        defs = self._defs(form)
        defs.policy.require(ctx, form, "delete")
        where = defs.policy.acting_clause(ctx, form, "delete")
        store = self.platform.store_of(defs)

        def work(conn: Any) -> dict[str, Any]:
            store.delete(
                conn, ctx, form, record_id, writer=Writer.user(ctx, source), expected_version=version, where=where
            )
            return {}

        self._write(idem, 204, work)

    def get(self, ctx: RunContext, form: str, record_id: int, *, revision: Optional[int] = None) -> dict[str, Any]:
        """A record the caller may read; with ``revision``, as that revision of its pack
        defines the form (:mod:`engine.pinned`)."""
        defs = self._defs(form)
        defs.policy.require(ctx, form, "read")
        at = self.at_revision(defs, form, revision)
        store = self.platform.store_of(defs)
        with self.platform.db.connect() as conn:
            record = store.get(conn, form, record_id, where=defs.policy.row_clause(ctx, form, "read"))
            if record is None:
                raise NotFound.said("not_found", form=defs.forms[form].label, id=record_id)
            if at is not None:
                return at.answer(conn, ctx, at.read(conn, ctx, [record])[0])
            self._live(store, conn, ctx, form, [record])
            return self.answers(defs, ctx, conn, form, [record])[0]

    def preview(
        self, ctx: RunContext, form: str, record_id: int, changes: Any = None, *, revision: Optional[int] = None
    ) -> dict[str, Any]:
        """The record with ``changes`` as revision ``revision`` (default: the active one)
        would store it: validated as a whole, formulas and checks computed; nothing written."""
        defs = self._defs(form)
        defs.policy.require(ctx, form, "read")
        at = self.at_revision(defs, form, revision or defs.revision(defs.pack_of(form) or ""))
        assert at is not None
        refuse_unwritable(at.spec, frozenset(at.access(ctx)), changes, ctx.locale)
        with self.platform.db.connect() as conn:
            record = at.store.get(conn, form, record_id, where=defs.policy.row_clause(ctx, form, "read"))
            if record is None:
                raise NotFound.said("not_found", form=defs.forms[form].label, id=record_id)
            return at.answer(conn, ctx, at.check(conn, ctx, at.read(conn, ctx, [record])[0], changes))

    def at_revision(self, defs: Definitions, form: str, revision: Optional[int]) -> Optional[AtRevision]:
        """``form`` at ``revision`` of its pack (None: no revision asked for)."""
        return None if revision is None else AtRevision.of(self.platform.active, defs, form, revision)

    def answers(
        self, defs: Definitions, ctx: RunContext, conn: Any, form: str, records: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """Records (that ``ctx`` may read) as the caller gets them: :meth:`redact`-ed, with
        their ``flags`` (:func:`engine.rules.flags.distinct`)."""
        rows = flag_rows(defs, ctx, conn, form, [r["id"] for r in records])
        # the JSON the transaction's write kept is the record's, unless live fields were filled in
        kept = not self.platform.store_of(defs).logic(form).live
        return [
            {
                **self.redact(defs, ctx, form, r, kept_data(conn, form, r["id"]) if kept else None),
                "flags": distinct(rows.get(r["id"], ())),
            }
            for r in records
        ]

    def list_records(self, ctx: RunContext, form: str, query: ListQuery, *, action: str = "read") -> dict[str, Any]:
        """A page of records the caller may see, with the total under the same filters."""
        defs = self._defs(form)
        defs.policy.require(ctx, form, action)
        where, order = build_where(defs, ctx, form, query)
        store = self.platform.store_of(defs)
        with self.platform.db.connect() as conn:
            rows, total = store.select(conn, form, where=where, order_by=order, limit=query.limit, offset=query.offset)
            self._live(store, conn, ctx, form, rows)
            items = self.answers(defs, ctx, conn, form, rows)
        return {"items": items, "total": total, "page": query.page, "limit": query.limit}

    def flags(self, ctx: RunContext, form: str, record_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
        """The flags the rules' ``flag`` actions set on those of ``record_ids`` the caller may
        read, oldest first: ``{id: [{"colour", "tag", "rule", "at"}, ...]}`` (records without
        flags, or outside the caller's rows, are left out). A tag that may show a field hidden
        from the caller (its rule's template names one, or the rule is gone) is None. A
        record's answer carries the same flags once per rule, colour and tag."""
        defs = self._defs(form)
        defs.policy.require(ctx, form, "read")
        wanted = sorted({int(i) for i in record_ids})
        if not wanted:
            return {}
        table = defs.tables.table(form)
        readable = sa.select(table.c.id).where(table.c.id.in_(wanted))
        clause = defs.policy.row_clause(ctx, form, "read")
        if clause is not None:
            readable = readable.where(clause)
        with self.platform.db.connect() as conn:
            return flag_rows(defs, ctx, conn, form, [i for (i,) in conn.execute(readable)])

    def _after_rules(
        self, defs: Definitions, store: RecordStore, conn: Any, form: str, record: dict[str, Any]
    ) -> dict[str, Any]:
        """The record as the rules left it (a ``set``/``decide`` action amends its version)."""
        rules = defs.rules
        if rules is None or not (
            rules.by_event.get((form, "created")) or rules.by_event.get((form, "updated")) or rules.watched.get(form)
        ):
            return record
        fresh = store.get(conn, form, record["id"])
        return fresh if fresh is not None else record

    def _live(self, store: RecordStore, conn: Any, ctx: RunContext, form: str, records: list[dict[str, Any]]) -> None:
        """Compute the ``live: true`` fields (lookups, formulas, rollups not stored) of records read."""
        logic = store.logic(form)
        if not logic.live:
            return
        from engine.store.access import ConnAccess

        access = ConnAccess(conn, store)
        for record in records:
            logic.fill_live(access, ctx, record)

    def history(self, ctx: RunContext, form: str, record_id: int) -> dict[str, Any]:
        """Audit trail and versions of a visible record, hidden fields removed."""
        defs = self._defs(form)
        defs.policy.require(ctx, form, "read")
        hidden = defs.policy.hidden(ctx, form)
        spec = defs.forms[form]
        store = self.platform.store_of(defs)
        with self.platform.db.connect() as conn:
            if store.get(
                conn, form, record_id, where=defs.policy.row_clause(ctx, form, "read")
            ) is None and not self._was_visible(defs, ctx, conn, form, record_id):
                raise NotFound.said("not_found", form=defs.forms[form].label, id=record_id)
            hist = store.history(conn, form, record_id)
        if not hist["versions"]:
            raise NotFound.said("not_found", form=defs.forms[form].label, id=record_id)
        for entry in hist["audit"]:
            entry["changes"] = changes_without_hidden(spec, entry["changes"], hidden)
        for version in hist["versions"]:
            version["data"] = without_hidden(spec, version["data"], hidden)
        return hist

    def _was_visible(self, defs: Definitions, ctx: RunContext, conn: Any, form: str, record_id: int) -> bool:
        """A deleted record's history is shown to those who could see every record."""
        return defs.policy.row_clause(ctx, form, "read") is None

    def as_of(self, ctx: RunContext, form: str, record_id: int, when: Any) -> dict[str, Any]:
        hist = self.history(ctx, form, record_id)
        snapshot = None
        for version in hist["versions"]:
            if version["at"] <= when:
                snapshot = None if version["deleted"] else version["data"]
        if snapshot is None:
            raise NotFound(f"{form} {record_id} did not exist at {when.isoformat()}")
        return snapshot

    # ---- many records at once: import, batch, export ---------------------------------------

    def import_rows(
        self,
        ctx: RunContext,
        form: str,
        rows: Iterable[tuple[int, Sequence[Any]]],
        *,
        mode: str = "all-or-nothing",
        key: Optional[str] = None,
        source: str = "import",
        dry_run: bool = False,
    ) -> Any:
        """Import numbered spreadsheet rows ``(row_number, cells)``; returns an ``ImportReport``."""
        from engine.io.importer import Importer

        defs = self._defs(form)
        importer = Importer(
            defs,
            self.platform.store_of(defs),
            self.platform.db,
            ctx,
            form,
            mode=mode,
            key=key,
            source=source,
            dry_run=dry_run,
        )
        return importer.run(rows)

    def import_file(self, ctx: RunContext, form: str, source: Any, fmt: Optional[str] = None, **options: Any) -> Any:
        """Import an .xlsx or .csv file (a path or a binary file object)."""
        from engine.io.readers import read_rows

        return self.import_rows(ctx, form, read_rows(source, fmt), **options)

    def import_template(self, ctx: RunContext, form: str) -> list[str]:
        """The header row of an empty spreadsheet to fill in for an import, in ``ctx``'s language:
        the columns the caller may write (computed fields left out)."""
        from engine.io.columns import template_header

        defs = self._defs(form)
        if not (defs.policy.can(ctx, form, "create") or defs.policy.can(ctx, form, "update")):
            defs.policy.require(ctx, form, "create")
        return template_header(defs.forms[form], ctx.locale, defs.policy.not_writable(ctx, form))

    def batch(
        self,
        ctx: RunContext,
        form: str,
        items: Any,
        *,
        max_items: int = 1000,
        source: str = "batch",
        idem: Optional[IdempotencyKey] = None,
    ) -> list[dict[str, Any]]:
        """Create (items without ``id``) and update (``id`` + ``version``) records in one
        transaction, all or nothing; errors by ``items[i].field``. With a key, a replay
        returns the first answer."""
        from engine.io.batch import run_batch

        defs = self._defs(form)
        return run_batch(
            self, defs, self.platform.store(), ctx, form, items, max_items=max_items, source=source, idem=idem
        )

    # what a batch asks of the records (engine.io.batch.BatchRecords)
    in_transaction = _write
    must_see = _must_see
    after_rules = _after_rules

    def export_rows(self, ctx: RunContext, form: str, query: ListQuery) -> Iterator[list[Any]]:
        """The header row, then one row per record (and per sub-table line): what the caller may see."""
        from engine.io.exporter import export_rows

        defs = self._defs(form)
        defs.policy.require(ctx, form, "read")
        defs.policy.require(ctx, form, "export")
        where, order = build_where(defs, ctx, form, query)
        return export_rows(self.platform.db, defs, ctx, form, where, order)

    def export_file(self, ctx: RunContext, form: str, query: ListQuery, path: str) -> int:
        """:meth:`export_rows` written to ``path`` (.xlsx or .csv); returns the data row count."""
        from engine.io.exporter import write_file

        rows = self.export_rows(ctx, form, query)
        return write_file(rows, path, title=self._defs(form).forms[form].label.get(ctx.locale))
