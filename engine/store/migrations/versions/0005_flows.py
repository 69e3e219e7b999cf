"""lc_flow_instance, lc_flow_task, lc_flow_event: the flow engine's instances, tasks and history."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.forms.coltypes import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _tables(meta: sa.MetaData) -> list[sa.Table]:
    return [
        sa.Table(
            "lc_flow_instance", meta,
            sa.Column("id", _ID, primary_key=True),
            sa.Column("flow", sa.String(64), nullable=False),
            sa.Column("pack", sa.String(64), nullable=False),
            sa.Column("revision", sa.Integer, nullable=False),
            sa.Column("form", sa.String(64), nullable=False),
            sa.Column("record_id", sa.Integer, nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("state", sa.JSON, nullable=False),
            sa.Column("starter_id", sa.Integer),
            sa.Column("starter_name", sa.String(64)),
            sa.Column("started_at", UTCDateTime, nullable=False),
            sa.Column("ended_at", UTCDateTime),
            sa.Column("parent_id", _ID),
            sa.Column("parent_node", sa.String(64)),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Index("ix_lc_flow_instance_record", "form", "record_id"),
            sa.Index("ix_lc_flow_instance_parent", "parent_id"),
        ),
        sa.Table(
            "lc_flow_task", meta,
            sa.Column("id", _ID, primary_key=True),
            sa.Column("instance_id", _ID, nullable=False),
            sa.Column("node", sa.String(64), nullable=False),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("assignee_id", sa.Integer),
            sa.Column("assignee_role", sa.String(64)),
            sa.Column("delegated_from_id", sa.Integer),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("outcome", sa.String(32)),
            sa.Column("acted_by_id", sa.Integer),
            sa.Column("acted_by_name", sa.String(64)),
            sa.Column("on_behalf_of_name", sa.String(64)),
            sa.Column("comment", sa.Text),
            sa.Column("created_at", UTCDateTime, nullable=False),
            sa.Column("due_at", UTCDateTime),
            sa.Column("done_at", UTCDateTime),
            sa.Column("seq", sa.Integer, nullable=False),
            sa.Index("ix_lc_flow_task_user", "status", "assignee_id"),
            sa.Index("ix_lc_flow_task_role", "status", "assignee_role"),
            sa.Index("ix_lc_flow_task_instance", "instance_id"),
        ),
        sa.Table(
            "lc_flow_event", meta,
            sa.Column("id", _ID, primary_key=True),
            sa.Column("instance_id", _ID, nullable=False),
            sa.Column("at", UTCDateTime, nullable=False),
            sa.Column("node", sa.String(64)),
            sa.Column("action", sa.String(32), nullable=False),
            sa.Column("user_id", sa.Integer),
            sa.Column("user_name", sa.String(64)),
            sa.Column("on_behalf_of", sa.String(64)),
            sa.Column("comment", sa.Text),
            sa.Column("changes", sa.JSON),
            sa.Column("attachments", sa.JSON),
            sa.Column("from_node", sa.String(64)),
            sa.Column("to_node", sa.String(64)),
            sa.Index("ix_lc_flow_event_instance", "instance_id"),
        ),
    ]


def upgrade() -> None:
    bind = op.get_bind()
    have = set(sa.inspect(bind).get_table_names())
    for table in _tables(sa.MetaData()):
        if table.name not in have:  # a database adopted at the baseline from today's code tables has them
            table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_tables(sa.MetaData())):
        table.drop(bind, checkfirst=True)
