"""Compiled revisions, each compiled once and kept while it is in use.

A key is the tuple ``((pack, revision), ...)`` of the pack revisions compiled together. The
active key is what :meth:`engine.platform.Platform.definitions` gives; an older one is what
a caller pinned to a revision asks for (:meth:`~engine.platform.Platform.definitions_at`):
a flow instance, a print or a change request that started under revision N still runs by
revision N after N+1 is published.

The cache is bounded (least recently used keys go first) but never lets the active key go.
The first caller of a key compiles it while the others asking for the same key wait for
that one compilation (gunicorn threads); different keys compile side by side.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Optional

from engine.runtime import Definitions, Key

#: how many compiled revisions a process keeps besides the active one
DEFAULT_KEPT = 4


class RevisionCache:
    """Compiled :class:`Definitions` by key."""

    def __init__(self, build: Callable[[Key], Definitions], kept: int = DEFAULT_KEPT) -> None:
        self._build = build
        self.kept = max(kept, 0)
        self._lock = threading.Lock()
        self._compiled: OrderedDict[Key, Definitions] = OrderedDict()
        self._compiling: dict[Key, threading.Lock] = {}
        self._active: Optional[Key] = None

    def get(self, key: Key) -> Definitions:
        """The compiled definitions of ``key``, compiled now if no one has yet."""
        with self._lock:
            hit = self._hit(key)
            if hit is not None:
                return hit
            lock = self._compiling.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                hit = self._hit(key)
            if hit is not None:  # another thread compiled it while this one waited
                return hit
            try:
                defs = self._build(key)
                self.put(key, defs)
            finally:
                with self._lock:
                    self._compiling.pop(key, None)
        return defs

    def find(self, key: Key) -> Optional[Definitions]:
        """The compiled definitions of ``key`` if kept, without compiling."""
        with self._lock:
            return self._hit(key)

    def put(self, key: Key, defs: Definitions) -> Definitions:
        """Keep ``defs`` (compiled elsewhere, e.g. by a publish) under ``key``; the one kept
        already wins, so every caller shares one object per key."""
        with self._lock:
            defs = self._compiled.setdefault(key, defs)
            self._compiled.move_to_end(key)
            self._evict()
            return defs

    def activate(self, key: Key) -> None:
        """Mark ``key`` as the active one: it is never evicted."""
        with self._lock:
            self._active = key
            self._evict()

    def keys(self) -> list[Key]:
        """The keys kept, least recently used first."""
        with self._lock:
            return list(self._compiled)

    def _hit(self, key: Key) -> Optional[Definitions]:
        hit = self._compiled.get(key)
        if hit is not None:
            self._compiled.move_to_end(key)
        return hit

    def _evict(self) -> None:
        others = [k for k in self._compiled if k != self._active]
        for key in others[: max(len(others) - self.kept, 0)]:
            del self._compiled[key]
