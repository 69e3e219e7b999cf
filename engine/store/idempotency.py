"""Idempotent writes: a replayed request (same caller, same key, same body) gets the first answer;
the same key with another request line or another body is a conflict (409).

The key row is written in the same transaction as the change it guards, so a change that
rolls back frees its key, and two concurrent requests with one key never both write.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.errors import Conflict
from engine.forms.coltypes import UTCDateTime
from engine.store.system import SYSTEM

idempotency = sa.Table(
    "lc_idempotency", SYSTEM,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("request", sa.String(300), nullable=False),   # method and path, e.g. "POST /records/x"
    sa.Column("body_sha256", sa.String(64)),                  # what was sent, to tell a replay from a reuse
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("response", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("user_id", "key", name="uq_lc_idempotency_user_key"),
)


@dataclass(frozen=True)
class IdempotencyKey:
    """What identifies a request: who sent it, their key, and what it asked for."""

    user_id: int
    key: str
    request: str
    body: Optional[str] = None      # :func:`body_digest` of what was sent


def body_digest(body: bytes) -> str:
    """The SHA-256 of a request body, in hex."""
    return hashlib.sha256(body).hexdigest()


def replay(conn: Connection, idem: IdempotencyKey) -> Optional[tuple[int, Any]]:
    """The stored (status, response) of an earlier request with this key, if any."""
    row = conn.execute(sa.select(idempotency.c.request, idempotency.c.body_sha256, idempotency.c.status,
                                 idempotency.c.response)
                       .where(idempotency.c.user_id == idem.user_id, idempotency.c.key == idem.key)).first()
    if row is None:
        return None
    if row.request != idem.request:
        raise Conflict.said("key_other_request", key=idem.key, request=row.request)
    if row.body_sha256 != idem.body:
        raise Conflict.said("key_other_body", key=idem.key)
    return row.status, row.response


def claim(conn: Connection, idem: IdempotencyKey, now: dt.datetime) -> None:
    """Take the key first thing in the writing transaction: a concurrent twin waits on it
    (PostgreSQL) or queues behind the whole transaction (SQLite), then replays."""
    conn.execute(idempotency.insert().values(user_id=idem.user_id, key=idem.key, request=idem.request,
                                             body_sha256=idem.body, status=0, response={}, created_at=now))


def remember(conn: Connection, idem: IdempotencyKey, status: int, response: Any) -> None:
    """Store the answer of the request that claimed the key."""
    conn.execute(idempotency.update().where(idempotency.c.user_id == idem.user_id, idempotency.c.key == idem.key)
                 .values(status=status, response=response))


def purge(conn: Connection, before: dt.datetime) -> int:
    """Forget keys older than ``before`` (the worker calls this daily)."""
    return int(conn.execute(idempotency.delete().where(idempotency.c.created_at < before)).rowcount)
