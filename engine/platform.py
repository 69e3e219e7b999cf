"""The platform: a database, the active compiled definitions, and the services on them.

Nothing here is tied to the web; the API, the command line and the worker all use it.
"""
from __future__ import annotations

import time
from typing import Any, Mapping, Optional

from engine.context import Clock, RunContext
from engine.definitions import load_pack_files
from engine.errors import NotFound
from engine.forms import FIELD_TYPES
from engine.registry import register_guards
from engine.revisions import DEFAULT_KEPT, RevisionCache
from engine.runtime import Definitions, Key, compile_definitions
from engine.security.users import User, Users
from engine.store.db import Database
from engine.store.events import EventBus
from engine.store.records import RecordStore
from engine.store.sequences import next_number
from engine.store.sync import apply_sync, plan_sync
from engine.definitions.loader import read_pack_files
from engine.versions import PublishResult, VersionStore, write_pack_files


class Platform:
    """One per process. Holds caches keyed by definition revision and nothing else."""

    def __init__(self, db: Database, clock: Optional[Clock] = None, reload_seconds: float = 1.0,
                 revisions_kept: int = DEFAULT_KEPT) -> None:
        self.db = db
        self.clock = clock or Clock()
        self.bus = EventBus()
        register_guards(self.bus)              # the lowcode.guards entry points (bus.add_guard: others)
        self.users = Users(self.clock)
        self.versions = VersionStore(self.clock)
        self.reload_seconds = reload_seconds
        #: every compiled revision of this process, by key ((pack, revision), ...)
        self.revisions = RevisionCache(self._compile, revisions_kept)
        self._active: Optional[Definitions] = None
        self._checked = 0.0
        from engine.store.dependents import Dependents
        self.bus.subscribe(Dependents(self))   # stored aggregates over the written form
        from engine.rules.engine import RuleEngine
        self.rules = RuleEngine(self)
        self.bus.subscribe(self.rules)
        db.create_system_tables()

    # ---- definitions ---------------------------------------------------------------

    def definitions(self) -> Definitions:
        """The active compiled definitions; reloaded when another process published."""
        now = time.monotonic()
        active = self._active
        if active is not None and now - self._checked < self.reload_seconds:
            return active
        with self.db.connect() as conn:
            key = self.versions.active_key(conn)
        if active is None or active.key != key:
            active = self._activate(self.revisions.get(key))
        self._checked = now
        return active

    def current(self) -> Definitions:
        """The definitions last loaded, without asking the database whether another process
        published since (what a write under way keeps using until it ends)."""
        active = self._active
        return active if active is not None else self.definitions()

    def definitions_at(self, pack: str, revision: int) -> Definitions:
        """The definitions with ``pack`` at ``revision`` (the other packs at their active
        revisions), compiled once and shared: for whatever is pinned to that revision."""
        active = self.definitions()
        if active.revision(pack) == revision:
            return active
        if pack not in active.packs:
            raise NotFound(f"pack '{pack}' is not installed")
        return self.revisions.get(tuple((p, revision if p == pack else r) for p, r in active.key))

    def _compile(self, key: Key) -> Definitions:
        with self.db.connect() as conn:
            packs = self.versions.load(conn, key)
        return compile_definitions(packs, key)

    def _activate(self, defs: Definitions) -> Definitions:
        defs = self.revisions.put(defs.key, defs)
        self.revisions.activate(defs.key)
        self._active = defs
        return defs

    def store(self) -> RecordStore:
        """The record store of the active definitions."""
        return self.store_of(self.definitions())

    def store_of(self, defs: Definitions) -> RecordStore:
        """The record store of compiled definitions (one per revision, on this platform's bus)."""
        return defs.memo("store", lambda: RecordStore(
            defs.forms, defs.tables, self.bus, self._number, defs.timezone, validators=defs.validators,
            logic=defs.logic))

    def _number(self, conn: Any, name: str, pattern: str, now: Any, tz: str) -> str:
        return next_number(conn, name, pattern, now, tz)

    def publish(self, path: str, files: Optional[Mapping[str, str]] = None, *,
                migrations: Optional[Mapping[str, str]] = None, by: Optional[str] = None) -> PublishResult:
        """Validate a pack, migrate the tables and make it the active version, in one transaction."""
        files = dict(files) if files is not None else read_pack_files(path)
        spec = load_pack_files(files, root=path.rstrip("/"))
        with self.db.begin() as conn:
            active = self.versions.active(conn)
            others = {p: load_pack_files(f, root=f"{p}@{r}") for p, r, f in active if p != spec.name}
            revision, changed = self.versions.record(conn, spec, files, by)
            key = self.versions.active_key(conn)
            defs = (None if changed else self.revisions.find(key)) or \
                compile_definitions([others.get(p, spec) for p, _ in key], key)
            plan = plan_sync(conn, defs.tables)
            done = apply_sync(conn, defs.tables, plan, migrations, self._converter(defs))
        # kept only once committed: a publish that failed leaves no revision behind
        self._activate(defs)
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
