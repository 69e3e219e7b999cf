"""Install a pack's demo data: users (one per role, printed for the README), departments and records."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import sqlalchemy as sa

from engine.definitions import load_pack
from engine.definitions.model import FieldSpec, PackSpec
from engine.platform import Platform
from engine.security import org
from engine.store.system import users as lc_user
from engine.store.writer import Writer


def _resolve(
    fields: tuple[FieldSpec, ...], record: Mapping[str, Any], refs: Mapping[str, int], user_ids: Mapping[str, int]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        if f.name not in record:
            continue
        value = record[f.name]
        if f.is_link and isinstance(value, str) and value.startswith("@"):
            value = refs[value[1:]]
        elif f.is_user and isinstance(value, str):
            value = user_ids[value]
        elif f.is_table and isinstance(value, list):
            value = [_resolve(f.fields, row, refs, user_ids) for row in value]
        out[f.name] = value
    return out


def _departments(
    conn: sa.Connection, departments: list[Mapping[str, Any]], user_ids: Mapping[str, int], locale: str
) -> None:
    """The demo's departments (those not made yet), their heads and members."""
    have = {d.name: d.id for d in org.departments(conn)}
    for dept in departments:
        if dept["name"] in have:
            continue
        label = dept.get("label")
        values = {
            "name": dept["name"],
            "label": {locale: label} if isinstance(label, str) else dict(label) if label else None,
            "parent_id": have[dept["parent"]] if dept.get("parent") else None,
            "head_id": user_ids[dept["head"]] if dept.get("head") else None,
        }
        have[dept["name"]] = made = org.add_department(conn, values).id
        for member in dept.get("members") or []:
            org.set_user_department(conn, user_ids[member], made)


def install_demo(platform: Platform, pack: PackSpec | str) -> list[dict[str, Any]]:
    """Create the demo users and records of a pack (or the pack folder at that path) once;
    returns the users (with their passwords)."""
    if isinstance(pack, str):
        pack = load_pack(pack)
    demo = pack.demo or {}
    users = list(demo.get("users") or [])
    records: Mapping[str, list[Mapping[str, Any]]] = demo.get("records") or {}
    ctx = platform.system_context()
    english = dataclasses.replace(ctx, locale="en")  # a demo file's mistakes, for its author
    store = platform.store()
    defs = platform.definitions()
    with platform.db.begin() as conn:
        if any(
            conn.execute(sa.select(sa.func.count()).select_from(defs.tables.table(form))).scalar() for form in records
        ):
            return [dict(u) for u in users]  # already installed: leave the data alone
        refs: dict[str, int] = {}
        user_ids: dict[str, int] = {}
        for user in users:
            existing = platform.users.by_name(conn, user["username"])
            if existing is None:
                existing = platform.users.add(
                    conn,
                    user["username"],
                    user.get("password"),
                    user.get("roles") or [],
                    display_name=user.get("display_name"),
                    email=user.get("email"),
                )
            user_ids[user["username"]] = existing.id
        _departments(conn, demo.get("departments") or [], user_ids, pack.locale)
        for form, items in records.items():
            spec = defs.forms[form]
            for item in items:
                values = store.validate(english, form, _resolve(spec.fields, item, refs, user_ids))
                owner = user_ids.get(item["owner"]) if item.get("owner") else None
                rec = store.create(conn, ctx, form, values, writer=Writer.system(ctx, "demo"), owner=owner)
                if item.get("_ref"):
                    refs[item["_ref"]] = rec["id"]
        for user in users:
            customer = user.get("customer")
            if isinstance(customer, str) and customer.startswith("@"):
                conn.execute(
                    lc_user.update()
                    .where(lc_user.c.username == user["username"])
                    .values(customer_id=refs[customer[1:]])
                )
    return [dict(u) for u in users]
