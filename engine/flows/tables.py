"""The flow engine's tables: instances (pinned to their pack revision), tasks, history events.

On :data:`engine.store.system.SYSTEM`, made by migration 0005 (``lc_flow_*``). An instance's
``state`` is the machine's compact state (:mod:`engine.flows.machine`); ``version`` is its
optimistic lock: every step bumps it with ``WHERE version = :v``.
"""

from __future__ import annotations

import sqlalchemy as sa

from engine.forms.coltypes import UTCDateTime
from engine.store.system import SYSTEM

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

instances = sa.Table(
    "lc_flow_instance",
    SYSTEM,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("flow", sa.String(64), nullable=False),
    sa.Column("pack", sa.String(64), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),  # the pack revision it is pinned to
    sa.Column("form", sa.String(64), nullable=False),
    sa.Column("record_id", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # running|completed|rejected|withdrawn|cancelled
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
)

tasks = sa.Table(
    "lc_flow_task",
    SYSTEM,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("instance_id", _ID, nullable=False),
    sa.Column("node", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # approval | task | state | start
    sa.Column("assignee_id", sa.Integer),
    sa.Column("assignee_role", sa.String(64)),
    sa.Column("delegated_from_id", sa.Integer),
    sa.Column("status", sa.String(16), nullable=False),  # open | done | cancelled | waiting
    sa.Column("outcome", sa.String(32)),  # approved | rejected | submitted | transferred | <edge action>
    sa.Column("acted_by_id", sa.Integer),
    sa.Column("acted_by_name", sa.String(64)),
    sa.Column("on_behalf_of_name", sa.String(64)),
    sa.Column("comment", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("due_at", UTCDateTime),
    sa.Column("done_at", UTCDateTime),
    sa.Column("seq", sa.Integer, nullable=False),  # order within the node (sequence, chain, add approver)
    sa.Index("ix_lc_flow_task_user", "status", "assignee_id"),
    sa.Index("ix_lc_flow_task_role", "status", "assignee_role"),
    sa.Index("ix_lc_flow_task_instance", "instance_id"),
)

events = sa.Table(
    "lc_flow_event",
    SYSTEM,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("instance_id", _ID, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("node", sa.String(64)),
    sa.Column("action", sa.String(32), nullable=False),  # started | entered | approved | rejected | ...
    sa.Column("user_id", sa.Integer),
    sa.Column("user_name", sa.String(64)),
    sa.Column("on_behalf_of", sa.String(64)),
    sa.Column("comment", sa.Text),
    sa.Column("changes", sa.JSON),  # {field: [old, new]}
    sa.Column("attachments", sa.JSON),  # file ids
    sa.Column("from_node", sa.String(64)),
    sa.Column("to_node", sa.String(64)),
    sa.Index("ix_lc_flow_event_instance", "instance_id"),
)
