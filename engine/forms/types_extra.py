"""Rich text, durations, choice lists and trees, people and places (codes, ratings, colours and
tags: :mod:`engine.forms.types_codes`)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, Mapping, Optional

import sqlalchemy as sa

from engine.definitions.model import FieldSpec
from engine.expr.types import ExprType
from engine.field_errors import FieldError
from engine.forms.coltypes import Seconds
from engine.forms.fieldtype import FieldType, register
from engine.forms.types_basic import Text
from engine.forms.types_choice import MultiSelect, Reference, Select

# ---------------------------------------------------------------- rich text

#: the HTML a rich-text field keeps; everything else (script, style, on* handlers,
#: javascript: URLs) is removed by nh3 (ammonia) before the value is stored.
RICH_TAGS = frozenset(
    {
        "p",
        "br",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "s",
        "sub",
        "sup",
        "span",
        "div",
        "h1",
        "h2",
        "h3",
        "h4",
        "ul",
        "ol",
        "li",
        "blockquote",
        "pre",
        "code",
        "a",
        "img",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "hr",
    }
)
RICH_ATTRS = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "*": {"class"},
}


def sanitise_html(html: str) -> str:
    """The allow-listed part of ``html`` (nh3): no scripts, handlers or javascript: links."""
    import nh3

    return nh3.clean(
        html,
        tags=set(RICH_TAGS),
        attributes={k: set(v) for k, v in RICH_ATTRS.items()},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


@register
class RichText(Text):
    name = "richtext"
    widget = "richtext"

    def clean(self, value: str) -> str:
        return sanitise_html(value.replace("\r\n", "\n")).strip()


# ---------------------------------------------------------------- duration

_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?")
_CLOCK = re.compile(r"(\d+):([0-5]\d)(?::([0-5]\d))?")


def parse_duration(value: Any) -> dt.timedelta:
    """Seconds (a number), ``"2h30m"``, ``"1d"``, ``"1d 4h"``, ``"01:30"`` or a timedelta."""
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, bool):
        raise FieldError("not_duration")
    if isinstance(value, (int, float, Decimal)):
        return dt.timedelta(seconds=int(value))
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if text.isdigit():
            return dt.timedelta(seconds=int(text))
        m = _CLOCK.fullmatch(text)
        if m:
            return dt.timedelta(hours=int(m[1]), minutes=int(m[2]), seconds=int(m[3] or 0))
        m = _DURATION.fullmatch(text)
        if text and m:
            d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
            return dt.timedelta(seconds=round(d * 86400 + h * 3600 + mi * 60 + s))
    raise FieldError("not_duration")


def format_duration(value: dt.timedelta) -> str:
    """``2h30m`` style (the shortest exact form)."""
    total = int(value.total_seconds())
    if total == 0:
        return "0s"
    sign, total = ("-", -total) if total < 0 else ("", total)
    out = sign
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            out += f"{total // size}{unit}"
            total %= size
    return out


@register
class Duration(FieldType):
    """A length of time; stored as seconds, given as seconds or ``2h30m`` / ``1d``."""

    name = "duration"
    widget = "duration"
    expr_type = ExprType.DURATION
    props_schema = {"min": {"type": ["integer", "string"]}, "max": {"type": ["integer", "string"]}}

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return Seconds()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        out = parse_duration(value)
        lo, hi = spec.prop("min"), spec.prop("max")
        if lo is not None and out < parse_duration(lo):
            raise FieldError("too_small", min=lo)
        if hi is not None and out > parse_duration(hi):
            raise FieldError("too_large", max=hi)
        return out

    def dump(self, spec: FieldSpec, value: Any) -> Any:
        return None if value is None else int(value.total_seconds())

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": ["integer", "string"]}


# ---------------------------------------------------------------- choice lists and trees

COUNT_PROPS = {"min_items": {"type": "integer", "minimum": 0}, "max_items": {"type": "integer", "minimum": 1}}


def count_items(spec: FieldSpec, items: list[Any]) -> list[Any]:
    lo, hi = spec.prop("min_items"), spec.prop("max_items")
    if lo is not None and len(items) < lo:
        raise FieldError("too_few", min=lo)
    if hi is not None and len(items) > hi:
        raise FieldError("too_many", max=hi)
    return items


@register
class CheckboxGroup(MultiSelect):
    """Several of the options, ticked in a group of check boxes."""

    name = "checkboxes"
    widget = "checkboxes"
    props_schema = COUNT_PROPS

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        return count_items(spec, list(dict.fromkeys(super().parse(spec, value))))


def _tree_schema(depth: int) -> dict[str, Any]:
    """JSON Schema of a cascade tree down to ``depth`` levels."""
    node: dict[str, Any] = {
        "anyOf": [
            {"type": "string", "minLength": 1},
            {
                "type": "object",
                "required": ["value"],
                "additionalProperties": False,
                "properties": {"value": {"type": "string", "minLength": 1}, "label": {}},
            },
        ]
    }
    if depth > 1:
        node["anyOf"][1]["properties"]["children"] = _tree_schema(depth - 1)
    return {"type": "array", "minItems": 1, "items": node}


def _node_parts(node: Any) -> tuple[str, tuple[str, ...], list[Any]]:
    if isinstance(node, str):
        return node, (), []
    label = node.get("label")
    labels = tuple(label.values()) if isinstance(label, Mapping) else ((label,) if label else ())
    return node["value"], labels, list(node.get("children") or ())


@register
class Cascade(FieldType):
    """A path down a tree of options (province -> city -> district); the value is the list
    of values, e.g. ``["浙江", "宁波", "海曙"]``; every level must be a child of the one above."""

    name = "cascade"
    widget = "cascade"
    expr_type = ExprType.LIST
    element_type = ExprType.STRING
    props_schema = {"tree": _tree_schema(6), "full_path": {"type": "boolean"}}

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.JSON()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, str):
            value = [p.strip() for p in re.split(r"[/>,，／]", value) if p.strip()]
        if not isinstance(value, list) or not value:
            raise FieldError("not_list")
        level: list[Any] = list(spec.prop("tree") or ())
        out: list[str] = []
        for depth, part in enumerate(value, start=1):
            if not level:
                raise FieldError("path_too_long", max=depth - 1)
            part = str(part).strip()
            for node in level:
                val, labels, children = _node_parts(node)
                if part == val or part in labels:
                    out.append(val)
                    level = children
                    break
            else:
                raise FieldError("not_path", value=part, level=depth)
        if level and spec.prop("full_path", True):
            raise FieldError("path_too_short", min=len(out) + 1)
        return out

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string"}, "minItems": 1}


@register
class Department(Select):
    """A department, chosen from an option library (``options: "@departments"``)."""

    name = "department"
    widget = "department_picker"


_ROLE = re.compile(r"[a-z_][a-z0-9_]*")


@register
class Role(FieldType):
    """A role name of the installed packs (checked against roles.yaml when validating)."""

    name = "role"
    widget = "role_picker"
    expr_type = ExprType.STRING

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if not isinstance(value, str) or not _ROLE.fullmatch(value.strip()):
            raise FieldError("not_role", value=value)
        return value.strip()

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "string"}


@register
class MultiLink(FieldType):
    """Several records of another form (ids); each must exist, like a link."""

    name = "multilink"
    is_multilink = True
    widget = "record_picker_multi"
    expr_type = ExprType.LIST
    element_type = ExprType.INTEGER
    props_schema = {"form": {"type": "string"}, **COUNT_PROPS}

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.JSON()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, str):
            value = [p.strip() for p in value.replace("，", ",").split(",") if p.strip()]
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list):
            raise FieldError("not_list")
        ids = [Reference.parse(self, spec, v) for v in value]  # type: ignore[arg-type]
        return count_items(spec, list(dict.fromkeys(ids)))

    def link_form(self, spec: FieldSpec) -> Optional[str]:
        return spec.form

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "integer", "minimum": 1}}


# ---------------------------------------------------------------- places


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool):
        raise FieldError(key)
    try:
        return float(Decimal(str(value).strip()))
    except Exception:  # noqa: BLE001
        raise FieldError(key) from None


@register
class Location(FieldType):
    """A point: ``{lat, lng, address?}`` (WGS-84 degrees); ``"30.5,120.1"`` is accepted too."""

    name = "location"
    widget = "map"
    expr_type = ExprType.JSON

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.JSON()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, str) and "," in value:
            lat_s, lng_s = value.split(",", 1)
            value = {"lat": lat_s, "lng": lng_s}
        if not isinstance(value, Mapping) or "lat" not in value or "lng" not in value:
            raise FieldError("not_location")
        extra = set(value) - {"lat", "lng", "address"}
        if extra:
            raise FieldError("unknown_key", name=sorted(extra)[0])
        lat, lng = _number(value["lat"], "not_location"), _number(value["lng"], "not_location")
        if not -90 <= lat <= 90:
            raise FieldError("bad_latitude")
        if not -180 <= lng <= 180:
            raise FieldError("bad_longitude")
        out: dict[str, Any] = {"lat": lat, "lng": lng}
        if value.get("address"):
            out["address"] = str(value["address"]).strip()
        return out

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["lat", "lng"],
            "properties": {
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "lng": {"type": "number", "minimum": -180, "maximum": 180},
                "address": {"type": "string"},
            },
            "additionalProperties": False,
        }


ADDRESS_KEYS = ("province", "city", "district", "detail")


@register
class Address(FieldType):
    """A postal address: ``{province, city, district, detail}`` (all text; province required)."""

    name = "address"
    widget = "address"
    expr_type = ExprType.JSON
    props_schema = {"detail_max_length": {"type": "integer", "minimum": 1}}

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.JSON()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, list) and 1 <= len(value) <= 4:
            value = dict(zip(ADDRESS_KEYS, value))
        if not isinstance(value, Mapping):
            raise FieldError("not_address")
        extra = set(value) - set(ADDRESS_KEYS)
        if extra:
            raise FieldError("unknown_key", name=sorted(extra)[0])
        out = {k: str(value[k]).strip() for k in ADDRESS_KEYS if value.get(k) not in (None, "")}
        if "province" not in out:
            raise FieldError("not_address")
        hi = spec.prop("detail_max_length", 200)
        if len(out.get("detail", "")) > hi:
            raise FieldError("too_long", max=hi)
        return out

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["province"],
            "additionalProperties": False,
            "properties": {k: {"type": "string"} for k in ADDRESS_KEYS},
        }
