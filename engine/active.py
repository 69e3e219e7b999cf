"""The compiled definitions a process runs by, and their record stores.

:class:`ActiveDefinitions` is the part the composition root (:mod:`engine.platform`) builds
first and hands, by the typed views each needs, to the parts above: the active revision
(noticing another process's publish within ``reload_seconds``), the revision a write under way
keeps using, an older revision for whatever is pinned to it, and one record store per
compiled revision, on the platform's event bus.
"""

from __future__ import annotations

import time
from typing import Optional

from engine.errors import NotFound
from engine.revisions import DEFAULT_KEPT, RevisionCache
from engine.runtime import Definitions, Key, compile_definitions
from engine.store.db import Database
from engine.store.events import EventBus
from engine.store.records import RecordStore
from engine.store.sequences import next_number
from engine.versions import VersionStore


class ActiveDefinitions:
    """Compiled revisions by key (each compiled once), the active one, and their stores."""

    def __init__(
        self,
        db: Database,
        versions: VersionStore,
        bus: EventBus,
        reload_seconds: float = 1.0,
        revisions_kept: int = DEFAULT_KEPT,
    ) -> None:
        self.db = db
        self.versions = versions
        self.bus = bus
        self.reload_seconds = reload_seconds
        #: every compiled revision of this process, by key ((pack, revision), ...)
        self.revisions = RevisionCache(self._compile, revisions_kept)
        self._active: Optional[Definitions] = None
        self._checked = 0.0

    def definitions(self) -> Definitions:
        """The active compiled definitions; reloaded when another process published."""
        now = time.monotonic()
        active = self._active
        if active is not None and now - self._checked < self.reload_seconds:
            return active
        with self.db.connect() as conn:
            key = self.versions.active_key(conn)
        if active is None or active.key != key:
            active = self.activate(self.revisions.get(key))
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

    def activate(self, defs: Definitions, checked: bool = False) -> Definitions:
        """Make ``defs`` the active definitions (kept in the cache); ``checked``: the database
        was just read, so the next reload check waits ``reload_seconds``."""
        defs = self.revisions.put(defs.key, defs)
        self.revisions.activate(defs.key)
        self._active = defs
        if checked:
            self._checked = time.monotonic()
        return defs

    def _compile(self, key: Key) -> Definitions:
        with self.db.connect() as conn:
            packs = self.versions.load(conn, key)
        return compile_definitions(packs, key)

    def store(self) -> RecordStore:
        """The record store of the active definitions."""
        return self.store_of(self.definitions())

    def current_store(self) -> RecordStore:
        """The record store of :meth:`current`."""
        return self.store_of(self.current())

    def store_of(self, defs: Definitions) -> RecordStore:
        """The record store of compiled definitions (one per revision, on this platform's bus)."""
        return defs.memo(
            "store",
            lambda: RecordStore(
                defs.forms,
                defs.tables,
                self.bus,
                next_number,
                defs.timezone,
                validators=defs.validators,
                logic=defs.logic,
            ),
        )
