"""lc_timer generic: (kind, key, due_at, payload) with a lease, for any handler (rules, later flows).

A rule timer row (rule, form, record_id, trigger) becomes kind ``rule``, key ``<rule>#<record
id>`` and a payload with the four; a relative rule's "existing records placed" marker
(record_id -1) becomes a ``kept`` row keyed ``backfilled:<rule>``. The rows are read, the
table made anew (its index and unique names are reused) and the rows written back.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from engine.forms.coltypes import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
_COMMON = ("due_at", "status", "created_at", "fired_at", "fired_by", "outcome", "error")


def _generic(meta: sa.MetaData) -> sa.Table:
    return sa.Table(
        "lc_timer", meta,
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("payload", sa.JSON),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("locked_until", UTCDateTime),
        sa.Column("locked_by", sa.String(64)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("fired_at", UTCDateTime),
        sa.Column("fired_by", sa.String(64)),
        sa.Column("outcome", sa.String(200)),
        sa.Column("error", sa.Text),
        sa.Index("ix_lc_timer_due", "status", "due_at"),
        sa.UniqueConstraint("kind", "key", "due_at", name="uq_lc_timer_slot"),
    )


def _of_rules(meta: sa.MetaData) -> sa.Table:
    """lc_timer as the baseline (and 0003) had it."""
    from engine.store import migrate

    baseline = migrate.script().get_revision(migrate.BASELINE)
    assert baseline is not None
    baseline.module.define(meta)
    return meta.tables["lc_timer"]


def _swap(old: sa.Table, new: sa.Table, convert: Any) -> None:
    bind = op.get_bind()
    have = {c["name"] for c in sa.inspect(bind).get_columns("lc_timer")}
    if set(new.c.keys()) <= have:
        return      # made so already (a database adopted at the baseline from today's code tables)
    rows = [dict(r) for r in bind.execute(sa.select(old)).mappings()]
    old.drop(bind)
    new.create(bind)
    out = [convert(r) for r in rows]
    out = [r for r in out if r is not None]
    if out:
        bind.execute(sa.insert(new), out)


def _to_generic(row: dict[str, Any]) -> dict[str, Any]:
    common = {k: row[k] for k in _COMMON}
    if row["record_id"] == -1:
        return {**common, "kind": "rule", "key": f"backfilled:{row['rule']}", "status": "kept",
                "payload": {"trigger": row["trigger"]}, "attempts": 0}
    return {**common, "kind": "rule", "key": f"{row['rule']}#{row['record_id']}", "attempts": 0,
            "payload": {"rule": row["rule"], "form": row["form"], "record_id": row["record_id"],
                        "trigger": row["trigger"]}}


def _to_rules(row: dict[str, Any]) -> dict[str, Any] | None:
    if row["kind"] != "rule":
        return None                     # another handler's timers have no place in the old table
    common = {k: row[k] for k in _COMMON}
    p = row["payload"] or {}
    if row["status"] == "kept":
        rule = row["key"].split(":", 1)[1]
        return {**common, "status": "fired", "rule": rule, "form": rule.split(":", 1)[0], "record_id": -1,
                "trigger": p.get("trigger", "")}
    return {**common, "rule": p["rule"], "form": p["form"], "record_id": p["record_id"], "trigger": p["trigger"]}


def upgrade() -> None:
    _swap(_of_rules(sa.MetaData()), _generic(sa.MetaData()), _to_generic)


def downgrade() -> None:
    _swap(_generic(sa.MetaData()), _of_rules(sa.MetaData()), _to_rules)
