"""What every command shares: the platform it acts on, the database, the bundled pack."""

from __future__ import annotations

import os
from typing import Optional, Sequence

from engine.platform import Platform
from engine.store.db import Database, default_url

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_PACK = os.path.join(ROOT, "definitions", "oms")


def database() -> Database:
    """The database of ``DATABASE_URL`` (default: the SQLite file instance/lowcode.db)."""
    return Database(os.environ.get("DATABASE_URL") or default_url())


def platform() -> Platform:
    """The platform the commands act on (it sees another process's publish at once)."""
    return Platform(database(), reload_seconds=0)


def migrations(items: Optional[Sequence[str]]) -> dict[str, str]:
    """``--migration form.field=drop|convert`` options as a mapping."""
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or value not in ("drop", "convert"):
            raise SystemExit(f"--migration takes form.field=drop or form.field=convert, not {item!r}")
        out[key] = value
    return out
