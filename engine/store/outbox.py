"""The outbox: external effects recorded in the business transaction, sent after commit.

A rule that mails a customer or calls a webhook does not do it; it calls :func:`enqueue`
with the connection of the transaction that changes the data. The row commits or rolls back
with the change, and :class:`engine.store.worker.Worker` sends committed rows later. A
row may be sent more than once (a worker can crash between sending and recording it), so
every sender passes :attr:`OutboxRow.key` on for the receiving side to drop repeats.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.errors import LowcodeError
from engine.forms.coltypes import UTCDateTime
from engine.store.dialect import insert_ignore
from engine.store.system import SYSTEM

PENDING = "pending"
SENT = "sent"
DEAD = "dead"

outbox = sa.Table(
    "lc_outbox",
    SYSTEM,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),  # "notify", "webhook", ...
    sa.Column("channel", sa.String(64)),  # e.g. the notifier: "email"
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("idempotency_key", sa.String(200), unique=True),
    sa.Column("status", sa.String(16), nullable=False, default=PENDING),  # pending|sent|dead
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("locked_until", UTCDateTime),
    sa.Column("locked_by", sa.String(64)),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.Index("ix_lc_outbox_due", "status", "next_attempt_at"),
)


class PermanentFailure(LowcodeError):
    """Raised by a sender when retrying cannot help (bad payload): the row goes dead now."""


@dataclass(frozen=True)
class OutboxRow:
    """One outbox entry as a sender sees it."""

    id: int
    kind: str
    channel: str | None
    payload: Any
    idempotency_key: str | None
    attempts: int  # this delivery included
    created_at: dt.datetime

    @property
    def key(self) -> str:
        """What the receiving side deduplicates on: the enqueue key, else ``outbox-<id>``."""
        return self.idempotency_key or f"outbox-{self.id}"

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> "OutboxRow":
        return cls(
            id=int(row["id"]),
            kind=row["kind"],
            channel=row["channel"],
            payload=row["payload"],
            idempotency_key=row["idempotency_key"],
            attempts=int(row["attempts"]),
            created_at=row["created_at"],
        )


def enqueue(
    conn: Connection,
    kind: str,
    payload: Any,
    *,
    channel: str | None = None,
    key: str | None = None,
    now: dt.datetime,
) -> int:
    """Record an effect in the caller's transaction and return its outbox id.

    With ``key``, enqueueing the same effect twice (a retried request, a rule that fires
    again) keeps the first row and returns its id; the payload of the repeat is ignored.
    """
    values = dict(
        kind=kind,
        channel=channel,
        payload=payload,
        idempotency_key=key,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    if key is None:
        pk = conn.execute(sa.insert(outbox).values(**values)).inserted_primary_key
        assert pk is not None  # a single-row insert always has one
        return int(pk[0])
    stmt = insert_ignore(outbox, conn).values(**values).returning(outbox.c.id)
    new_id = conn.execute(stmt).scalar()
    if new_id is not None:
        return int(new_id)
    existing = sa.select(outbox.c.id).where(outbox.c.idempotency_key == key)
    return int(conn.execute(existing).scalar_one())


def get(conn: Connection, outbox_id: int) -> dict[str, Any] | None:
    """The full row as a dict (for admin screens and tests), or ``None``."""
    row = conn.execute(sa.select(outbox).where(outbox.c.id == outbox_id)).mappings().first()
    return dict(row) if row is not None else None


def requeue(conn: Connection, ids: Iterable[int], *, now: dt.datetime) -> int:
    """Send dead (or pending) rows again from now on, attempts reset; returns rows changed."""
    stmt = (
        sa.update(outbox)
        .where(outbox.c.id.in_(list(ids)), outbox.c.status != SENT)
        .values(status=PENDING, attempts=0, next_attempt_at=now, locked_until=None, locked_by=None)
    )
    return int(conn.execute(stmt).rowcount)


def purge_sent(conn: Connection, *, before: dt.datetime) -> int:
    """Delete rows sent before ``before`` (the outbox is a queue, not an archive)."""
    stmt = sa.delete(outbox).where(outbox.c.status == SENT, outbox.c.sent_at < before)
    return int(conn.execute(stmt).rowcount)
