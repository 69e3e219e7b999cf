"""Records to JSON-safe dicts (for audit, versions and the API) and back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping

from engine.definitions.model import FieldSpec, FormSpec
from engine.forms import FIELD_TYPES

SYSTEM_COLUMNS = ("id", "version", "owner", "created_at", "created_by", "updated_at", "updated_by")


def json_value(value: Any) -> Any:
    """Any stored Python value as JSON (dates as ISO text, decimals as strings)."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    return value


def dump_field(spec: FieldSpec, value: Any) -> Any:
    if value is None:
        return None
    if spec.is_table:
        return [dump_row(spec.fields, row) for row in value]
    return json_value(FIELD_TYPES[spec.type].dump(spec, value))


def dump_row(fields: tuple[FieldSpec, ...], row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row.get("id")}
    for spec in fields:
        if spec.name in row:
            out[spec.name] = dump_field(spec, row[spec.name])
    return out


def dump_record(form: FormSpec, record: Mapping[str, Any]) -> dict[str, Any]:
    """The whole record as JSON: system columns, then fields in form order."""
    out = {k: json_value(record.get(k)) for k in SYSTEM_COLUMNS if k in record}
    for spec in form.fields:
        if spec.name in record:
            out[spec.name] = dump_field(spec, record[spec.name])
    return out


def parse_snapshot(form: FormSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """A stored JSON snapshot back to Python values (best effort, for ``as of`` views)."""
    out: dict[str, Any] = {k: data.get(k) for k in SYSTEM_COLUMNS if k in data}
    for key in ("created_at", "updated_at"):
        if isinstance(out.get(key), str):
            out[key] = dt.datetime.fromisoformat(out[key])
    for spec in form.fields:
        if spec.name not in data or data[spec.name] is None:
            out[spec.name] = data.get(spec.name)
        elif spec.is_table:
            out[spec.name] = [
                {"id": r.get("id"), **{c.name: _parse(c, r.get(c.name)) for c in spec.fields}} for r in data[spec.name]
            ]
        else:
            out[spec.name] = _parse(spec, data[spec.name])
    return out


def _parse(spec: FieldSpec, value: Any) -> Any:
    if value is None or FIELD_TYPES[spec.type].computed:
        return value
    try:
        return FIELD_TYPES[spec.type].parse(spec, value)
    except ValueError:
        return value
