"""lc_idempotency.body_sha256: the digest of a request's body, to tell a replay from a reuse of its key.

Databases made just before migrations existed may have the column already (the platform then
added missing nullable columns on start): it is added only where it is missing.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("lc_idempotency")}
    if "body_sha256" not in have:
        op.add_column("lc_idempotency", sa.Column("body_sha256", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("lc_idempotency") as batch:
        batch.drop_column("body_sha256")
