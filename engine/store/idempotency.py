"""Idempotent writes, one helper for every entry point that takes a key: the API's
``Idempotency-Key`` (single records and batches), the workspace's one-time form key and
inbound webhooks' delivery keys.

A replay (the same owner, key, request and body) gets the first answer and writes nothing;
the same key with another request line or another body is a conflict (409). The key row is
written in the same transaction as the change it guards (:func:`once`), so a change that
rolls back frees its key, and two concurrent requests with one key never both write: the
second waits for the first (on its key row on PostgreSQL, on the write lock on SQLite), then
replays its answer.

Keys live in ``lc_idempotency``, unique by ``(user_id, key)``: a user's keys under their id,
an inbound hook's under user 0 with the key ``hook:<name>:<key>`` (:meth:`IdempotencyKey.for_hook`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.errors import Conflict
from engine.forms.coltypes import UTCDateTime
from engine.store.dialect import insert_ignore
from engine.store.system import SYSTEM

if TYPE_CHECKING:
    from engine.store.db import Database

MAX_KEY = 200

idempotency = sa.Table(
    "lc_idempotency",
    SYSTEM,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False),  # 0: not a user's (an inbound hook's)
    sa.Column("key", sa.String(MAX_KEY), nullable=False),
    sa.Column("request", sa.String(300), nullable=False),  # method and path, e.g. "POST /records/x"
    sa.Column("body_sha256", sa.String(64)),  # what was sent, to tell a replay from a reuse
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("response", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("user_id", "key", name="uq_lc_idempotency_user_key"),
)


@dataclass(frozen=True)
class IdempotencyKey:
    """What identifies a request: whose key it is, the key, and what it asked for."""

    user_id: int
    key: str
    request: str
    body: Optional[str] = None  # :func:`body_digest` of what was sent

    @classmethod
    def for_hook(cls, hook: str, key: str, body: bytes) -> "IdempotencyKey":
        """An inbound webhook's delivery key (each hook has keys of its own)."""
        stored = f"hook:{hook}:{key}"
        if len(stored) > MAX_KEY:  # a long hook name: the key's digest keeps it apart
            stored = f"hook:{hook[:60]}:sha256:{body_digest(stored.encode())}"
        return cls(0, stored, f"POST /hooks/{hook}", body_digest(body))


def body_digest(body: bytes) -> str:
    """The SHA-256 of a request body, in hex."""
    return hashlib.sha256(body).hexdigest()


def once(
    db: "Database", idem: Optional[IdempotencyKey], now: dt.datetime, status: int, work: Callable[[Connection], Any]
) -> tuple[Any, bool]:
    """Run ``work(conn)`` in one transaction of ``db``, at most once per key: returns
    ``(answer, replayed)``. With a key, the answer (which must be JSON) is kept with it and
    given back to every replay; a failure rolls the key back with the rest."""
    with db.begin() as conn:
        if idem is not None:
            prior = claim(conn, idem, now)
            if prior is not None:
                return prior[1], True
        answer = work(conn)
        if idem is not None:
            conn.execute(
                idempotency.update()
                .where(idempotency.c.user_id == idem.user_id, idempotency.c.key == idem.key)
                .values(status=status, response=answer)
            )
        return answer, False


def claim(conn: Connection, idem: IdempotencyKey, now: dt.datetime) -> Optional[tuple[int, Any]]:
    """Take the key first thing in the writing transaction (None), or the (status, answer) of
    the request that took it before: a concurrent twin waits for that request to end (its key
    row on PostgreSQL, the write lock on SQLite); one that rolled back left no key behind."""
    taken = conn.execute(
        insert_ignore(idempotency, conn)
        .values(
            user_id=idem.user_id,
            key=idem.key,
            request=idem.request,
            body_sha256=idem.body,
            status=0,
            response={},
            created_at=now,
        )
        .returning(idempotency.c.id)
    ).scalar()
    if taken is not None:
        return None
    row = conn.execute(
        sa.select(idempotency.c.request, idempotency.c.body_sha256, idempotency.c.status, idempotency.c.response).where(
            idempotency.c.user_id == idem.user_id, idempotency.c.key == idem.key
        )
    ).one()
    shown = idem.key.split(":", 2)[2] if idem.user_id == 0 and idem.key.startswith("hook:") else idem.key
    if row.request != idem.request:
        raise Conflict.said("key_other_request", key=shown, request=row.request)
    if row.body_sha256 != idem.body:
        raise Conflict.said("key_other_body", key=shown)
    return row.status, row.response


def purge(conn: Connection, before: dt.datetime) -> int:
    """Forget keys older than ``before``; returns how many (the worker's hourly upkeep)."""
    return int(conn.execute(idempotency.delete().where(idempotency.c.created_at < before)).rowcount)
