"""Many creates and updates in one transaction, all or nothing, errors by item index.

Items without ``id`` are created (through ``RecordStore.create_many``); items with ``id`` and
``version`` update that record, each record at most once (two items with the same ``id`` are
refused, naming both: ``items[2].id``, ``items[5].id``). Error paths are ``items[<index from 0>].<field>`` and, for
sub-tables, ``items[3].lines[1].qty`` (lines counted from 1, as everywhere in validation).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping, Optional, Protocol, Sequence

from engine.context import RunContext
from engine.errors import Conflict, NotFound, PermissionDenied, QueryError, ValidationError
from engine.field_errors import render
from engine.io.messages import render as io_message
from engine.runtime import Definitions
from engine.security.fields import blocked_in
from engine.store.idempotency import IdempotencyKey
from engine.store.records import RecordStore
from engine.store.write import Checked
from engine.store.writer import Writer

_INDEXED = re.compile(r"^\[(\d+)\]\.(.*)$")


class BatchRecords(Protocol):
    """What a batch asks of the service layer's records (:class:`engine.service.Records` is
    one): the permission checks around the store's writes and the answers."""

    def kept_columns(
        self,
        defs: Definitions,
        ctx: RunContext,
        form: str,
        record_id: int,
        data: Any,
        version: Optional[int],
        where: Any,
    ) -> tuple[Any, Optional[int]]: ...

    def in_transaction(self, idem: Optional[IdempotencyKey], status: int, work: Callable[[Any], Any]) -> Any: ...

    def must_see(
        self, defs: Definitions, ctx: RunContext, conn: Any, form: str, ids: Sequence[int], action: str
    ) -> None: ...

    def after_rules(
        self, defs: Definitions, store: RecordStore, conn: Any, form: str, record: dict[str, Any]
    ) -> dict[str, Any]: ...

    def answers(
        self, defs: Definitions, ctx: RunContext, conn: Any, form: str, records: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]: ...


def run_batch(
    records: BatchRecords,
    defs: Definitions,
    store: RecordStore,
    ctx: RunContext,
    form: str,
    items: Any,
    *,
    max_items: int = 1000,
    source: str = "batch",
    idem: Optional[IdempotencyKey] = None,
) -> list[dict[str, Any]]:
    """Validate every item first (all errors at once), then write them all in one transaction
    of ``store``, with the permission checks of ``records``."""
    if not isinstance(items, list):
        raise QueryError('the body must be {"items": [...]}', {"items": ["must be a list"]})
    if not items:
        return []
    if len(items) > max_items:
        raise QueryError(
            f"at most {max_items} items per batch, not {len(items)}", {"items": [f"at most {max_items} items"]}
        )
    policy = defs.policy
    blocked = policy.not_writable(ctx, form)
    where = policy.acting_clause(ctx, form, "update")
    errors: dict[str, list[str]] = {}
    denied: dict[str, list[str]] = {}
    creates: list[tuple[int, Checked]] = []
    updates: list[tuple[int, int, int, Checked]] = []
    first_of: dict[int, int] = {}  # record id -> the position of the first update of it
    for i, item in enumerate(items):
        prefix = f"items[{i}]"
        if not isinstance(item, Mapping):
            errors.setdefault(prefix, []).append(render("not_object", ctx.locale))
            continue
        data = dict(item)
        record_id, version = data.pop("id", None), data.pop("version", None)
        for path in blocked_in(defs.forms[form], data, blocked):
            denied.setdefault(f"{prefix}.{path}", []).append(render("readonly", ctx.locale))
        if record_id is not None and (not isinstance(record_id, int) or not isinstance(version, int)):
            errors.setdefault(f"{prefix}.version", []).append(
                "an update needs a whole-number id and the version you read"
                if ctx.locale == "en"
                else "修改需要记录编号 id 和读取时的版本 version"
            )
            continue
        if record_id is not None and first_of.setdefault(record_id, i) != i:
            _same_record(errors, form, record_id, first_of[record_id], i, ctx.locale)
            continue
        if record_id is not None and not denied:
            data, _ = records.kept_columns(defs, ctx, form, record_id, data, version, where)
        try:
            clean = store.validate(ctx, form, data, partial=record_id is not None)
        except ValidationError as exc:
            for path, messages in exc.fields.items():
                errors.setdefault(f"{prefix}.{path}", []).extend(messages)
            continue
        if record_id is None:
            creates.append((i, clean))
        else:
            updates.append((i, record_id, version, clean))
    if creates:
        policy.require(ctx, form, "create")
    if updates:
        policy.require(ctx, form, "update")
    if denied:
        raise PermissionDenied(f"you may not write {', '.join(sorted(denied))}", denied)
    if errors:
        raise ValidationError(errors)
    writer = Writer.user(ctx, source)

    def work(conn: Any) -> list[dict[str, Any]]:
        with store.bus.deferring(conn):
            return _write(records, defs, store, conn, ctx, form, creates, updates, where, writer)

    return records.in_transaction(idem, 200, work)  # type: ignore[no-any-return]


def _write(
    records: BatchRecords,
    defs: Definitions,
    store: RecordStore,
    conn: Any,
    ctx: RunContext,
    form: str,
    creates: list[tuple[int, Checked]],
    updates: list[tuple[int, int, int, Checked]],
    where: Any,
    writer: Writer,
) -> list[dict[str, Any]]:
    """The batch's writes, in one transaction: the creates at once, then each update."""
    out: dict[int, dict[str, Any]] = {}
    if creates:
        try:
            made = store.create_many(conn, ctx, form, [c for _, c in creates], writer=writer)
        except (ValidationError, Conflict, PermissionDenied) as exc:
            raise _reindexed(exc, [i for i, _ in creates]) from None
        records.must_see(defs, ctx, conn, form, [m["id"] for m in made], "create")
        for (i, _), rec in zip(creates, made):
            out[i] = rec
    for i, record_id, version, clean in updates:
        try:
            out[i] = store.update(
                conn, ctx, form, record_id, clean, writer=writer, expected_version=version, where=where
            )
        except ValidationError as exc:
            raise ValidationError({f"items[{i}].{k}": v for k, v in exc.fields.items()}) from None
        except (Conflict, PermissionDenied) as exc:  # a stale version, a duplicate, a guard's refusal
            kind = Conflict if isinstance(exc, Conflict) else PermissionDenied
            raise kind(
                f"items[{i}]: {exc}",
                {f"items[{i}].{k}": v for k, v in exc.fields.items()} or {f"items[{i}]": [str(exc)]},
            ) from None
        except NotFound:
            raise NotFound(f"items[{i}]: {form} {record_id} not found") from None
        records.must_see(defs, ctx, conn, form, [record_id], "update")
    for i in out:  # as the rules left them (a set/decide action amends the version)
        out[i] = records.after_rules(defs, store, conn, form, out[i])
    return records.answers(defs, ctx, conn, form, [out[i] for i in sorted(out)])


def _same_record(errors: dict[str, list[str]], form: str, record_id: int, first: int, again: int, locale: str) -> None:
    """Two updates of one record: both positions are named (one would silently undo the other)."""
    for here, other in ((first, again), (again, first)):
        errors.setdefault(f"items[{here}].id", []).append(
            io_message("same_record", locale, other=f"items[{other}]", form=form, id=record_id)
        )


def _reindexed(exc: Exception, positions: list[int]) -> Exception:
    fields = getattr(exc, "fields", {}) or {}
    moved: dict[str, list[str]] = {}
    for path, messages in fields.items():
        m = _INDEXED.match(path)
        moved[f"items[{positions[int(m.group(1))]}].{m.group(2)}" if m else path] = messages
    if isinstance(exc, ValidationError):
        return ValidationError(moved)
    if isinstance(exc, PermissionDenied):
        return PermissionDenied(str(exc), moved)
    return Conflict(str(exc), moved)
