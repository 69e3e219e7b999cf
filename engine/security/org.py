"""The organisation: departments (a tree with a head each), users' departments, and the chain
of heads above a user that an approval climbs (``mode: chain``); delegations are in
:mod:`engine.security.delegation` and offered here too.

Generic, not tied to any pack: a department has a unique ``name``, an optional ``label`` by
language, an optional parent and an optional head (a user); a user belongs to at most one
department (``lc_user.department_id``). Every function takes the connection of the caller's
transaction; the ones that change something check what they are given and refuse it with the
fields named, in the caller's ``locale``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.forms.coltypes import ID_MAX
from engine.security.delegation import (
    MAX_HOPS,
    Delegation,
    add_delegation,
    delegate_for,
    delegation,
    delegations,
    local,
    parse_when,
    revoke_delegation,
)
from engine.security.org_errors import OrgConflict, OrgNotFound, Refusals, said
from engine.store.system import SYSTEM
from engine.store.system import users as lc_user

__all__ = [
    "MAX_HOPS",
    "Delegation",
    "Department",
    "add_delegation",
    "add_department",
    "delegate_for",
    "delegation",
    "delegations",
    "department",
    "department_by_name",
    "department_of",
    "departments",
    "heads_above",
    "local",
    "members",
    "parse_when",
    "revoke_delegation",
    "set_user_department",
    "update_department",
    "user_id_by_name",
]

departments_table = sa.Table(
    "lc_department",
    SYSTEM,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("label", sa.JSON),  # {"zh-CN": "销售部", "en": "Sales"}
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("lc_department.id")),
    sa.Column("head_id", sa.Integer, sa.ForeignKey("lc_user.id")),
    sa.UniqueConstraint("name", name="uq_lc_department_name"),
)

#: the deepest tree a chain climbs (a guard against a parent loop written around this module)
MAX_DEPTH = 64
_NAME_MAX = 64
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_FIELDS = ("name", "label", "parent_id", "head_id")


@dataclass(frozen=True)
class Department:
    id: int
    name: str
    label: Optional[dict[str, str]]
    parent_id: Optional[int]
    head_id: Optional[int]
    #: the head's user name (None without a head)
    head: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "label": self.label,
            "parent_id": self.parent_id,
            "head_id": self.head_id,
            "head": self.head,
        }


_SELECT = sa.select(departments_table, lc_user.c.username.label("head_name")).outerjoin(
    lc_user, lc_user.c.id == departments_table.c.head_id
)


def _department(row: Any) -> Department:
    return Department(row.id, row.name, row.label, row.parent_id, row.head_id, row.head_name)


# ---- reading ---------------------------------------------------------------------------


def departments(conn: Connection) -> list[Department]:
    """Every department, by id."""
    return [_department(r) for r in conn.execute(_SELECT.order_by(departments_table.c.id))]


def department(conn: Connection, department_id: int) -> Department:
    """One department; :class:`OrgNotFound` (404) when there is none with that id."""
    row = conn.execute(_SELECT.where(departments_table.c.id == department_id)).first()
    if row is None:
        raise said(OrgNotFound, "no_department", id=department_id)
    return _department(row)


def department_by_name(conn: Connection, name: str) -> Department:
    """The department named ``name``; :class:`OrgNotFound` (with the names it may have meant)."""
    row = conn.execute(_SELECT.where(departments_table.c.name == name)).first()
    if row is None:
        known = conn.execute(sa.select(departments_table.c.name)).scalars().all()
        raise said(OrgNotFound, "no_department_named", name=name, hint=_did_you_mean(name, known))
    return _department(row)


def user_id_by_name(conn: Connection, username: str) -> int:
    """The id of user ``username``; :class:`OrgNotFound` (with the names it may have meant)."""
    found = conn.execute(sa.select(lc_user.c.id).where(lc_user.c.username == username)).scalar()
    if found is None:
        known = conn.execute(sa.select(lc_user.c.username)).scalars().all()
        raise said(OrgNotFound, "no_user_named", name=username, hint=_did_you_mean(username, known))
    return int(found)


def department_of(conn: Connection, user_id: int) -> Optional[Department]:
    """The department a user belongs to (None: in none, or no such user); for ``starter.department``."""
    found = conn.execute(sa.select(lc_user.c.department_id).where(lc_user.c.id == user_id)).scalar()
    return None if found is None else department(conn, int(found))


def members(conn: Connection, department_id: int) -> list[int]:
    """The ids of the users in a department (not its sub-departments), by id."""
    rows = conn.execute(sa.select(lc_user.c.id).where(lc_user.c.department_id == department_id).order_by(lc_user.c.id))
    return [int(r) for r in rows.scalars()]


def heads_above(conn: Connection, user_id: int, levels: int) -> list[int]:
    """The heads an approval climbs for ``user_id``: their department's head, then the parent
    department's head, and so on, at most ``levels`` of them (``levels`` counts heads, not
    departments). A department without a head, a head who is the user themself, a head met
    already (one person heading two levels) and a disabled head are passed over; the climb
    stops at the root. A user without a department (or unknown) has no heads: ``[]``."""
    if levels <= 0:
        return []
    row = conn.execute(sa.select(lc_user.c.department_id).where(lc_user.c.id == user_id)).first()
    if row is None or row.department_id is None:
        return []
    tree = {
        r.id: (r.parent_id, r.head_id, r.active)
        for r in conn.execute(
            sa.select(
                departments_table.c.id, departments_table.c.parent_id, departments_table.c.head_id, lc_user.c.active
            ).outerjoin(lc_user, lc_user.c.id == departments_table.c.head_id)
        )
    }
    heads: list[int] = []
    seen: set[int] = set()
    at: Optional[int] = row.department_id
    while at is not None and at in tree and at not in seen and len(seen) < MAX_DEPTH:
        seen.add(at)
        parent, head, active = tree[at]
        if head is not None and head != user_id and head not in heads and active:
            heads.append(head)
            if len(heads) == levels:
                break
        at = parent
    return heads


# ---- changing --------------------------------------------------------------------------


def add_department(conn: Connection, values: Mapping[str, Any], *, locale: str = "en") -> Department:
    """Create a department from ``values`` (``name``; optional ``label``, ``parent_id``,
    ``head_id``): 422 naming each field that is wrong, 409 when the name is taken."""
    checked = _checked(conn, values, None, locale)
    _name_free(conn, checked["name"], None)
    new_id = conn.execute(departments_table.insert().values(**checked).returning(departments_table.c.id)).scalar_one()
    return department(conn, new_id)


def update_department(
    conn: Connection, department_id: int, changes: Mapping[str, Any], *, locale: str = "en"
) -> Department:
    """Change the fields of ``changes`` (any of ``name``, ``label``, ``parent_id``, ``head_id``;
    null clears the last three). A parent that is the department itself or below it is refused."""
    before = department(conn, department_id)
    checked = _checked(conn, changes, before, locale)
    if "name" in checked:
        _name_free(conn, checked["name"], department_id)
    if checked:
        conn.execute(departments_table.update().where(departments_table.c.id == department_id).values(**checked))
    return department(conn, department_id)


def set_user_department(
    conn: Connection, user_id: int, department_id: Optional[int], *, locale: str = "en"
) -> Optional[Department]:
    """Put a user in a department (None: in none); the department after."""
    if conn.execute(sa.select(lc_user.c.id).where(lc_user.c.id == user_id)).first() is None:
        raise said(OrgNotFound, "no_user", id=user_id)
    refusals = Refusals(locale)
    _an_id(conn, refusals, "department_id", department_id, departments_table)
    refusals.raise_any()
    conn.execute(lc_user.update().where(lc_user.c.id == user_id).values(department_id=department_id))
    return None if department_id is None else department(conn, department_id)


# ---- internals ---------------------------------------------------------------------------


def _checked(conn: Connection, values: Mapping[str, Any], before: Optional[Department], locale: str) -> dict[str, Any]:
    refusals = Refusals(locale)
    for key in values:
        if key not in _FIELDS and key != "id":
            refusals.add(str(key), "unknown_field")
    if before is None and "name" not in values:
        refusals.add("name", "required")
    out: dict[str, Any] = {}
    if "name" in values:
        name = values["name"]
        if not isinstance(name, str) or not name.strip():
            refusals.add("name", "required" if name in (None, "") else "not_text")
        elif len(name.strip()) > _NAME_MAX:
            refusals.add("name", "too_long", max=_NAME_MAX)
        else:
            out["name"] = name.strip()
    if "label" in values:
        label = values["label"]
        if label is not None and not (
            isinstance(label, dict)
            and label
            and all(isinstance(k, str) and _LANGUAGE.match(k) for k in label)
            and all(isinstance(v, str) and v.strip() for v in label.values())
        ):
            refusals.add("label", "bad_label")
        else:
            out["label"] = label
    if "head_id" in values:
        if _an_id(conn, refusals, "head_id", values["head_id"], lc_user):
            out["head_id"] = values["head_id"]
    if "parent_id" in values:
        parent = values["parent_id"]
        if _an_id(conn, refusals, "parent_id", parent, departments_table):
            if before is not None and parent is not None and before.id in _up_from(conn, parent):
                refusals.add("parent_id", "parent_cycle", parent=_name_of(conn, parent), name=before.name)
            else:
                out["parent_id"] = parent
    refusals.raise_any()
    return out


def _an_id(conn: Connection, refusals: Refusals, field: str, value: Any, table: sa.Table) -> bool:
    """Whether ``value`` is None or the id of a row of ``table`` (else the field is refused)."""
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, int):
        refusals.add(field, "not_record")
        return False
    found = 1 <= value <= ID_MAX and conn.execute(sa.select(table.c.id).where(table.c.id == value)).first()
    if not found:
        refusals.add(field, "not_a_user" if table is lc_user else "not_a_department", id=value)
        return False
    if table is lc_user:
        row = conn.execute(sa.select(lc_user.c.active, lc_user.c.username).where(lc_user.c.id == value)).one()
        if not row.active:
            refusals.add(field, "user_disabled", name=row.username)
            return False
    return True


def _up_from(conn: Connection, department_id: int) -> list[int]:
    """The department and every department above it, bottom up (a loop ends it)."""
    parents = {
        r.id: r.parent_id for r in conn.execute(sa.select(departments_table.c.id, departments_table.c.parent_id))
    }
    out: list[int] = []
    at: Optional[int] = department_id
    while at is not None and at not in out and len(out) < MAX_DEPTH:
        out.append(at)
        at = parents.get(at)
    return out


def _name_of(conn: Connection, department_id: int) -> str:
    return str(
        conn.execute(sa.select(departments_table.c.name).where(departments_table.c.id == department_id)).scalar()
    )


def _name_free(conn: Connection, name: str, keep: Optional[int]) -> None:
    taken = conn.execute(sa.select(departments_table.c.id).where(departments_table.c.name == name)).scalar()
    if taken is not None and taken != keep:
        raise said(OrgConflict, "department_exists", field="name", name=name)


def _did_you_mean(name: str, known: Any) -> str:
    import difflib

    close = difflib.get_close_matches(name, [str(k) for k in known], n=3, cutoff=0.5)
    return f" ({' / '.join(close)}?)" if close else ""
