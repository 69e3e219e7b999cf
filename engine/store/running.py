"""What the parts that react to writes (rules, stored aggregates) ask of the platform.

The platform (:class:`engine.platform.Platform`, the composition root) implements
:class:`Running`; the reactions sit below it and see only this.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Optional, Protocol

from engine.definitions.model import FormSpec
from engine.forms.compute import FormLogic

if TYPE_CHECKING:
    from engine.store.db import Database
    from engine.store.events import EventBus
    from engine.store.records import RecordStore


class Compiled(Protocol):
    """The compiled definitions a write runs by (:class:`engine.runtime.Definitions`), as far
    as a reaction to it reads them."""

    @property
    def forms(self) -> Mapping[str, FormSpec]: ...

    def logic(self, form: str) -> FormLogic: ...


class Running(Protocol):
    """The compiled definitions a write under way runs by, their store, the database and
    the event bus."""

    @property
    def db(self) -> Optional["Database"]: ...

    @property
    def bus(self) -> Optional["EventBus"]: ...

    def current(self) -> Compiled: ...

    def current_store(self) -> "RecordStore":
        """The record store of :meth:`current`."""
