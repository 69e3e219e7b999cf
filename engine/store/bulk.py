"""The journal of many created records at once: their audit rows and version snapshots.

A bulk create (imports, the batch API) writes one audit row and one version row per record,
as a single create does, with one ``executemany`` each. The snapshot is the record as JSON
(:func:`engine.store.serialize.dump_record`); the work per field is looked up once per form,
and the system columns every record of the batch shares (version 1, owner, times, users)
are serialised once per batch.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping, Sequence

from engine.context import RunContext
from engine.definitions.model import FieldSpec, FormSpec
from engine.store import system
from engine.store.dialect import insert_many
from engine.store.serialize import SYSTEM_COLUMNS, dump_field, json_value

_DUMPERS: dict[int, tuple[FormSpec, list[tuple[str, Callable[[Any], Any]]]]] = {}


def journal_created(conn: Any, ctx: RunContext, spec: FormSpec, records: Sequence[Mapping[str, Any]],
                    now: dt.datetime, source: str) -> list[dict[str, Any]]:
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
        audit.append({"form": form, "record_id": rec["id"], "action": "create", "at": now, "user_id": user_id,
                      "username": username, "version": 1, "changes": changes, "source": source})
        versions.append({"form": form, "record_id": rec["id"], "version": 1, "at": now, "user_id": user_id,
                         "deleted": False, "data": data})
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
    if f.type == "table":
        return lambda v: dump_field(f, v)
    if type(ftype).dump is FieldType.dump:
        return lambda v: v if type(v) is str or type(v) is int else json_value(v)
    dump = ftype.dump

    def dumped(v: Any) -> Any:
        out = dump(f, v)
        return out if type(out) is str else json_value(out)
    return dumped
