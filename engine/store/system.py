"""The platform's own tables (all prefixed ``lc_``), on one shared MetaData."""

from __future__ import annotations

import sqlalchemy as sa

from engine.forms.coltypes import UTCDateTime

SYSTEM = sa.MetaData()

#: Installed definition versions; the exact file texts make export lossless.
definitions = sa.Table(
    "lc_definition",
    SYSTEM,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("pack", sa.String(64), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("version", sa.String(32), nullable=False),
    sa.Column("files", sa.JSON, nullable=False),
    sa.Column("checksum", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # active | superseded | draft
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(64)),
    sa.UniqueConstraint("pack", "revision", name="uq_lc_definition_pack_revision"),
)

users = sa.Table(
    "lc_user",
    SYSTEM,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(256)),
    sa.Column("display_name", sa.String(128)),
    sa.Column("email", sa.String(256)),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("customer_id", sa.Integer),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # the user's department (lc_department, engine.security.org); no foreign key: the department's
    # head points back at lc_user, and the organisation code checks both ways
    sa.Column("department_id", sa.Integer),
    sa.Index("ix_lc_user_department", "department_id"),
)

tokens = sa.Table(
    "lc_token",
    SYSTEM,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("lc_user.id"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime),
    sa.Column("revoked_at", UTCDateTime),
    sa.Column("label", sa.String(64)),
)

audit = sa.Table(
    "lc_audit",
    SYSTEM,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("form", sa.String(64), nullable=False),
    sa.Column("record_id", sa.Integer, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # create | update | delete
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("user_id", sa.Integer),
    sa.Column("username", sa.String(64)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("changes", sa.JSON, nullable=False),  # {field: [old, new]}
    sa.Column("source", sa.String(32)),  # api | form | import | rule | ...
    sa.Index("ix_lc_audit_record", "form", "record_id"),
)

record_versions = sa.Table(
    "lc_record_version",
    SYSTEM,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("form", sa.String(64), nullable=False),
    sa.Column("record_id", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("user_id", sa.Integer),
    sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    sa.Column("data", sa.JSON, nullable=False),  # full snapshot, children included
    sa.UniqueConstraint("form", "record_id", "version", name="uq_lc_record_version"),
)

#: Failed logins per (scope, user name) and per (scope, client address): the throttle's counters,
#: shared by every web process (see ``engine.security.throttle``).
login_counters = sa.Table(
    "lc_login_counter",
    SYSTEM,
    sa.Column("scope", sa.String(16), primary_key=True),  # login | otp | ...
    sa.Column("kind", sa.String(8), primary_key=True),  # name | address
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),  # attempts in the window not yet succeeded
    sa.Column("window_start", UTCDateTime, nullable=False),
    sa.Column("locked_until", UTCDateTime),
    sa.Index("ix_lc_login_counter_window", "window_start"),
)

#: Every checked login (the password or code was tried): who, from where, when, the outcome.
login_audit = sa.Table(
    "lc_login_audit",
    SYSTEM,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("username", sa.String(128), nullable=False),  # as typed, whether or not the user exists
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),  # failed | succeeded
    sa.Column("locked_until", UTCDateTime),  # set on the failure that started a lock
    sa.Column("locked", sa.String(16)),  # what it locked: name | address | name+address
    sa.Index("ix_lc_login_audit_user", "username", "at"),
    sa.Index("ix_lc_login_audit_at", "at"),
)
