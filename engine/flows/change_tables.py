"""``lc_flow_change``: the change requests of records under a flow's change control.

On :data:`engine.store.system.SYSTEM`, made by migration 0007. ``diff`` is ``{field: [old,
new]}`` as JSON (sub-table rows as lists of rows); ``base_version`` the record's version the
request was made on (applying it to another version is refused with 409); ``applied_version``
the version the approval wrote. ``task_id`` is its approval task (``lc_flow_task``, kind
``change``) on the instance ``instance_id``.
"""

from __future__ import annotations

import sqlalchemy as sa

from engine.forms.coltypes import UTCDateTime
from engine.store.system import SYSTEM

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

changes = sa.Table(
    "lc_flow_change",
    SYSTEM,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("flow", sa.String(64), nullable=False),
    sa.Column("form", sa.String(64), nullable=False),
    sa.Column("record_id", sa.Integer, nullable=False),
    sa.Column("instance_id", _ID, nullable=False),
    sa.Column("task_id", _ID),
    sa.Column("status", sa.String(16), nullable=False),  # pending | approved | rejected
    sa.Column("diff", sa.JSON, nullable=False),
    sa.Column("base_version", sa.Integer, nullable=False),
    sa.Column("applied_version", sa.Integer),
    sa.Column("requested_by", sa.Integer),
    sa.Column("requested_by_name", sa.String(64)),
    sa.Column("requested_at", UTCDateTime, nullable=False),
    sa.Column("decided_by", sa.Integer),
    sa.Column("decided_by_name", sa.String(64)),
    sa.Column("decided_at", UTCDateTime),
    sa.Column("comment", sa.Text),
    sa.Index("ix_lc_flow_change_record", "form", "record_id", "status"),
    sa.Index("ix_lc_flow_change_status", "status"),
)
