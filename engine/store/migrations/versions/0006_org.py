"""lc_department, lc_delegation and lc_user.department_id: the organisation flows climb and delegate in.

Departments form a tree (parent_id) with a head each (head_id, a user); a user belongs to one
department (lc_user.department_id). A delegation hands a user's tasks to another for a time
window, for every flow or the ones named. A database adopted at the baseline from today's code
tables has them already: each is made only where it is missing.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.forms.coltypes import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _tables(meta: sa.MetaData) -> list[sa.Table]:
    sa.Table("lc_user", meta, sa.Column("id", sa.Integer, primary_key=True))  # what the foreign keys name
    department = sa.Table(
        "lc_department", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("label", sa.JSON),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("lc_department.id")),
        sa.Column("head_id", sa.Integer, sa.ForeignKey("lc_user.id")),
        sa.UniqueConstraint("name", name="uq_lc_department_name"),
    )
    delegation = sa.Table(
        "lc_delegation", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("from_id", sa.Integer, sa.ForeignKey("lc_user.id"), nullable=False),
        sa.Column("to_id", sa.Integer, sa.ForeignKey("lc_user.id"), nullable=False),
        sa.Column("starts_at", UTCDateTime, nullable=False),
        sa.Column("ends_at", UTCDateTime, nullable=False),
        sa.Column("flows", sa.JSON),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(64)),
        sa.Column("revoked_at", UTCDateTime),
        sa.Index("ix_lc_delegation_from", "from_id", "ends_at"),
    )
    return [department, delegation]


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    have = set(inspector.get_table_names())
    for table in _tables(sa.MetaData()):
        if table.name not in have:
            table.create(bind)
    if "department_id" not in {c["name"] for c in inspector.get_columns("lc_user")}:
        op.add_column("lc_user", sa.Column("department_id", sa.Integer))
    if "ix_lc_user_department" not in {i["name"] for i in inspector.get_indexes("lc_user")}:
        op.create_index("ix_lc_user_department", "lc_user", ["department_id"])


def downgrade() -> None:
    op.drop_index("ix_lc_user_department", table_name="lc_user")
    with op.batch_alter_table("lc_user") as batch:
        batch.drop_column("department_id")
    op.drop_table("lc_delegation")
    op.drop_table("lc_department")
