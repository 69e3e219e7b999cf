"""Flows: graphs bound to a form (approvals, tasks, gateways, timers, state machines), their
instances pinned to the revision they started on, and the tasks of the inbox."""
