"""List queries: filters (expression or simple), search, sort and paging, all in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Mapping, Optional

import sqlalchemy as sa

from engine.context import RunContext
from engine.errors import DefinitionError, QueryError
from engine.expr.types import ExprType
from engine.forms import FIELD_TYPES, FieldError
from engine.runtime import Definitions
from engine.store.serialize import SYSTEM_COLUMNS

MAX_LIMIT = 500
MAX_PAGE = 10**9
OPS = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "empty", "contains"}
RESERVED = {"filter", "sort", "page", "limit", "q", "flag"}


@dataclass(frozen=True)
class ListQuery:
    """What a caller asks of a list: built from query parameters by :meth:`from_params`."""

    filter: Optional[str] = None
    simple: tuple[tuple[str, str, str], ...] = ()  # (field, op, raw value)
    sort: tuple[tuple[str, bool], ...] = ()  # (field, descending)
    q: Optional[str] = None
    flag: Optional[str] = None  # "red", "red,orange" or "any": records the rules flagged
    page: int = 1
    limit: int = 50
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> "ListQuery":
        page = _whole(params, "page", 1, MAX_PAGE)
        limit = _whole(params, "limit", 50, MAX_LIMIT)
        sort = []
        for part in (params.get("sort") or "").split(","):
            part = part.strip()
            if part:
                sort.append((part.lstrip("-+"), part.startswith("-")))
        simple = []
        for key, value in params.items():
            if key in RESERVED:
                continue
            name, _, op = key.partition("__")
            op = op or "eq"
            if op not in OPS:
                raise QueryError(f"unknown filter operator '{op}' in '{key}' (use one of: {', '.join(sorted(OPS))})")
            simple.append((name, op, value))
        return cls(
            filter=params.get("filter") or None,
            simple=tuple(simple),
            sort=tuple(sort),
            q=params.get("q") or None,
            flag=params.get("flag") or None,
            page=page,
            limit=limit,
        )


def _whole(params: Mapping[str, str], name: str, default: int, high: int) -> int:
    """Parameter ``name`` as a whole number from 1 to ``high``, else a 400 naming it."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= high or not raw.strip().isdigit():
        raise QueryError(
            f"{name} must be a whole number from 1 to {high}, not {raw!r}",
            {name: [f"must be a whole number from 1 to {high}"]},
        )
    return value


def build_where(
    defs: Definitions, ctx: RunContext, form: str, query: ListQuery
) -> tuple[Optional[sa.ColumnElement[bool]], list[tuple[str, bool]]]:
    """The WHERE clause (row permissions AND filters AND search) and the ORDER BY."""
    spec = defs.forms[form]
    table = defs.tables.table(form)
    hidden = defs.policy.hidden(ctx, form)
    parts: list[sa.ColumnElement[bool]] = []
    rows = defs.policy.row_clause(ctx, form, "read")
    if rows is not None:
        parts.append(rows)
    if query.filter:
        parts.append(_expression(defs, ctx, form, query.filter, hidden))
    for name, op, raw in query.simple:
        parts.append(_simple(defs, form, table, name, op, raw, hidden))
    if query.q:
        cols = [table.c[n] for n in spec.searchable if n not in hidden]
        if not cols:
            raise QueryError(f"{form} has no searchable fields")
        needle = "%" + query.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        parts.append(sa.or_(*(sa.func.lower(c).like(needle, escape="\\") for c in cols)))
    if query.flag:
        parts.append(_flagged(form, table, query.flag))
    order = []
    for name, desc in query.sort:
        _visible_column(defs, form, name, hidden, "sort")
        order.append((name, desc))
    where = None if not parts else (parts[0] if len(parts) == 1 else sa.and_(*parts))
    return where, order


def _flagged(form: str, table: sa.Table, raw: str) -> sa.ColumnElement[bool]:
    """``flag=red,orange``: records with a flag of one of the colours; ``flag=any``: any flag."""
    from engine.rules.log import COLOURS, flagged

    colours = [] if raw.strip() == "any" else [c.strip() for c in raw.split(",") if c.strip()]
    unknown = [c for c in colours if c not in COLOURS]
    if unknown:
        message = f"unknown flag colour '{unknown[0]}' (use any, or one or more of: {', '.join(COLOURS)})"
        raise QueryError(message, {"flag": [message]})
    return flagged(form, table.c.id, colours)  # type: ignore[no-any-return]


def _visible_column(defs: Definitions, form: str, name: str, hidden: frozenset[str], what: str) -> None:
    spec = defs.forms[form]
    if name in SYSTEM_COLUMNS:
        return
    f = spec.field(name)
    if f is None or name in hidden:
        raise QueryError(f"cannot {what} by '{name}': {form} has no such field", {name: ["unknown field"]})
    if not FIELD_TYPES[f.type].stored or f.type in ("multiselect", "json"):
        raise QueryError(f"cannot {what} by '{name}' ({f.type})", {name: [f"cannot {what} by this field"]})


def _expression(
    defs: Definitions, ctx: RunContext, form: str, source: str, hidden: frozenset[str]
) -> sa.ColumnElement[bool]:
    from engine.expr import compile_expression

    try:
        compiled = compile_expression(source, defs.scopes[form], expect=ExprType.BOOLEAN, file="filter")
    except DefinitionError as exc:
        raise _filter_error(defs, form, source, exc, hidden) from None
    for name in sorted(compiled.names):
        _may_filter_by(defs, ctx, form, name, hidden)
    return compiled.to_sql(defs.tables, ctx)


def _no_such_field(form: str, name: str) -> QueryError:
    return QueryError(f"cannot filter by '{name}': {form} has no such field", {name: ["unknown field"]})


def _filter_error(
    defs: Definitions, form: str, source: str, exc: DefinitionError, hidden: frozenset[str]
) -> QueryError:
    """A filter that does not compile, told without what is hidden from the caller: a name
    it writes that is a hidden field or column gets the unknown-field answer (not a type
    error about it), and a did-you-mean that would name one is left out."""
    if not hidden:
        return QueryError(str(exc))
    words = _hidden_words(defs.forms[form], hidden)
    from engine.expr.parser import parse

    try:
        written = [p for p in _paths(parse(source, file="filter")) if words & set(p.parts)]
    except DefinitionError:
        written = []
    if written:
        return _no_such_field(form, ".".join(written[0].parts))
    if exc.hint and any(f"'{w}'" in exc.hint for w in words):
        exc = replace(exc, hint=None)
    return QueryError(str(exc))


def _hidden_words(spec: Any, hidden: frozenset[str]) -> set[str]:
    """Names and labels of the fields and sub-table columns in ``hidden``."""
    words: set[str] = set()
    for path in hidden:
        table, _, column = path.partition(".")
        f = spec.field(table)
        f = f.child(column) if f is not None and column else f
        if f is not None:
            words |= {f.name, *f.label.all()}
    return words


def _paths(node: Any) -> Iterator[Any]:
    """Every dotted name written in a parsed expression."""
    from engine.expr import nodes

    if isinstance(node, nodes.Path):
        yield node
    elif isinstance(node, nodes.Node):
        for value in node.__dict__.values():
            for item in value if isinstance(value, tuple) else (value,):
                yield from _paths(item)


def _may_filter_by(defs: Definitions, ctx: RunContext, form: str, name: str, hidden: frozenset[str]) -> None:
    """A user filter may only look at what the user may read, or it would leak it.

    A hidden field or sub-table column is no filter input, nor is it through an aggregate
    (``sum(lines.amount)``, ``count(lines where unit_price > 0)`` read ``lines.amount`` and
    ``lines.unit_price``). ``customer.tier`` (a link path, also from a sub-table row:
    ``lines.product.price``) and ``invoice.total`` (another form's records in an aggregate)
    look into a second form: the caller must read that form, see that field, and see all of
    its rows (a filter cannot apply their row permissions inside the subquery).
    """
    if name in ("me",) or name.startswith("my."):
        return
    parts = name.split(".")
    head = parts[0]
    if head in hidden:
        raise _no_such_field(form, head)
    spec = defs.forms[form].field(head)
    current = form
    rest = parts[1:]
    if spec is not None and spec.is_table:
        if not rest:
            return  # count(lines)
        if f"{head}.{rest[0]}" in hidden:
            raise _no_such_field(form, f"{head}.{rest[0]}")
        spec, rest = spec.child(rest[0]), rest[1:]
        if spec is None or not rest:
            return
    elif spec is None and head not in defs.forms:
        return  # a system column (id, owner, ...)
    if spec is not None and not spec.refers_to_records:
        return
    target = spec.form if spec is not None and spec.form else head
    while rest:
        _may_look_into(defs, ctx, current, target, rest[0], name)
        nxt = defs.forms[target].field(rest[0])
        current, rest = target, rest[1:]
        if nxt is None or not nxt.form:
            break
        target = nxt.form


def _may_look_into(defs: Definitions, ctx: RunContext, form: str, target: str, field: str, name: str) -> None:
    policy = defs.policy
    if policy.is_superuser(ctx):
        return
    if (
        not policy.can(ctx, target, "read")
        or field in policy.hidden(ctx, target)
        or policy.row_clause(ctx, target, "read") is not None
    ):
        raise QueryError(
            f"cannot filter by '{name}': it reads {target} records you may not see in full",
            {name: ["not allowed in a filter for your role"]},
        )


def _simple(
    defs: Definitions, form: str, table: sa.Table, name: str, op: str, raw: str, hidden: frozenset[str]
) -> sa.ColumnElement[bool]:
    _visible_column(defs, form, name, hidden, "filter")
    col = table.c[name]
    if op == "empty":
        want = raw.lower() in ("1", "true", "yes")
        return col.is_(None) if want else col.is_not(None)
    f = defs.forms[form].field(name)

    def parse(text: str) -> Any:
        if f is None:
            return int(text) if name != "created_at" and name != "updated_at" else text
        try:
            return FIELD_TYPES[f.type].parse(f, text)
        except FieldError as exc:
            raise QueryError(f"filter on '{name}': {text!r} {exc}", {name: [str(exc)]}) from None

    if op == "in":
        return col.in_([parse(v) for v in raw.split(",") if v != ""])
    if op == "contains":
        return sa.func.lower(col).contains(raw.lower(), autoescape=True)
    value = parse(raw)
    return {
        "eq": col == value,
        "ne": sa.or_(col != value, col.is_(None)),
        "gt": col > value,
        "gte": col >= value,
        "lt": col < value,
        "lte": col <= value,
    }[op]
