"""Alembic's environment for the ``lc_*`` tables: run by engine.store.migrate, never by hand.

The caller hands over an open connection in a transaction (``config.attributes["connection"]``)
and, for autogenerate, the tables as the code defines them (``config.attributes["metadata"]``).
Only ``lc_*`` tables take part: the tables of pack forms have their own schema sync.
"""

from __future__ import annotations

from alembic import context

from engine.store.migrate import VERSION_TABLE, include_object

config = context.config
context.configure(
    connection=config.attributes["connection"],
    target_metadata=config.attributes.get("metadata"),
    version_table=VERSION_TABLE,
    include_object=include_object,
    compare_type=True,
    render_as_batch=True,  # SQLite alters a table by copying it
)
with context.begin_transaction():
    context.run_migrations()
