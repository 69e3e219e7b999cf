"""What the templates need to draw a field: widget, label, options, access, conditions.

Generic over the field-type registry: a type's ``widget`` attribute picks the macro, and a
type without one (or with a widget this workspace does not draw) falls back by its name and
its expression type, so new field types render without changes here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from apps.workspace import formats
from engine.definitions.model import FieldSpec, FormSpec, Labels
from engine.expr.types import ExprType as T
from engine.forms import FIELD_TYPES

#: the macros of widgets.html
WIDGETS = frozenset(
    {
        "text",
        "textarea",
        "email",
        "tel",
        "url",
        "integer",
        "decimal",
        "checkbox",
        "date",
        "datetime",
        "time",
        "select",
        "radio",
        "checkboxes",
        "link",
        "table",
        "readonly",
        "json",
        "colour",
        "files",
        "signature",
        "location",
        "address",
        "group",
        "cascade",
        "multilink",
        "stars",
        "tags",
        "duration",
        "role",
        "user",
    }
)
#: widget names the field types use -> our macros
ALIASES = {
    "money": "decimal",
    "percent": "decimal",
    "number": "decimal",
    "multiselect": "checkboxes",
    "record_picker": "link",
    "subtable": "table",
    "user_picker": "user",
    "richtext": "textarea",
    "scanner": "text",
    "role_picker": "role",
    "department_picker": "select",
    "phone": "tel",
    "boolean": "checkbox",
    "images": "files",
    "map": "location",
    "record_picker_multi": "multilink",
}
#: widgets drawn as several inputs named ``<field>.<part>`` (a group's parts are its fields)
PARTS = {"location": ("lat", "lng", "address"), "address": ("province", "city", "district", "detail")}
BY_EXPR = {
    T.INTEGER: "integer",
    T.DECIMAL: "decimal",
    T.FLOAT: "decimal",
    T.BOOLEAN: "checkbox",
    T.DATE: "date",
    T.DATETIME: "datetime",
    T.TIME: "time",
    T.TABLE: "table",
    T.JSON: "json",
    T.RECORD: "link",
    T.LIST: "checkboxes",
}
CONDITIONS = ("visible_if", "required_if", "readonly_if")


def widget_for(spec: FieldSpec) -> str:
    """The widget macro for a field."""
    ftype = FIELD_TYPES.get(spec.type)
    if ftype is not None and getattr(ftype, "computed", False) or spec.formula or spec.prop("lookup") is not None:
        return "readonly"
    chosen = getattr(ftype, "widget", None) or spec.type
    chosen = ALIASES.get(chosen, chosen)
    if chosen not in WIDGETS:
        chosen = ALIASES.get(spec.type, spec.type)
    if chosen not in WIDGETS:
        expr_type = getattr(ftype, "expr_type", T.ANY)
        chosen = BY_EXPR.get(expr_type, "text")
    if chosen in ("select", "radio", "checkboxes") and not spec.options:
        chosen = "text"
    if chosen in ("link", "multilink") and not spec.form:
        chosen = "integer" if chosen == "link" else "tags"
    if chosen == "cascade" and not spec.prop("tree"):
        chosen = "text"
    return chosen


def cascade_paths(tree: Any, locale: str, full_path: bool = True) -> list[tuple[str, str]]:
    """The choices of a cascade as ``("浙江/宁波/海曙", "浙江省 / 宁波 / 海曙")``: every leaf,
    and every inner node too when the field does not require a full path."""
    out: list[tuple[str, str]] = []

    def walk(nodes: Any, values: tuple[str, ...], labels: tuple[str, ...]) -> None:
        for node in nodes or ():
            if isinstance(node, str):
                value, label, children = node, node, []
            else:
                value, children = str(node["value"]), list(node.get("children") or ())
                label = node.get("label") or value
                if isinstance(label, dict):
                    label = Labels(label).get(locale) or value
            path, names = values + (value,), labels + (str(label),)
            if not children or not full_path:
                out.append(("/".join(path), " / ".join(names)))
            walk(children, path, names)

    walk(tree, (), ())
    return out


def choices_of(spec: FieldSpec, widget: str, locale: str) -> list[tuple[str, str]]:
    """The fixed choices a widget offers: options, cascade paths, or the stars of a rating."""
    if widget == "cascade":
        return cascade_paths(spec.prop("tree"), locale, bool(spec.prop("full_path", True)))
    if widget == "stars":
        return [(str(n), "★" * n) for n in range(1, int(spec.prop("max", 5)) + 1)]
    return [(o.value, o.label.get(locale) or o.value) for o in spec.options]


def scale_of(spec: FieldSpec) -> Optional[int]:
    """Decimal places a number field shows (its ``scale`` or the type's default)."""
    ftype = FIELD_TYPES.get(spec.type)
    if ftype is not None and hasattr(ftype, "result") and spec.prop("result"):
        ftype = FIELD_TYPES.get(spec.prop("result")) or ftype
    scale = spec.prop("scale", getattr(ftype, "default_scale", None))
    return None if scale is None else int(scale)


def _text(labels: Optional[Labels], locale: str) -> str:
    return labels.get(locale) if labels is not None else ""


@dataclass
class FieldView:
    """One field as drawn for one user in one language."""

    spec: FieldSpec
    name: str
    label: str
    widget: str
    help: str = ""
    placeholder: str = ""
    required: bool = False
    readonly: bool = False  # by permission (or computed)
    computed: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    link_form: Optional[str] = None
    scale: Optional[int] = None
    children: list["FieldView"] = field(default_factory=list)
    withheld: tuple[str, ...] = ()  # sub-table columns hidden from the user (not drawn)
    conditions: dict[str, str] = field(default_factory=dict)
    multiple: bool = False  # a file input that takes several files
    timezone: str = "Asia/Shanghai"  # date-times are shown and entered in this zone
    number: Optional[str] = None  # "money" or "decimal": shown grouped in thousands (formats.number_kind)
    currency: str = ""  # a money field's currency symbol in the reader's language (¥)
    locale: str = "zh-CN"  # the reader's language

    @property
    def input_type(self) -> str:
        return {"email": "email", "tel": "tel", "url": "url"}.get(self.widget, "text")  # dates: see w_date

    @property
    def accept(self) -> str:
        """The ``accept`` attribute of a file input (the field's allowed content types)."""
        from engine.store.files import field_limits

        return ",".join(field_limits(self.spec)[1] or ())

    def number_text(self, value: Any) -> str:
        """A number as the reader reads it: ``¥12,345.60`` for money, ``1,234.5`` for a decimal."""
        if self.number == "money":
            return formats.money(value, self.currency, self.locale)
        if self.number == "decimal":
            return formats.grouped(value, self.locale)
        return "" if value is None else str(value)

    def option_label(self, value: Any) -> str:
        for v, label in self.options:
            if v == value:
                return label
        return "" if value is None else str(value)


def field_view(
    spec: FieldSpec, locale: str, access: str = "editable", timezone: str = "Asia/Shanghai", pack_locale: str = "zh-CN"
) -> FieldView:
    widget = widget_for(spec)
    number = formats.number_kind(spec)
    ftype = FIELD_TYPES.get(spec.type)
    computed = widget == "readonly"
    view = FieldView(
        spec=spec,
        name=spec.name,
        label=spec.label.get(locale) or spec.name,
        widget=widget,
        help=_text(spec.help, locale),
        placeholder=_text(spec.placeholder, locale),
        required=spec.required,
        readonly=access == "readonly" or computed,
        computed=computed,
        options=choices_of(spec, widget, locale),
        multiple=_multiple(spec, widget),
        link_form=ftype.link_form(spec) if ftype is not None else None,
        scale=scale_of(spec),
        conditions={k: getattr(spec, k) for k in CONDITIONS if getattr(spec, k)},
        timezone=str(spec.prop("timezone") or timezone),
        number=number,
        locale=locale,
        currency=formats.symbol(formats.currency_of(spec, pack_locale), locale) if number == "money" else "",
    )
    if spec.fields:
        view.children = [
            field_view(child, locale, "readonly" if view.readonly else "editable", timezone, pack_locale)
            for child in spec.fields
        ]
    return view


def _multiple(spec: FieldSpec, widget: str) -> bool:
    return widget == "files" and spec.prop("max_items") != 1


def form_views(
    form: FormSpec, locale: str, access: dict[str, str], timezone: str = "Asia/Shanghai", pack_locale: str = "zh-CN"
) -> list[FieldView]:
    """The fields a user may see, in form order: hidden fields and sub-table columns
    (``access`` by path: ``lines.unit_price``) are left out entirely."""
    views = []
    for f in form.fields:
        if access.get(f.name) == "hidden":
            continue
        view = field_view(f, locale, access.get(f.name, "editable"), timezone, pack_locale)
        if f.is_table:
            columns = {c.name: access.get(f"{f.name}.{c.name}", "editable") for c in f.fields}
            view.children = [
                field_view(c, locale, "readonly" if view.readonly else columns[c.name], timezone, pack_locale)
                for c in f.fields
                if columns[c.name] != "hidden"
            ]
            view.withheld = tuple(name for name, a in columns.items() if a == "hidden")
        views.append(view)
    return views


def local_datetime(value: Any, timezone: str, sep: str = "T") -> str:
    """An ISO date-time (UTC) as ``YYYY-MM-DD HH:MM`` in ``timezone``: what a person reads and types."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    if not isinstance(value, str) or not value:
        return "" if value is None else str(value)
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        zone = ZoneInfo(timezone)
    except (ValueError, KeyError):
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(zone).strftime(f"%Y-%m-%d{sep}%H:%M")
