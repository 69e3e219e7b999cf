"""Flows: graphs bound to a form (approvals, tasks, gateways, timers, state machines), their
instances pinned to the revision they started on, and the tasks of the inbox."""

from engine.flows import pack_check  # noqa: F401  (the loader checks flow files)
