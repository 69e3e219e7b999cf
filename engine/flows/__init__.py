"""Flows: graphs bound to a form (approvals, tasks, gateways, timers, state machines), their
instances pinned to the revision they started on, and the tasks of the inbox."""

import engine.rules  # noqa: F401  (a flow's actions are rule actions; the rules' checks run first)
from engine.flows import pack_check  # noqa: F401  (the loader checks flow files)
