"""Baseline: the ``lc_*`` tables as the platform created them before it had migrations.

A frozen copy, not an import of the code's tables: later revisions change those, never this.
``define`` is also how engine.store.migrate adopts a database made before migrations existed
(it creates what such a database lacks, then stamps it at this revision).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.forms.coltypes import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: 64-bit ids for the fast-growing logs, plain INTEGER on SQLite (its rowid)
_BIG_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def define(meta: sa.MetaData) -> None:
    """The baseline's tables, on ``meta``."""
    sa.Table(
        "lc_definition", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pack", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(64)),
        sa.UniqueConstraint("pack", "revision", name="uq_lc_definition_pack_revision"),
    )
    sa.Table(
        "lc_user", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(256)),
        sa.Column("display_name", sa.String(128)),
        sa.Column("email", sa.String(256)),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("customer_id", sa.Integer),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    sa.Table(
        "lc_token", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("lc_user.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime),
        sa.Column("revoked_at", UTCDateTime),
        sa.Column("label", sa.String(64)),
    )
    sa.Table(
        "lc_audit", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("form", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("user_id", sa.Integer),
        sa.Column("username", sa.String(64)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("source", sa.String(32)),
        sa.Index("ix_lc_audit_record", "form", "record_id"),
    )
    sa.Table(
        "lc_record_version", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("form", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("user_id", sa.Integer),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.UniqueConstraint("form", "record_id", "version", name="uq_lc_record_version"),
    )
    sa.Table(
        "lc_login_counter", meta,
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start", UTCDateTime, nullable=False),
        sa.Column("locked_until", UTCDateTime),
        sa.Index("ix_lc_login_counter_window", "window_start"),
    )
    sa.Table(
        "lc_login_audit", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("locked_until", UTCDateTime),
        sa.Column("locked", sa.String(16)),
        sa.Index("ix_lc_login_audit_user", "username", "at"),
        sa.Index("ix_lc_login_audit_at", "at"),
    )
    sa.Table(
        "lc_idempotency", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("request", sa.String(300), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("response", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("user_id", "key", name="uq_lc_idempotency_user_key"),
    )
    sa.Table(
        "lc_outbox", meta,
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(64)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("idempotency_key", sa.String(200), unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("locked_until", UTCDateTime),
        sa.Column("locked_by", sa.String(64)),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Index("ix_lc_outbox_due", "status", "next_attempt_at"),
    )
    sa.Table(
        "lc_sequence", meta,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("period", sa.String(16), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    sa.Table(
        "lc_file", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(127), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    sa.Table(
        "lc_rule_run", meta,
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("pack", sa.String(64)),
        sa.Column("revision", sa.Integer),
        sa.Column("pack_version", sa.String(32)),
        sa.Column("form", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer),
        sa.Column("event", sa.String(16)),
        sa.Column("trigger", sa.String(200)),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("duration_ms", sa.Float),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("actions", sa.JSON, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("error_position", sa.String(300)),
        sa.Column("rolled_back", sa.Boolean, nullable=False),
        sa.Column("user_id", sa.Integer),
        sa.Column("username", sa.String(64)),
        sa.Column("source", sa.String(32)),
        sa.Column("depth", sa.Integer),
        sa.Index("ix_lc_rule_run_started", "started_at"),
        sa.Index("ix_lc_rule_run_record", "form", "record_id"),
        sa.Index("ix_lc_rule_run_rule", "rule"),
    )
    sa.Table(
        "lc_rule_run_record", meta,
        sa.Column("run_id", _BIG_ID, primary_key=True),
        sa.Column("record_id", sa.Integer, primary_key=True),
        sa.Index("ix_lc_rule_run_record_record", "record_id"),
        sqlite_with_rowid=False,
    )
    sa.Table(
        "lc_flag", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("form", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("colour", sa.String(16), nullable=False),
        sa.Column("tag", sa.String(200)),
        sa.Column("rule", sa.String(200)),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Index("ix_lc_flag_record", "form", "record_id"),
    )
    sa.Table(
        "lc_timer", meta,
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("rule", sa.String(300), nullable=False),
        sa.Column("form", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("trigger", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("fired_at", UTCDateTime),
        sa.Column("fired_by", sa.String(64)),
        sa.Column("outcome", sa.String(200)),
        sa.Column("error", sa.Text),
        sa.Index("ix_lc_timer_due", "status", "due_at"),
        sa.UniqueConstraint("rule", "record_id", "due_at", name="uq_lc_timer_slot"),
    )
    sa.Table(
        "lc_webhook_delivery", meta,
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("hook", sa.String(100), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("response", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("hook", "key", name="uq_lc_webhook_delivery"),
        sa.Index("ix_lc_webhook_delivery_created", "created_at"),
    )


def upgrade() -> None:
    meta = sa.MetaData()
    define(meta)
    meta.create_all(op.get_bind(), checkfirst=False)


def downgrade() -> None:
    meta = sa.MetaData()
    define(meta)
    meta.drop_all(op.get_bind(), checkfirst=False)
