"""``POST /w/<form>/compute``: the conditions and formulas only the server can evaluate.

The page sends what the user has typed so far (texts); each value is parsed by its field
type (unparseable input counts as empty) and the expressions listed in the form module's
``server`` list are evaluated with the Python back end, links followed through the database.
Only values of fields and sub-table columns the user may see are returned, and only of
expressions that read none that are hidden (the form module leaves those out too).
"""

from __future__ import annotations

from typing import Any, Mapping

from apps.workspace.clientjs import compiled, unseen, withheld
from engine.context import RunContext
from engine.definitions.model import FieldSpec
from engine.expr.jscompile import try_js
from engine.forms import FIELD_TYPES, FieldError
from engine.platform import Platform
from engine.runtime import Definitions
from engine.store.access import ConnAccess
from engine.store.serialize import json_value

KEYS = ("visible_if", "required_if", "readonly_if", "formula")


def _parse(spec: FieldSpec, value: Any) -> Any:
    if value in (None, "", []):
        return None
    ftype = FIELD_TYPES.get(spec.type)
    if ftype is None:
        return value
    try:
        return ftype.parse(spec, value)
    except (FieldError, ValueError, TypeError):
        return None


def parse_loose(fields: tuple[FieldSpec, ...], data: Mapping[str, Any]) -> dict[str, Any]:
    """Typed values from a partly filled form; what does not parse counts as empty."""
    out: dict[str, Any] = {}
    for spec in fields:
        if spec.fields:
            rows = data.get(spec.name)
            out[spec.name] = (
                [parse_loose(spec.fields, r) for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []
            )
        else:
            out[spec.name] = _parse(spec, data.get(spec.name))
    return out


def compute(
    platform: Platform, defs: Definitions, ctx: RunContext, form: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    """``{"values": {"formula:total": ..., "visible_if:x": ...}, "rows": {"formula:lines.amount": [...]}}``."""
    spec = defs.forms[form]
    hidden = defs.policy.hidden(ctx, form)
    blind = unseen(defs, form, hidden)
    record = parse_loose(spec.fields, data)
    values: dict[str, Any] = {}
    rows: dict[str, list[Any]] = {}
    with platform.db.connect() as conn:
        access = ConnAccess(conn, platform.store())
        for f in spec.fields:
            if f.name in hidden:
                continue
            for key in KEYS:
                ce = compiled(defs, form, None, f, key)
                if ce is not None and try_js(ce) is None and not withheld(ce, blind):
                    values[f"{key}:{f.name}"] = json_value(_safe(ce, record, ctx, access))
            if not f.is_table:
                continue
            for child in f.fields:
                if f"{f.name}.{child.name}" in hidden:
                    continue
                for key in KEYS:
                    ce = compiled(defs, form, f.name, child, key)
                    if ce is not None and try_js(ce) is None and not withheld(ce, blind, f.name):
                        rows[f"{key}:{f.name}.{child.name}"] = [
                            json_value(_safe(ce, row, ctx, access)) for row in record.get(f.name) or []
                        ]
    return {"values": values, "rows": rows}


def _safe(ce: Any, record: Mapping[str, Any], ctx: RunContext, access: Any) -> Any:
    try:
        return ce.evaluate(record, ctx, data=access)
    except Exception:  # noqa: BLE001 - a half-filled form may not evaluate; show nothing
        return None
