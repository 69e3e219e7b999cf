"""lc_webhook_delivery dropped: inbound hooks keep their Idempotency-Keys in lc_idempotency
(as user 0, ``hook:<name>:<key>``, with the body's digest), like the API and batches.

A delivery key stored in the old table is not carried over: a sender replaying a delivery it
made before the upgrade is run again (keys are kept for the rule-log retention anyway).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a database adopted at the baseline may never have had it (made by a release without it)
    if sa.inspect(op.get_bind()).has_table("lc_webhook_delivery"):
        op.drop_index("ix_lc_webhook_delivery_created", table_name="lc_webhook_delivery")
        op.drop_table("lc_webhook_delivery")


def downgrade() -> None:
    from engine.forms.coltypes import UTCDateTime

    op.create_table(
        "lc_webhook_delivery",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("hook", sa.String(100), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("response", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("hook", "key", name="uq_lc_webhook_delivery"),
    )
    op.create_index("ix_lc_webhook_delivery_created", "lc_webhook_delivery", ["created_at"])
