"""Delegations: a user away hands their tasks to another for a time window, for every flow or
the flows named. The flow engine asks :func:`delegate_for` when it opens a task for a user.

A delegation covers ``starts_at <= at < ends_at`` (a date given for the end means through that
day, in the pack's time zone: :func:`parse_when`), until it is revoked. One user's delegations
may not overlap in time for a flow they both cover (which one would win would be a guess). A
delegate who is away too passes the task on (a → b → c), at most :data:`MAX_HOPS` times; a
loop (a → b → a) stops at the last user before it comes round again.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.forms.coltypes import ID_MAX, UTCDateTime
from engine.security.org_errors import OrgConflict, OrgNotFound, Phrase, Refusals, said
from engine.store.system import SYSTEM
from engine.store.system import users as lc_user

delegations_table = sa.Table(
    "lc_delegation",
    SYSTEM,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("from_id", sa.Integer, sa.ForeignKey("lc_user.id"), nullable=False),
    sa.Column("to_id", sa.Integer, sa.ForeignKey("lc_user.id"), nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("ends_at", UTCDateTime, nullable=False),
    sa.Column("flows", sa.JSON),  # ["order_approval", ...]; null: every flow
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(64)),  # the user name of who made it (or the command line's)
    sa.Column("revoked_at", UTCDateTime),
    sa.Index("ix_lc_delegation_from", "from_id", "ends_at"),
)

#: how many times a task is passed on along delegations (a → b → c → ...)
MAX_HOPS = 5
_FLOW = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_FIELDS = ("from_id", "to_id", "starts_at", "ends_at", "flows")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Delegation:
    id: int
    from_id: int
    to_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    #: the flows it covers; None: every flow
    flows: Optional[tuple[str, ...]]
    created_at: dt.datetime
    created_by: Optional[str]
    revoked_at: Optional[dt.datetime]
    from_name: str = ""
    to_name: str = ""

    def covers(self, flow: str, at: dt.datetime) -> bool:
        """Whether a task of ``flow`` opened at ``at`` goes to the delegate."""
        return (
            self.revoked_at is None
            and self.starts_at <= at < self.ends_at
            and (self.flows is None or flow in self.flows)
        )

    def to_dict(self) -> dict[str, Any]:
        when = lambda v: v.isoformat() if v is not None else None  # noqa: E731
        return {
            "id": self.id,
            "from_id": self.from_id,
            "from": self.from_name,
            "to_id": self.to_id,
            "to": self.to_name,
            "starts_at": when(self.starts_at),
            "ends_at": when(self.ends_at),
            "flows": list(self.flows) if self.flows is not None else None,
            "created_at": when(self.created_at),
            "created_by": self.created_by,
            "revoked_at": when(self.revoked_at),
        }


_giver = lc_user.alias("giver")
_taker = lc_user.alias("taker")
_SELECT = (
    sa.select(delegations_table, _giver.c.username.label("from_name"), _taker.c.username.label("to_name"))
    .join(_giver, _giver.c.id == delegations_table.c.from_id)
    .join(_taker, _taker.c.id == delegations_table.c.to_id)
)


def _delegation(row: Any) -> Delegation:
    flows = tuple(row.flows) if row.flows is not None else None
    return Delegation(
        row.id,
        row.from_id,
        row.to_id,
        row.starts_at,
        row.ends_at,
        flows,
        row.created_at,
        row.created_by,
        row.revoked_at,
        row.from_name,
        row.to_name,
    )


def delegate_for(conn: Connection, user_id: int, flow: str, at: dt.datetime) -> Optional[int]:
    """Who takes a task of ``flow`` opened at ``at`` for ``user_id``: the delegate of their
    active delegation for that flow, followed on while the delegate delegated too (at most
    :data:`MAX_HOPS`, never round a loop); None when the user delegated nothing then."""
    current, seen = user_id, {user_id}
    for _ in range(MAX_HOPS):
        taker = _active(conn, current, flow, at)
        if taker is None or taker in seen:
            break
        seen.add(taker)
        current = taker
    return None if current == user_id else current


def _active(conn: Connection, user_id: int, flow: str, at: dt.datetime) -> Optional[int]:
    rows = conn.execute(
        _SELECT.where(
            delegations_table.c.from_id == user_id,
            delegations_table.c.revoked_at.is_(None),
            delegations_table.c.starts_at <= at,
            delegations_table.c.ends_at > at,
            _taker.c.active.is_(True),
        ).order_by(delegations_table.c.id.desc())
    )
    for row in rows:
        if _delegation(row).covers(flow, at):
            return int(row.to_id)
    return None


def delegations(
    conn: Connection, *, user_id: Optional[int] = None, at: Optional[dt.datetime] = None, revoked: bool = True
) -> list[Delegation]:
    """Delegations by id: those ``user_id`` gave or took (every one when None), only those in
    force at ``at`` when given, the revoked ones too unless ``revoked`` is False."""
    query = _SELECT.order_by(delegations_table.c.id)
    if user_id is not None:
        query = query.where(sa.or_(delegations_table.c.from_id == user_id, delegations_table.c.to_id == user_id))
    if at is not None:
        query = query.where(delegations_table.c.starts_at <= at, delegations_table.c.ends_at > at)
    if at is not None or not revoked:
        query = query.where(delegations_table.c.revoked_at.is_(None))
    return [_delegation(r) for r in conn.execute(query)]


def delegation(conn: Connection, delegation_id: int) -> Delegation:
    row = conn.execute(_SELECT.where(delegations_table.c.id == delegation_id)).first()
    if row is None:
        raise said(OrgNotFound, "no_delegation", id=delegation_id)
    return _delegation(row)


def add_delegation(
    conn: Connection,
    values: Mapping[str, Any],
    *,
    now: dt.datetime,
    created_by: Optional[str],
    timezone: str = "UTC",
    locale: str = "en",
) -> Delegation:
    """Record a delegation from ``values``: ``from_id``, ``to_id`` (user ids), ``starts_at``,
    ``ends_at`` (ISO dates or date-times, read in ``timezone`` when they have none) and
    ``flows`` (a list of flow names, or null/absent for every flow). 422 names each wrong field;
    409 when it overlaps one of the same user's delegations for a flow both cover."""
    refusals = Refusals(locale)
    for key in values:
        if key not in _FIELDS:
            refusals.add(str(key), "unknown_field")
    for key in ("from_id", "to_id", "starts_at", "ends_at"):
        if values.get(key) is None:
            refusals.add(key, "required")
    giver = _user(conn, refusals, "from_id", values.get("from_id"), must_be_active=False)
    taker = _user(conn, refusals, "to_id", values.get("to_id"), must_be_active=True)
    if giver is not None and giver == taker:
        refusals.add("to_id", "to_self")
    starts = _when(refusals, "starts_at", values.get("starts_at"), timezone, end=False)
    ends = _when(refusals, "ends_at", values.get("ends_at"), timezone, end=True)
    if starts is not None and ends is not None and ends <= starts:
        refusals.add("ends_at", "ends_first", starts=local(starts, timezone))
    flows = _flows(refusals, values.get("flows"))
    refusals.raise_any()
    assert giver is not None and taker is not None and starts is not None and ends is not None
    for other in delegations(conn, user_id=giver, revoked=False):
        shared = other.flows is None or flows is None or set(other.flows) & set(flows)
        if other.from_id == giver and shared and other.starts_at < ends and starts < other.ends_at:
            names = Phrase("every_flow") if other.flows is None else Phrase("the_flows", flows=", ".join(other.flows))
            raise said(
                OrgConflict,
                "overlaps",
                user=other.from_name,
                flows=names,
                to=other.to_name,
                starts=local(other.starts_at, timezone),
                ends=local(other.ends_at, timezone),
                id=other.id,
            )
    new_id = conn.execute(
        delegations_table.insert()
        .values(
            from_id=giver,
            to_id=taker,
            starts_at=starts,
            ends_at=ends,
            flows=list(flows) if flows is not None else None,
            created_at=now,
            created_by=created_by,
        )
        .returning(delegations_table.c.id)
    ).scalar_one()
    return delegation(conn, new_id)


def revoke_delegation(conn: Connection, delegation_id: int, at: dt.datetime) -> Delegation:
    """End a delegation now (tasks opened from ``at`` on stay with the user); 409 when revoked already."""
    done = conn.execute(
        delegations_table.update()
        .where(delegations_table.c.id == delegation_id, delegations_table.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    if done.rowcount != 1:
        delegation(conn, delegation_id)  # 404 when there is none
        raise said(OrgConflict, "revoked_already", id=delegation_id)
    return delegation(conn, delegation_id)


def parse_when(value: Any, timezone: str, *, end: bool) -> dt.datetime:
    """An ISO date or date-time as an aware datetime: one without a zone is read in
    ``timezone``; a date is its first moment, or for an ``end``, the first moment after it
    (a leave "to 2026-12-05" includes the 5th). ValueError when it is neither."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value + dt.timedelta(days=1 if end else 0), dt.time())
    elif isinstance(value, str) and _DATE.match(value.strip()):
        day = dt.date.fromisoformat(value.strip())
        moment = dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time())
    elif isinstance(value, str):
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    else:
        raise ValueError(f"not a date: {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(dt.timezone.utc)


def local(moment: dt.datetime, timezone: str) -> str:
    """``2026-12-01 00:00`` (the moment in ``timezone``), for messages and listings."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


# ---- internals ---------------------------------------------------------------------------


def _user(conn: Connection, refusals: Refusals, field: str, value: Any, *, must_be_active: bool) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        refusals.add(field, "not_record")
        return None
    row = (
        conn.execute(sa.select(lc_user.c.active, lc_user.c.username).where(lc_user.c.id == value)).first()
        if 1 <= value <= ID_MAX
        else None
    )
    if row is None:
        refusals.add(field, "not_a_user", id=value)
        return None
    if must_be_active and not row.active:
        refusals.add(field, "user_disabled", name=row.username)
        return None
    return value


def _when(refusals: Refusals, field: str, value: Any, timezone: str, *, end: bool) -> Optional[dt.datetime]:
    if value is None:
        return None
    try:
        moment = parse_when(value, timezone, end=end)
    except (ValueError, OverflowError):
        refusals.add(field, "bad_when", sent=repr(value)[:40])
        return None
    if not dt.datetime(1900, 1, 1, tzinfo=dt.timezone.utc) <= moment <= dt.datetime(9000, 1, 1, tzinfo=dt.timezone.utc):
        refusals.add(field, "bad_when", sent=repr(value)[:40])
        return None
    return moment


def _flows(refusals: Refusals, value: Any) -> Optional[tuple[str, ...]]:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not value
        or len(value) > 100
        or not all(isinstance(f, str) and _FLOW.match(f) for f in value)
    ):
        refusals.add("flows", "bad_flows")
        return None
    return tuple(dict.fromkeys(value))
