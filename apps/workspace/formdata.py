"""Form posts to record data (for Records) and records to what the inputs show.

``raw`` values are what the inputs hold (texts), kept to redraw the form with the user's
input after an error. Sub-table inputs are named ``lines[<n>].<column>``; blank rows are
dropped, and kept rows are numbered from 1 in order, as the validator reports them.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from apps.workspace.fields import FieldView, local_datetime

ROW_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\[(\d+)\]\.([A-Za-z_][A-Za-z0-9_]*)$")
MARKER = ""   # a hidden input with an empty value marks a checkbox / sub-table as present


def _scalar(view: FieldView, values: list[str]) -> tuple[bool, Any, Any]:
    """(present, data value, raw value) of one posted field."""
    if not values:
        return False, None, None
    if view.widget == "checkbox":
        checked = any(v not in (MARKER,) for v in values)
        return True, checked, checked
    if view.widget == "checkboxes":
        chosen = [v for v in values if v != MARKER]
        return True, chosen, chosen
    raw = values[-1]
    value = raw.strip()
    return True, (value if value != "" else None), raw


def read_post(views: Iterable[FieldView], form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(data, raw)`` from a posted form (a werkzeug MultiDict), for the fields in ``views``.

    Every field that is drawn as an input goes into ``data`` when its input was posted,
    whatever the user's permission: the server decides (a tampered read-only field is refused).
    """
    getlist = form.getlist  # type: ignore[attr-defined]
    data: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    row_inputs: dict[str, dict[int, dict[str, list[str]]]] = {}
    for key in form:
        m = ROW_KEY.match(key)
        if m:
            row_inputs.setdefault(m[1], {}).setdefault(int(m[2]), {})[m[3]] = getlist(key)
    for view in views:
        if view.computed:
            continue
        if view.widget == "table":
            if view.name not in form and view.name not in row_inputs:
                continue
            rows, raw_rows = [], []
            for _, inputs in sorted(row_inputs.get(view.name, {}).items()):
                row, raw_row = _row(view, inputs)
                if row is not None:
                    rows.append(row)
                    raw_rows.append(raw_row)
            data[view.name], raw[view.name] = rows, raw_rows
            continue
        present, value, shown = _scalar(view, getlist(view.name))
        if present:
            data[view.name], raw[view.name] = value, shown
    return data, raw


def _row(view: FieldView, inputs: dict[str, list[str]]) -> tuple[Any, dict[str, Any]]:
    row: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    for child in view.children:
        if child.computed:
            continue
        present, value, shown = _scalar(child, inputs.get(child.name, []))
        if present:
            row[child.name], raw[child.name] = value, shown
    filled = [v for v in row.values() if v not in (None, False, [])]
    if not filled:
        return None, raw
    ident = (inputs.get("id") or [""])[-1].strip()
    if ident.isdigit():
        row["id"] = int(ident)
        raw["id"] = ident
    return row, raw


def raw_from_record(views: Iterable[FieldView], record: Mapping[str, Any]) -> dict[str, Any]:
    """A record (as JSON: ``Records.get``) as the inputs show it."""
    raw: dict[str, Any] = {}
    for view in views:
        if view.name not in record:
            continue
        value = record[view.name]
        if view.widget == "table":
            raw[view.name] = [{**{c.name: _shown(c, r.get(c.name)) for c in view.children}, "id": r.get("id")}
                              for r in value or []]
        else:
            raw[view.name] = _shown(view, value)
    return raw


def _shown(view: FieldView, value: Any) -> Any:
    if value is None:
        return None
    if view.widget == "datetime" and isinstance(value, str):
        return local_datetime(value, view.timezone)
    if view.widget in ("checkbox", "checkboxes"):
        return value
    if isinstance(value, (dict, list)):
        import json
        return json.dumps(value, ensure_ascii=False)
    return str(value)
