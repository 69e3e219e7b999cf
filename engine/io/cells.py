"""Field values <-> spreadsheet cells: what export writes is what import reads back.

Every field type has one cell form, chosen for a person reading the sheet and exact enough
to import again (tests/engine/io/test_round_trip.py checks every registered type):

- numbers, money, dates, date-times and times are typed cells (date-times as local time in
  the field's or the caller's time zone, read back in the same zone); a decimal a float
  cannot hold exactly (more than 15 significant digits) is written as text; money and
  percents kept as text are read as the numbers they show (``¥1,234.50``, ``12.5%`` -> 0.125,
  :mod:`engine.io.textnumbers`);
- a select is its option's label; several choices, tags, several links and file ids are
  joined with ``", "`` (a JSON list when an item itself holds a comma); a cascade is its
  path ``浙江 / 宁波 / 海曙``; a duration ``2h30m``; a boolean ``是`` / ``否``;
- a link or several links are the target's code or title, a user their user name (import
  resolves them, :mod:`engine.io.links`);
- a location is ``lat,lng`` (JSON when it has an address), an address ``浙江 / 宁波 / 海曙 /
  中山路 1 号`` (JSON when a part is missing or holds a ``/``); JSON and groups are JSON text;
- files (attachment, image, signature) are the ids of the stored files, as the API returns
  them: the file content is not in the sheet, so an import attaches files that already exist
  in this installation and refuses others (``file 12 does not exist``).

:func:`cell_writer` and :func:`cell_reader` build one function per field, once per export or
import, so the per-cell work is a call (or nothing) rather than a lookup by type.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any, Callable, Mapping, Optional
from zoneinfo import ZoneInfo

from engine.definitions.model import FieldSpec
from engine.forms import FIELD_TYPES
from engine.forms.fieldtype import FieldType
from engine.forms.types_basic import Boolean, DecimalNumber, Percent
from engine.forms.types_choice import Group, Json, Link, MultiSelect, Select, User
from engine.forms.types_codes import Tags
from engine.forms.types_computed import Computed
from engine.forms.types_extra import Address, Cascade, Duration, Location, MultiLink, format_duration
from engine.forms.types_files import Attachment
from engine.forms.types_time import Date, DateTime, Time
from engine.io.textdates import text_date
from engine.io.textnumbers import text_number

#: export value of a reference: (target form or "@user", id) -> name, filled per page
Names = Mapping[tuple[str, int], Any]
USERS = "@user"
_YES = {"zh-CN": ("是", "否"), "en": ("yes", "no")}
_SPLIT = re.compile(r"[,，]")
_TAG_SPLIT = re.compile(r"[,，;；]")
_PATH_SPLIT = re.compile(r"\s*/\s*")
_EXACT_DIGITS = 15  # a float keeps any decimal of up to 15 significant digits


class Cell:
    """A typed value for the writers: numbers and dates keep their type and number format."""

    __slots__ = ("value", "fmt")

    def __init__(self, value: Any, fmt: str) -> None:
        self.value, self.fmt = value, fmt


def kind(f: FieldSpec) -> str:
    """The cell form of a field: its type, or for plugin types the built-in type it extends."""
    ftype: FieldType = FIELD_TYPES[f.type]
    if isinstance(ftype, Computed):
        ftype = ftype.result(f)
    for cls, name in _KINDS:
        if isinstance(ftype, cls):
            return name
    return "plain"


_KINDS: tuple[tuple[type, str], ...] = (
    (DecimalNumber, "decimal"),
    (DateTime, "datetime"),
    (Date, "date"),
    (Time, "time"),
    (Duration, "duration"),
    (Boolean, "boolean"),
    (Select, "choice"),
    (MultiSelect, "choices"),
    (Cascade, "cascade"),
    (Tags, "tags"),
    (MultiLink, "links"),
    (Link, "link"),
    (User, "user"),
    (Attachment, "files"),
    (Location, "location"),
    (Address, "address"),
    (Group, "json"),
    (Json, "json"),
)


def zone_of(f: FieldSpec, timezone: str) -> dt.tzinfo:
    """The zone local date-times of ``f`` are written and read in."""
    return ZoneInfo(f.prop("timezone") or timezone)


# ---- export ------------------------------------------------------------------------------


def cell_writer(f: FieldSpec, locale: str, timezone: str) -> Callable[[Any, Names], Any]:
    """``write(value, names)`` -> the cell for a stored value of ``f`` (value is never None)."""
    k = kind(f)
    if k == "decimal":
        fmt = _number_format(f)
        return lambda v, names: _number(v, fmt)
    if k == "date":
        return lambda v, names: Cell(v, "yyyy-mm-dd") if isinstance(v, dt.date) else v
    if k == "datetime":
        zone = zone_of(f, timezone)
        return lambda v, names: Cell(v.astimezone(zone).replace(tzinfo=None) if v.tzinfo else v, "yyyy-mm-dd hh:mm:ss")
    if k == "time":
        return lambda v, names: Cell(v, "hh:mm:ss" if v.second or v.microsecond else "hh:mm")
    if k == "duration":
        return lambda v, names: format_duration(v) if isinstance(v, dt.timedelta) else v
    if k == "boolean":
        yes, no = _YES.get(locale, _YES["en"])
        return lambda v, names: yes if v else no
    if k in ("choice", "choices"):
        labels = {o.value: o.label.get(locale) or o.value for o in f.options}
        if k == "choice":
            return lambda v, names: labels.get(v, v)
        return lambda v, names: join([labels.get(x, x) for x in v])
    if k == "cascade":
        return lambda v, names: _path(_cascade_labels(f, v, locale))
    if k == "tags":
        return lambda v, names: join(v, _TAG_SPLIT)
    if k == "files":
        return lambda v, names: join([str(x) for x in v]) if isinstance(v, list) else v
    if k in ("link", "user"):
        target = USERS if k == "user" else (f.form or "")
        return lambda v, names: names.get((target, v), v)
    if k == "links":
        target = f.form or ""
        return lambda v, names: join([str(names.get((target, x), x)) for x in v])
    if k == "location":
        return lambda v, names: f"{v['lat']},{v['lng']}" if set(v) == {"lat", "lng"} else _json(v)
    if k == "address":
        return lambda v, names: _address(v)
    if k == "json":
        return lambda v, names: _json(v)
    return lambda v, names: v


def join(items: list[Any], separators: re.Pattern[str] = _SPLIT) -> str:
    """``a, b``; a JSON list when an item holds a separator (so that splitting gives it back)."""
    texts = [str(x) for x in items]
    if any(separators.search(t) or t != t.strip() or t.startswith("[") for t in texts):
        return _json(texts)
    return ", ".join(texts)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _number_format(f: FieldSpec) -> str:
    """Money with its places and thousands separators; other decimals as many places as they have."""
    ftype = FIELD_TYPES[f.type]
    result = ftype.result(f) if isinstance(ftype, Computed) else ftype
    if result.name != "money" or not isinstance(result, DecimalNumber):
        return "0.######"
    places = result.scale(f)
    return "#,##0." + "0" * places if places else "#,##0"


def _number(value: Any, fmt: str) -> Any:
    if not isinstance(value, Decimal):
        return value
    digits = value.as_tuple().digits
    if len(digits) > _EXACT_DIGITS:
        return format(value, "f")  # text: a float cell would round it
    return Cell(value, fmt)


def _path(parts: list[str]) -> str:
    if any("/" in p or p != p.strip() for p in parts):
        return _json(parts)
    return " / ".join(parts)


def _cascade_labels(f: FieldSpec, values: list[str], locale: str) -> list[str]:
    """The cascade's path in labels of ``locale`` (the value where a node has no label)."""
    out: list[str] = []
    level: list[Any] = list(f.prop("tree") or ())
    for value in values:
        hit = next((n for n in level if (n if isinstance(n, str) else n.get("value")) == value), None)
        if hit is None or isinstance(hit, str):
            out.append(value)
            level = []
            continue
        label = hit.get("label")
        text = (label.get(locale) or value) if isinstance(label, Mapping) else (label or value)
        out.append(str(text))
        level = list(hit.get("children") or ())
    return out


def _address(value: Any) -> Any:
    from engine.forms.types_extra import ADDRESS_KEYS

    if not isinstance(value, Mapping):
        return value
    parts = [value.get(k) for k in ADDRESS_KEYS]
    while parts and parts[-1] in (None, ""):
        parts.pop()
    if any(p in (None, "") for p in parts):
        return _json(dict(value))  # a gap: positions would shift
    return _path([str(p) for p in parts])


# ---- import ------------------------------------------------------------------------------


def cell_reader(f: FieldSpec, timezone: str) -> Optional[Callable[[Any], Any]]:
    """``read(cell)`` -> the input the field's parser takes, or None when the cell goes as it is.

    Readers never raise: a cell they cannot make sense of goes to the parser unchanged,
    which reports it with the field's own message.
    """
    if FIELD_TYPES[f.type].computed:
        return None
    k = kind(f)
    if k == "decimal":
        percent = isinstance(FIELD_TYPES[f.type], Percent)
        return lambda v: _amount(v, percent)
    if k == "date":
        return _date
    if k == "datetime":
        zone = zone_of(f, timezone)
        return lambda v: _local_datetime(v, zone)
    if k == "time":
        return lambda v: v.time() if isinstance(v, dt.datetime) else v
    if k in ("choices", "files", "links"):
        return lambda v: split(v, _SPLIT)
    if k == "tags":
        return lambda v: split(v, _TAG_SPLIT)
    if k == "cascade":
        return lambda v: split(v, _PATH_SPLIT)
    if k == "address":
        return lambda v: _decoded(v) if _looks_json(v) else split(v, _PATH_SPLIT)
    if k in ("location", "json"):
        return _decoded  # "lat,lng" is not JSON: it goes to the parser as it is
    return None


def split(value: Any, separators: re.Pattern[str]) -> Any:
    """``a, b`` or a JSON list -> a list of texts; numbers become a one-item list."""
    if isinstance(value, str):
        if value.startswith("["):
            decoded = _decoded(value)
            if isinstance(decoded, list):
                return decoded
        return [p.strip() for p in separators.split(value) if p.strip()]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [value]
    return value


def _looks_json(value: Any) -> bool:
    return isinstance(value, str) and value[:1] in ("{", "[")


def _decoded(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _amount(value: Any, percent: bool) -> Any:
    """Money or a percent kept as text (``¥1,234.50``, ``1,234.50元``, ``12.5 %``), as its number."""
    number = text_number(value, percent)
    return value if number is None else number


def _date(value: Any) -> Any:
    """A date kept as text in any of the ways sheets write one (``2026年11月8日``), as a date."""
    day = text_date(value)
    return day if isinstance(day, dt.date) and not isinstance(day, dt.datetime) else value


def _local_datetime(value: Any, zone: dt.tzinfo) -> Any:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            moment = text_date(value)
            if not isinstance(moment, dt.datetime):
                return value
            value = moment
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value
