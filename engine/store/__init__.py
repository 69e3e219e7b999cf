"""Storage: tables per form, records, audit, versions, sequences, outbox."""

from engine.store import idempotency, outbox, sequences, timers  # noqa: F401  (register their system tables)
from engine.store.db import Database

__all__ = ["Database"]
