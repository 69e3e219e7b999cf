"""The migration history of the platform's own ``lc_*`` tables (Alembic; see engine.store.migrate)."""
