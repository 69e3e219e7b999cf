"""The list page: its columns, sorting by a column, a filter per column and the search box.

What a list shows is kept in its URL with the REST API's list parameters, so a list can be
bookmarked, paged and exported as it is:
``/w/sales_order?q=PO&status=approved&order_date__gte=2026-11-01&total__lte=5000&sort=-order_date&page=2``.
The parameters become one :class:`engine.listing.ListQuery`, run by ``Records`` like the API's
(the same row and field permissions); a value that does not read as its field's type is
explained next to its filter, in the user's language, and left out of the query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Optional
from zoneinfo import ZoneInfo

from flask import render_template, request

from apps.workspace import bp
from apps.workspace.auth import context, login_required, platform
from apps.workspace.fields import FieldView
from apps.workspace.i18n import text
from apps.workspace.labels import link_labels, link_options, record_flags
from apps.workspace.views import field_views, may, readable_defs
from engine.errors import QueryError
from engine.expr.types import ExprType as T
from engine.forms import FIELD_TYPES, FieldError
from engine.listing import ListQuery
from engine.runtime import Definitions
from engine.service import Records

PAGE_SIZE = 20
LIST_COLUMNS = 6
NEWEST_FIRST = ("id", True)
CHOICES = ("select", "radio", "stars", "checkbox")
TEXTS = ("text", "email", "tel", "url", "readonly")


def list_columns(title: Optional[str], views: list[FieldView]) -> list[FieldView]:
    """The title field first, then the short fields in form order."""
    short = [v for v in views if v.widget not in ("table", "textarea", "json", "group", "files", "signature")]
    short.sort(key=lambda v: v.name != title)
    return short[:LIST_COLUMNS]


def filter_kind(view: FieldView) -> Optional[str]:
    """How a column is filtered: ``choice`` (a drop-down), ``link`` (a picker), ``date``
    (from / to), ``number`` (min / max), ``text`` (contains), or None (not at all)."""
    if view.widget in CHOICES:
        return "choice"
    if view.widget == "link":
        return "link" if view.link_form else None
    ftype = FIELD_TYPES.get(view.spec.type)
    expr = ftype.expr_type_of(view.spec) if ftype is not None else T.ANY
    if expr in (T.DATE, T.DATETIME):
        return "date"
    if expr in (T.INTEGER, T.DECIMAL, T.FLOAT):
        return "number"
    if expr == T.STRING and view.widget in TEXTS:
        return "text"
    return None


@dataclass(frozen=True)
class Filter:
    """One column's filter: its kind and the URL parameters it reads."""

    view: FieldView
    kind: str

    @property
    def params(self) -> tuple[str, ...]:
        name = self.view.name
        if self.kind in ("date", "number"):
            return f"{name}__gte", f"{name}__lte"
        return (f"{name}__contains",) if self.kind == "text" else (name,)

    @property
    def choices(self) -> list[tuple[str, str]]:
        if self.view.widget == "checkbox":
            return [("true", text("yes", self.view.locale)), ("false", text("no", self.view.locale))]
        return self.view.options


@dataclass
class ListState:
    """One list as its URL asks for it: search, filter values, sort, page; and the query."""

    form: str
    q: str = ""
    values: dict[str, str] = field(default_factory=dict)  # filter parameter -> what the user typed
    errors: dict[str, str] = field(default_factory=dict)  # filter parameter -> why it was left out
    sort: Optional[tuple[str, bool]] = None  # (column, descending); None: newest first
    sortable: frozenset[str] = frozenset({"id"})
    page: int = 1
    query: ListQuery = field(default_factory=ListQuery)

    def params(self, page: int = 1, with_filters: bool = True) -> dict[str, Any]:
        """The URL parameters of this list at ``page`` (or of the list without its filters)."""
        out: dict[str, Any] = {"q": self.q} if self.q else {}
        if with_filters:
            out.update(self.values)
        if self.sort is not None:
            out["sort"] = ("-" if self.sort[1] else "") + self.sort[0]
        if page > 1:
            out["page"] = page
        return out

    def sort_params(self, name: str) -> dict[str, Any]:
        """The parameters of this list sorted by ``name``: ascending, then descending on a second click."""
        return replace(self, sort=(name, self.sort == (name, False))).params()

    def direction(self, name: str) -> str:
        """``ascending``, ``descending`` or ``none`` (for ``aria-sort``)."""
        name_, descending = self.sort or NEWEST_FIRST
        if name_ != name:
            return "none"
        return "descending" if descending else "ascending"


def _filterable(defs: Definitions, form: str, view: FieldView) -> bool:
    """A column the list query can filter and sort by: a real column of a stored type."""
    ftype = FIELD_TYPES.get(view.spec.type)
    return (
        ftype is not None
        and ftype.stored
        and view.name in defs.tables.table(form).c
        and view.spec.type not in ("multiselect", "json")
    )


def filters_for(defs: Definitions, form: str, columns: list[FieldView]) -> list[Filter]:
    out = []
    for view in columns:
        kind = filter_kind(view)
        if kind is not None and _filterable(defs, form, view):
            out.append(Filter(replace(view, readonly=False), kind))  # a read-only field is still a filter
    return out


def _condition(flt: Filter, param: str, raw: str) -> tuple[str, str, str]:
    """The ListQuery condition ``(field, op, value)`` of one filter parameter; raises FieldError."""
    view = flt.view
    spec, name = view.spec, view.name
    op = param.partition("__")[2] or "eq"
    if flt.kind == "text":
        return name, "contains", raw
    if flt.kind == "choice":
        if raw not in {v for v, _ in flt.choices}:
            raise FieldError("not_option", value=raw)
        return name, "eq", raw
    if flt.kind == "link":
        if not raw.isdigit():
            raise FieldError("not_integer")
        return name, "eq", raw
    if flt.kind == "date":
        day = FIELD_TYPES["date"].parse(spec, raw)
        if FIELD_TYPES[spec.type].expr_type_of(spec) == T.DATETIME:  # whole days in the field's time zone
            start = dt.datetime.combine(day + dt.timedelta(days=op == "lte"), dt.time(), ZoneInfo(view.timezone))
            return name, "gte" if op == "gte" else "lt", start.isoformat()
        return name, op, day.isoformat()
    FIELD_TYPES[spec.type].parse(spec, raw)
    return name, op, raw.replace(",", "")


def list_state(
    defs: Definitions, form: str, columns: list[FieldView], args: Mapping[str, str], locale: str
) -> ListState:
    """The list the URL ``args`` ask for; parameters that are not this list's are ignored."""
    state = ListState(form, q=(args.get("q") or "").strip())
    simple = []
    for flt in filters_for(defs, form, columns):
        for param in flt.params:
            raw = (args.get(param) or "").strip()
            if not raw:
                continue
            state.values[param] = raw
            try:
                simple.append(_condition(flt, param, raw))
            except FieldError as exc:
                state.errors[param] = exc.render(locale)
    state.sortable = frozenset({"id"} | {v.name for v in columns if v.widget != "link" and _filterable(defs, form, v)})
    wanted = (args.get("sort") or "").strip()
    if wanted.lstrip("-") in state.sortable:
        state.sort = (wanted.lstrip("-"), wanted.startswith("-"))
    try:
        state.page = max(1, int(args.get("page", "1")))
    except ValueError:
        state.page = 1
    order = (state.sort, NEWEST_FIRST) if state.sort and state.sort[0] != "id" else (state.sort or NEWEST_FIRST,)
    state.query = ListQuery(q=state.q or None, simple=tuple(simple), sort=order, page=state.page, limit=PAGE_SIZE)
    return state


def export_query(defs: Definitions, form: str, args: Mapping[str, str], locale: str) -> ListQuery:
    """The list the export buttons were on, every page of it: its search, filters and sort."""
    columns = list_columns(defs.forms[form].title, field_views(defs, form))
    return replace(list_state(defs, form, columns, args, locale).query, page=1)


@bp.get("/w/<form>")
@login_required
def list_page(form: str) -> Any:
    defs = readable_defs(form)
    ctx = context()
    spec = defs.forms[form]
    columns = list_columns(spec.title, field_views(defs, form))
    filters = filters_for(defs, form, columns)
    state = list_state(defs, form, columns, request.args, ctx.locale)
    records = Records(platform())
    error = None
    try:
        result = records.list_records(ctx, form, state.query)
    except QueryError as exc:
        result, error = {"items": [], "total": 0}, str(exc)
    labels = link_labels(defs, ctx, columns, result["items"])
    flags = record_flags(records, ctx, form, [r["id"] for r in result["items"]])
    pages = max(1, -(-result["total"] // PAGE_SIZE))
    return render_template(
        "ws_list.html",
        form=form,
        spec=spec,
        title=spec.label.get(ctx.locale),
        columns=columns,
        filters=filters,
        state=state,
        items=result["items"],
        total=result["total"],
        pages=pages,
        labels=labels,
        flags=flags,
        error=error,
        picks=link_options(defs, ctx, [f.view for f in filters if f.kind == "link"], state.values),
        can_create=may(defs, form, "create"),
        can_export=may(defs, form, "export"),
    )
