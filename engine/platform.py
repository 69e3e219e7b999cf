"""The platform: a database, the active compiled definitions, and the services on them.

Nothing here is tied to the web; the API, the command line and the worker all use it.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Mapping, Optional

from engine.context import Clock, RunContext
from engine.definitions import load_pack_files
from engine.errors import NotFound
from engine.forms import FIELD_TYPES
from engine.plugins import register_guards
from engine.runtime import Definitions, compile_definitions
from engine.security.users import User, Users
from engine.store.db import Database
from engine.store.events import EventBus
from engine.store.records import RecordStore
from engine.store.sequences import next_number
from engine.store.sync import apply_sync, plan_sync
from engine.definitions.loader import read_pack_files
from engine.versions import PublishResult, VersionStore, write_pack_files


class Platform:
    """One per process. Holds caches keyed by definition version and nothing else."""

    def __init__(self, db: Database, clock: Optional[Clock] = None, reload_seconds: float = 1.0) -> None:
        self.db = db
        self.clock = clock or Clock()
        self.bus = EventBus()
        register_guards(self.bus)              # the lowcode.guards entry points (bus.add_guard: others)
        self.users = Users(self.clock)
        self.versions = VersionStore(self.clock)
        self.reload_seconds = reload_seconds
        self._lock = threading.Lock()
        self._defs: Optional[Definitions] = None
        self._store: Optional[RecordStore] = None
        self._checked = 0.0
        from engine.forms.dependents import Dependents
        self.bus.subscribe(Dependents(self))   # stored aggregates over the written form
        from engine.rules.engine import RuleEngine
        self.rules = RuleEngine(self)
        self.bus.subscribe(self.rules)
        db.create_system_tables()

    # ---- definitions ---------------------------------------------------------------

    def definitions(self) -> Definitions:
        """The active compiled definitions; reloaded when another process published."""
        now = time.monotonic()
        if self._defs is not None and now - self._checked < self.reload_seconds:
            return self._defs
        with self.db.connect() as conn:
            key = self.versions.active_key(conn)
            if self._defs is None or self._defs.key != key:
                packs = self.versions.load_active(conn)
                self._set(compile_definitions(packs, key))
        self._checked = now
        assert self._defs is not None
        return self._defs

    def _set(self, defs: Definitions) -> None:
        with self._lock:
            self._defs = defs
            self._store = RecordStore(defs.forms, defs.tables, self.bus, self._number, defs.timezone,
                                      validators=defs.validators)

    def store(self) -> RecordStore:
        self.definitions()
        assert self._store is not None
        return self._store

    def _number(self, conn: Any, name: str, pattern: str, now: Any, tz: str) -> str:
        return next_number(conn, name, pattern, now, tz)

    def publish(self, path: str, files: Optional[Mapping[str, str]] = None, *,
                migrations: Optional[Mapping[str, str]] = None, by: Optional[str] = None) -> PublishResult:
        """Validate a pack, migrate the tables and make it the active version, in one transaction."""
        files = dict(files) if files is not None else read_pack_files(path)
        spec = load_pack_files(files, root=path.rstrip("/"))
        with self.db.begin() as conn:
            active = self.versions.active(conn)
            others = [load_pack_files(f, root=f"{p}@{r}") for p, r, f in active if p != spec.name]
            defs = compile_definitions(others + [spec])
            plan = plan_sync(conn, defs.tables)
            done = apply_sync(conn, defs.tables, plan, migrations, self._converter(defs))
            revision, changed = self.versions.record(conn, spec, files, by)
            key = self.versions.active_key(conn)
        self._set(compile_definitions(others + [spec], key))
        self._checked = time.monotonic()
        return PublishResult(spec.name, revision, spec.version, changed, done)

    def _converter(self, defs: Definitions) -> Any:
        def convert(table: str, column: str, value: Any) -> Any:
            name = table[2:]
            form, _, child = name.partition("__")
            spec = defs.forms[form].field(child) if child else defs.forms[form]
            assert spec is not None
            fspec = spec.child(column) if child else spec.field(column)  # type: ignore[union-attr]
            if fspec is None:
                return value
            return FIELD_TYPES[fspec.type].parse(fspec, value)
        return convert

    def export(self, pack: str, path: str, revision: Optional[int] = None) -> list[str]:
        """Write an installed pack version back to a folder; returns the files written."""
        with self.db.connect() as conn:
            files = self.versions.files(conn, pack, revision)
        write_pack_files(files, path)
        return sorted(files)

    # ---- users and contexts ----------------------------------------------------------

    def context(self, user: User, locale: Optional[str] = None) -> RunContext:
        defs = self.definitions()
        superuser = any(defs.roles[r].superuser for r in user.roles if r in defs.roles)
        return self.users.context(user, self.clock, superuser=superuser, timezone=defs.timezone,
                                  locale=locale or defs.locale)

    def system_context(self) -> RunContext:
        defs = self.definitions()
        return RunContext(username="system", roles=frozenset({"system"}), clock=self.clock,
                          superuser=True, timezone=defs.timezone, locale=defs.locale)

    def user_context(self, username: str) -> RunContext:
        with self.db.connect() as conn:
            user = self.users.by_name(conn, username)
        if user is None:
            raise NotFound(f"no user '{username}'")
        return self.context(user)
