"""Form posts to record data (for Records) and records to what the inputs show.

``raw`` values are what the inputs hold (texts; a dict of parts for a location, an address or
a group; file ids for files), kept to redraw the form with the user's input after an error.
Sub-table inputs are named ``lines[<n>].<column>``; blank rows are dropped, and kept rows are
numbered from 1 in order, as the validator reports them. Widgets made of several inputs name
them ``<field>.<part>`` (``site.lat``, ``ship_to.city``, ``contact.phone``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional

from apps.workspace.fields import PARTS, FieldView, local_datetime
from apps.workspace.i18n import text
from engine.field_errors import FieldError
from engine.forms.types_extra import format_duration

ROW_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\[(\d+)\]\.")
MARKER = ""  # a hidden input with an empty value marks a checkbox / list / sub-table as present
#: ``upload(field view, uploaded file) -> file id``; raises FieldError when the file does not fit
Upload = Callable[[FieldView, Any], int]
LISTS = ("checkboxes", "multilink")


@dataclass
class Post:
    """One posted form: its values and files (werkzeug MultiDicts) and what reading it found wrong."""

    form: Any
    files: Any = None
    upload: Optional[Upload] = None
    locale: str = "zh-CN"
    errors: dict[str, list[str]] = field(default_factory=dict)

    def values(self, name: str) -> list[str]:
        return list(self.form.getlist(name))

    def has(self, name: str) -> bool:
        return name in self.form

    def uploads(self, name: str) -> list[Any]:
        if self.files is None:
            return []
        return [f for f in self.files.getlist(name) if f and f.filename]

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _text(values: list[str]) -> tuple[bool, Any, Any]:
    if not values:
        return False, None, None
    raw = values[-1]
    value = raw.strip()
    return True, (value if value != "" else None), raw


def _parts(view: FieldView, name: str, post: Post) -> tuple[bool, Any, Any]:
    """A location, an address or a group (whose parts are its fields): one input per part,
    named ``<name>.<part>``; all blank = no value."""
    if view.widget == "group":
        read = [(c.name, _field(c, f"{name}.{c.name}", post)) for c in view.children]
    else:
        read = [(part, _text(post.values(f"{name}.{part}"))) for part in PARTS[view.widget]]
    posted = [(part, value, shown) for part, (present, value, shown) in read if present]
    raw = {part: shown for part, _, shown in posted}
    value = {part: v for part, v, _ in posted if v is not None or view.widget == "group"}
    if not any(v not in (None, [], False) for v in value.values()):
        return bool(posted), None, raw
    if view.widget == "location":  # an address alone is not a place: the type says what is missing
        value.setdefault("lat", "")
        value.setdefault("lng", "")
    return True, value, raw


def _files(view: FieldView, name: str, post: Post) -> tuple[bool, Any, Any]:
    """Kept files (hidden inputs with their ids, less those ticked for removal) and new uploads."""
    if not post.has(name) and not post.uploads(name):
        return False, None, None
    removed = set(post.values(name + ".remove"))
    ids = [int(v) for v in post.values(name) if v.isdigit() and v not in removed]
    for upload in post.uploads(name):
        if post.upload is None:
            continue
        try:
            ids.append(post.upload(view, upload))
        except FieldError as exc:
            post.fail(name, exc.render(post.locale))
    ids = list(dict.fromkeys(ids))
    return True, ids or None, ids


def _json(name: str, post: Post) -> tuple[bool, Any, Any]:
    present, value, raw = _text(post.values(name))
    if value is None:
        return present, None, raw
    try:
        return True, json.loads(value), raw
    except ValueError:
        post.fail(name, text("bad_json", post.locale))
        return True, None, raw


def typed_instant(text: str, timezone: str) -> str:
    """``2026-11-05 09:30`` typed in ``timezone`` as an ISO date-time with its offset, so the
    server reads the moment the user meant; text that is not a date-time is passed on as it is
    (the validator explains it)."""
    from zoneinfo import ZoneInfo

    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        zone = ZoneInfo(timezone)
    except (ValueError, KeyError):
        return text
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)).isoformat()


def _field(view: FieldView, name: str, post: Post) -> tuple[bool, Any, Any]:
    """(present, data value, raw value) of one posted field named ``name``."""
    widget = view.widget
    if widget in PARTS or widget == "group":
        return _parts(view, name, post)
    if widget == "datetime":
        present, value, raw = _text(post.values(name))
        return present, value if value is None else typed_instant(value, view.timezone), raw
    if widget == "files":
        return _files(view, name, post)
    if widget == "json":
        return _json(name, post)
    values = post.values(name)
    if not values:
        return False, None, None
    if widget == "checkbox":
        checked = any(v != MARKER for v in values)
        return True, checked, checked
    if widget in LISTS:
        chosen = [v for v in values if v != MARKER]
        return True, (chosen or None) if widget == "multilink" else chosen, chosen
    return _text(values)


def read_post(
    views: Iterable[FieldView],
    form: Mapping[str, Any],
    files: Any = None,
    upload: Optional[Upload] = None,
    locale: str = "zh-CN",
) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[str]]]:
    """``(data, raw, errors)`` from a posted form (a werkzeug MultiDict, and its files), for
    the fields in ``views``. ``errors`` are what could not even be read (JSON that does not
    parse, an upload that does not fit the field), by field path.

    Every field that is drawn as an input goes into ``data`` when its input was posted,
    whatever the user's permission: the server decides (a tampered read-only field is refused).
    """
    post = Post(form, files, upload, locale)
    data: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    rows_posted: dict[str, set[int]] = {}
    for key in list(form) + list(files or ()):
        m = ROW_KEY.match(key)
        if m:
            rows_posted.setdefault(m[1], set()).add(int(m[2]))
    for view in views:
        if view.computed:
            continue
        if view.widget == "table":
            if view.name not in form and view.name not in rows_posted:
                continue
            rows: list[Any] = []
            raw_rows: list[dict[str, Any]] = []
            for index in sorted(rows_posted.get(view.name, ())):
                row, raw_row = _row(view, f"{view.name}[{index}]", post, len(rows) + 1)
                if row is not None:
                    rows.append(row)
                    raw_rows.append(raw_row)
            data[view.name], raw[view.name] = rows, raw_rows
            continue
        present, value, shown = _field(view, view.name, post)
        if present:
            data[view.name], raw[view.name] = value, shown
    return data, raw, post.errors


def _row(view: FieldView, prefix: str, post: Post, number: int) -> tuple[Any, dict[str, Any]]:
    """One sub-table row (``lines[<n>]``); errors reading it are reported as ``lines[<number>].x``."""
    row: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    errors = post.errors
    post.errors = {}
    for child in view.children:
        if child.computed:
            continue
        present, value, shown = _field(child, f"{prefix}.{child.name}", post)
        if present:
            row[child.name], raw[child.name] = value, shown
    for name in view.withheld:  # not drawn: passed on as sent, for the server to refuse
        if post.has(f"{prefix}.{name}"):
            row[name] = post.values(f"{prefix}.{name}")[-1]
    filled = [v for v in row.values() if v not in (None, False, [])]
    for key, messages in post.errors.items():
        if filled:
            errors[f"{view.name}[{number}]{key[len(prefix) :]}"] = messages
    post.errors = errors
    if not filled:
        return None, raw
    ident = (post.values(f"{prefix}.id") or [""])[-1].strip()
    if ident.isdigit():
        row["id"] = int(ident)
        raw["id"] = ident
    return row, raw


def keep_unposted(views: Iterable[FieldView], raw: Mapping[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
    """The form as the user saw it, to draw it again after a failed save: what was posted
    (``raw``) and, for the inputs a browser does not post (disabled: read-only, locked by a
    condition, computed), what the page showed ``before`` (the stored record or the
    defaults); in sub-table rows the stored row with the same id fills the unposted cells."""
    out = dict(raw)
    for view in views:
        shown_before = before.get(view.name)
        if view.name not in raw:
            if shown_before is not None:
                out[view.name] = shown_before
        elif view.widget == "table" and isinstance(raw[view.name], list):
            stored = {str(r["id"]): r for r in shown_before or [] if isinstance(r, Mapping) and r.get("id")}
            out[view.name] = [{**stored.get(str(r.get("id")), {}), **r} for r in raw[view.name]]
    return out


def raw_from_record(views: Iterable[FieldView], record: Mapping[str, Any]) -> dict[str, Any]:
    """A record (as JSON: ``Records.get``) as the inputs show it."""
    raw: dict[str, Any] = {}
    for view in views:
        if view.name not in record:
            continue
        value = record[view.name]
        if view.widget == "table":
            raw[view.name] = [
                {**{c.name: shown(c, r.get(c.name)) for c in view.children}, "id": r.get("id")} for r in value or []
            ]
        else:
            raw[view.name] = shown(view, value)
    return raw


def shown(view: FieldView, value: Any) -> Any:
    """A stored (JSON) value as its widget's inputs hold it."""
    if value is None:
        return None
    widget = view.widget
    if widget == "datetime" and isinstance(value, str):
        return local_datetime(value, view.timezone, " ")
    if widget in ("checkbox", "checkboxes", "files") or widget in LISTS:
        return value
    if widget == "group" and isinstance(value, Mapping):
        return {c.name: shown(c, value.get(c.name)) for c in view.children}
    if widget in PARTS and isinstance(value, Mapping):
        return {k: "" if v is None else str(v) for k, v in value.items()}
    if widget == "cascade" and isinstance(value, list):
        return "/".join(map(str, value))
    if widget == "tags" and isinstance(value, list):
        return ", ".join(map(str, value))
    if widget == "duration" and isinstance(value, int):
        return format_duration(dt.timedelta(seconds=value))
    if widget == "json":
        return json.dumps(value, ensure_ascii=False, indent=2)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
