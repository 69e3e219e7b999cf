"""The journal of every write: an audit row (field-level old -> new, who, which path) and a
version snapshot per record, one ``executemany`` each however many records one write touched.

:func:`journal` writes the entries of created, updated and deleted records; a change that
amends the version its write made (a rule's ``set`` on the record whose change triggered it)
rewrites that version's snapshot instead of adding one. :func:`journal_created` is its fast
path for a bulk create (imports, the batch API): the work per field is looked up once per
form, and the system columns every record of the batch shares (version 1, owner, times,
users) are serialised once per batch. The snapshot is the record as JSON
(:func:`engine.store.serialize.dump_record`).

Inside :func:`deferred` (the outermost write of a change: the record and everything its
events write again) the rows wait and go out together when it ends, so that a create whose
rule amends it writes one audit ``executemany`` and one snapshot, the amended one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from engine.context import RunContext
from engine.definitions.model import FieldSpec, FormSpec
from engine.store import system
from engine.store.dialect import insert_many
from engine.store.serialize import SYSTEM_COLUMNS, dump_field, dump_record, json_value
from engine.store.statements import insert_into

_DUMPERS: dict[int, tuple[FormSpec, list[tuple[str, Callable[[Any], Any]]]]] = {}
_PENDING = "lc_journal_pending"  # in the connection's info while a write defers its journal


@dataclass(frozen=True)
class Entry:
    """One record's line in the journal: the record as the write left it (as it was, when
    deleted, with the version its deletion takes) and its changes (field -> ``[old, new]``)."""

    action: str  # create | update | delete
    record: Mapping[str, Any]
    changes: Mapping[str, Any]
    amend: bool = False  # part of the write that made the record's current version
    data: Optional[Mapping[str, Any]] = None  # the record already dumped (dump_record), if the writer has it


def dumped(spec: FormSpec, record: Mapping[str, Any]) -> dict[str, Any]:
    """Field values as JSON, by field name (system columns left out)."""
    data = dump_record(spec, record)
    return {f.name: data.get(f.name) for f in spec.fields}


def changes_between(spec: FormSpec, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{field: [old, new]}`` of the fields whose JSON value differs (empty ones left out of a
    created or deleted record)."""
    return changes_of(
        spec, None if old is None else dump_record(spec, old), None if new is None else dump_record(spec, new)
    )


def changes_of(spec: FormSpec, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, Any]:
    """:func:`changes_between` of two records already dumped (:func:`dump_record`)."""
    names = [f.name for f in spec.fields]
    if before is None:
        return {f: [None, v] for f in names if (v := (after or {}).get(f)) not in (None, [])}
    if after is None:
        return {f: [v, None] for f in names if (v := before.get(f)) not in (None, [])}
    return {f: [before.get(f), after.get(f)] for f in names if before.get(f) != after.get(f)}


class _Pending:
    """The journal rows of a write under way: audit rows in order, snapshots by record version."""

    __slots__ = ("audit", "versions")

    def __init__(self) -> None:
        self.audit: list[dict[str, Any]] = []
        self.versions: dict[tuple[str, int, int], dict[str, Any]] = {}


@contextlib.contextmanager
def deferred(conn: Any) -> Iterator[None]:
    """Keep the journal rows written inside until the block ends, then write them (one
    ``executemany`` each); nested blocks join the outermost. Nothing is written if it raises."""
    if _PENDING in conn.info:
        yield
        return
    pending = conn.info[_PENDING] = _Pending()
    try:
        yield
    finally:
        conn.info.pop(_PENDING, None)
    if pending.audit:
        conn.execute(insert_into(system.audit), pending.audit)
    if pending.versions:
        conn.execute(insert_into(system.record_versions), list(pending.versions.values()))


def journal(
    conn: Any, ctx: RunContext, spec: FormSpec, entries: Sequence[Entry], now: dt.datetime, source: str
) -> None:
    """Write the audit rows and version snapshots of ``entries`` (one ``executemany`` each; inside
    :func:`deferred`, when it ends)."""
    if not entries:
        return
    pending: _Pending | None = conn.info.get(_PENDING)
    audit, versions = [], []
    for e in entries:
        rec = e.record
        audit.append(
            {
                "form": spec.name,
                "record_id": rec["id"],
                "action": e.action,
                "at": now,
                "user_id": ctx.user_id,
                "username": ctx.username,
                "version": rec["version"],
                "changes": dict(e.changes),
                "source": source,
            }
        )
        key = (spec.name, rec["id"], rec["version"])
        if e.amend:  # the version's snapshot is the record as its whole change left it
            if pending is not None and key in pending.versions:
                pending.versions[key]["data"] = e.data or dump_record(spec, rec)
                continue
            v = system.record_versions
            conn.execute(
                v.update()
                .where(v.c.form == spec.name, v.c.record_id == rec["id"], v.c.version == rec["version"])
                .values(data=e.data or dump_record(spec, rec))
            )
            continue
        row = {
            "form": spec.name,
            "record_id": rec["id"],
            "version": rec["version"],
            "at": now,
            "user_id": ctx.user_id,
            "deleted": e.action == "delete",
            "data": e.data or dump_record(spec, rec),
        }
        if pending is not None:
            pending.versions[key] = row
        else:
            versions.append(row)
    if pending is not None:
        pending.audit.extend(audit)
        return
    conn.execute(insert_into(system.audit), audit)
    if versions:
        conn.execute(insert_into(system.record_versions), versions)


def journal_created(
    conn: Any, ctx: RunContext, spec: FormSpec, records: Sequence[Mapping[str, Any]], now: dt.datetime, source: str
) -> list[dict[str, Any]]:
    """Write the audit rows and versions of records just created together (version 1, the same
    owner, times and users, as ``RecordStore.create_many`` makes them); each record's changes
    (field -> ``[None, value]``), in the order of ``records``."""
    if not records:
        return []
    fields = _field_dumpers(spec)
    shared = {k: json_value(records[0][k]) for k in SYSTEM_COLUMNS if k != "id" and k in records[0]}
    audit, versions, dumped = [], [], []
    form, user_id, username = spec.name, ctx.user_id, ctx.username
    for rec in records:
        data: dict[str, Any] = {"id": rec["id"], **shared}
        changes: dict[str, Any] = {}
        for name, fn in fields:
            if name in rec:
                value = rec[name]
                if value is not None:
                    value = fn(value)
                    if value != []:
                        changes[name] = [None, value]
                data[name] = value
        dumped.append(changes)
        audit.append(
            {
                "form": form,
                "record_id": rec["id"],
                "action": "create",
                "at": now,
                "user_id": user_id,
                "username": username,
                "version": 1,
                "changes": changes,
                "source": source,
            }
        )
        versions.append(
            {
                "form": form,
                "record_id": rec["id"],
                "version": 1,
                "at": now,
                "user_id": user_id,
                "deleted": False,
                "data": data,
            }
        )
    insert_many(conn, system.audit, audit)
    insert_many(conn, system.record_versions, versions)
    return dumped


def _field_dumpers(spec: FormSpec) -> list[tuple[str, Callable[[Any], Any]]]:
    """(field name, value -> JSON) for every field of ``spec``, built once per form."""
    cached = _DUMPERS.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    fns = [(f.name, _field_dumper(f)) for f in spec.fields]
    _DUMPERS[id(spec)] = (spec, fns)
    return fns


def _field_dumper(f: FieldSpec) -> Callable[[Any], Any]:
    from engine.forms import FIELD_TYPES
    from engine.forms.fieldtype import FieldType

    ftype = FIELD_TYPES[f.type]
    if f.is_table:
        return lambda v: dump_field(f, v)
    if type(ftype).dump is FieldType.dump:
        return lambda v: v if type(v) is str or type(v) is int else json_value(v)
    dump = ftype.dump

    def dumped(v: Any) -> Any:
        out = dump(f, v)
        return out if type(out) is str else json_value(out)

    return dumped
