"""lc_flow_change: change requests of records under a flow's change control."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.forms.coltypes import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _table(meta: sa.MetaData) -> sa.Table:
    return sa.Table(
        "lc_flow_change", meta,
        sa.Column("id", _ID, primary_key=True),
        sa.Column("flow", sa.String(64), nullable=False),
        sa.Column("form", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("instance_id", _ID, nullable=False),
        sa.Column("task_id", _ID),
        sa.Column("status", sa.String(16), nullable=False),
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


def upgrade() -> None:
    bind = op.get_bind()
    table = _table(sa.MetaData())
    if table.name not in set(sa.inspect(bind).get_table_names()):  # adopted from today's code tables
        table.create(bind)


def downgrade() -> None:
    _table(sa.MetaData()).drop(op.get_bind(), checkfirst=True)
