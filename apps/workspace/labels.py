"""Labels of linked records (lists, views) and options for link pickers, read through Records."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable, Mapping

from apps.workspace.fields import FieldView
from engine.context import RunContext
from engine.errors import LowcodeError
from engine.listing import ListQuery
from engine.runtime import Definitions
from engine.service import Records

PICKER_SIZE = 50


def _title(defs: Definitions, form: str, record: Mapping[str, Any]) -> str:
    spec = defs.forms[form]
    value = record.get(spec.title) if spec.title else None
    if value in (None, ""):
        return f"#{record.get('id')}"
    return str(value)


def _records(defs: Definitions, ctx: RunContext, form: str, query: ListQuery) -> list[dict[str, Any]]:
    from apps.workspace.auth import platform

    if form not in defs.forms or not defs.policy.can(ctx, form, "read"):
        return []
    try:
        return list(Records(platform()).list_records(ctx, form, query)["items"])
    except LowcodeError:
        return []


def labels_for(defs: Definitions, ctx: RunContext, form: str, ids: Iterable[Any]) -> dict[int, str]:
    """``{id: title}`` for the records of ``form`` the user may see."""
    wanted = sorted({int(i) for i in ids if isinstance(i, int) or isinstance(i, str) and i.isdigit()})
    if not wanted:
        return {}
    query = ListQuery(simple=(("id", "in", ",".join(map(str, wanted))),), limit=min(500, len(wanted)))
    return {r["id"]: _title(defs, form, r) for r in _records(defs, ctx, form, query)}


LINKS = ("link", "multilink")


def _fields(views: Iterable[FieldView], widgets: tuple[str, ...]) -> Iterable[tuple[str, FieldView, FieldView | None]]:
    """``(key, field, its sub-table or None)`` of the fields drawn with one of ``widgets``."""
    for view in views:
        if view.widget in widgets:
            yield view.name, view, None
        if view.widget == "table":
            for child in view.children:
                if child.widget in widgets:
                    yield f"{view.name}.{child.name}", child, view


def _link_fields(views: Iterable[FieldView]) -> Iterable[tuple[str, FieldView, FieldView | None]]:
    return ((k, c, t) for k, c, t in _fields(views, LINKS) if c.link_form)


def _ids(key: str, child: FieldView, table: FieldView | None, records: Iterable[Mapping[str, Any]]) -> set[Any]:
    found: list[Any] = []
    for record in records:
        rows = [record] if table is None else list(record.get(table.name) or [])
        for row in rows:
            value = row.get(child.name)
            found.extend(value if isinstance(value, list) else [value])
    return {i for i in found if i not in (None, "")}


def link_labels(
    defs: Definitions, ctx: RunContext, views: Iterable[FieldView], records: list[Mapping[str, Any]]
) -> dict[str, dict[int, str]]:
    """Labels by link field (``customer``, ``lines.product``) and id, for showing records."""
    out: dict[str, dict[int, str]] = {}
    for key, child, table in _link_fields(views):
        out[key] = labels_for(defs, ctx, child.link_form or "", _ids(key, child, table, records))
    return out


def search_options(
    defs: Definitions, ctx: RunContext, form: str, q: str = "", limit: int = PICKER_SIZE
) -> list[dict[str, Any]]:
    """Records of ``form`` the user may read, for a picker, newest first: matching ``q`` in the
    form's searchable fields, or in its title field when it has none."""
    spec = defs.forms[form]
    query = ListQuery(limit=limit, sort=(("id", True),))
    if q and spec.searchable:
        query = replace(query, q=q)
    elif q and spec.title:
        query = replace(query, simple=((spec.title, "contains", q),))
    return [{"id": r["id"], "label": _title(defs, form, r)} for r in _records(defs, ctx, form, query)]


def link_options(
    defs: Definitions, ctx: RunContext, views: list[FieldView], raw: Mapping[str, Any]
) -> dict[str, list[tuple[int, str]]]:
    """Picker options by link field: the first records of the target, plus the chosen ones."""
    out: dict[str, list[tuple[int, str]]] = {}
    for key, child, table in _link_fields(views):
        form = child.link_form or ""
        items = {o["id"]: o["label"] for o in search_options(defs, ctx, form)}
        chosen = _ids(key, child, table, [raw])
        missing = [i for i in chosen if str(i).isdigit() and int(i) not in items]
        items.update(labels_for(defs, ctx, form, missing))
        out[key] = sorted(items.items(), key=lambda kv: kv[1])
    return out


def picker_options(
    defs: Definitions, ctx: RunContext, views: list[FieldView], raw: Mapping[str, Any]
) -> dict[str, list[tuple[Any, str]]]:
    """What each picker offers, by field (``customer``, ``lines.product``): linked records,
    users, roles; and for files the names of the files attached (``raw`` holds their ids)."""
    from apps.workspace.auth import platform

    out: dict[str, list[tuple[Any, str]]] = dict(link_options(defs, ctx, views, raw))
    pickers = list(_fields(views, ("user", "role")))
    if any(v.widget == "user" for _, v, _ in pickers):
        with platform().db.connect() as conn:
            users = [(u.id, u.display_name or u.username) for u in platform().users.all(conn)]
    roles = sorted(
        (name, role.label.get(ctx.locale) if role.label else name) for name, role in defs.policy.roles.items()
    )
    for key, view, _ in pickers:
        out[key] = users if view.widget == "user" else roles
    out.update(file_labels(views, [raw]))
    return out


def file_labels(views: Iterable[FieldView], records: list[Mapping[str, Any]]) -> dict[str, list[tuple[int, str]]]:
    """``(id, file name)`` of the files that file and signature fields hold, by field."""
    from apps.workspace.auth import platform
    from engine.store import files

    wanted = {
        key: sorted(int(i) for i in _ids(key, view, table, records) if str(i).isdigit())
        for key, view, table in _fields(views, ("files", "signature"))
    }
    every = {i for ids in wanted.values() for i in ids}
    if not every:
        return {}
    with platform().db.connect() as conn:
        rows = files.info(conn, every)
    return {key: [(i, str(rows[i]["name"])) for i in ids if i in rows] for key, ids in wanted.items()}


def record_flags(records: Records, ctx: RunContext, form: str, ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The flags the rules set on these records (``Records.flags``), as a list or a record page
    shows them: each colour and tag once (the latest time it was set), red first."""
    from engine.rules.actions import COLOURS

    out: dict[int, list[dict[str, Any]]] = {}
    for record_id, flags in records.flags(ctx, form, ids).items():
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for flag in flags:
            latest[(flag["colour"], flag["tag"] or "")] = flag
        rank = {colour: i for i, colour in enumerate(COLOURS)}
        out[record_id] = sorted(latest.values(), key=lambda f: rank.get(f["colour"], len(rank)))
    return out
