"""The one registry of what plugins add: entry points, loaded once, and named registries.

A distribution registers plugins in its packaging metadata (``setup.cfg``)::

    [options.entry_points]
    lowcode.notifiers =
        log = plugins.notify_log:LogNotifier

:func:`load_group` loads one group once per process. A :class:`Registry` holds things by
name that the engine's own layers fill when imported and that a group's entry points extend
on first use: :data:`FIELD_TYPES` (``lowcode.fields``, filled by ``engine.forms``; the
definitions loader consults it by name), :data:`FUNCTIONS` (``lowcode.functions``, by
``engine.expr.functions``), :data:`ACTIONS` (``lowcode.actions``), and the loader's pack checks
(``lowcode.checks``, :data:`engine.definitions.checks.PACK_CHECKS`). Guards
(:func:`register_guards`) and notifiers (``lowcode.notifiers``, made per channel by the
outbox's ``notify`` sender) come from their groups here too. This module sits at the bottom
of the layers (it imports only the standard library and ``engine.errors``), so every layer
may use it.
"""

from __future__ import annotations

import importlib.metadata
import threading
from typing import Any, Callable, Generic, Iterator, Optional, Protocol, TypeVar

from engine.errors import LowcodeError

#: The groups the platform reads.
GROUPS = (
    "lowcode.actions",
    "lowcode.channels",
    "lowcode.checks",
    "lowcode.fields",
    "lowcode.functions",
    "lowcode.guards",
    "lowcode.notifiers",
)

T = TypeVar("T")


class PluginError(LowcodeError):
    """A plugin is declared but cannot be used (import error, duplicate name)."""


_cache: dict[str, dict[str, object]] = {}
_lock = threading.Lock()


def load_group(group: str) -> dict[str, object]:
    """``{name: loaded object}`` for every entry point in ``group``, loaded once and cached."""
    with _lock:
        if group not in _cache:
            _cache[group] = _load(group)
        return dict(_cache[group])


def clear_cache() -> None:
    """Forget loaded groups (tests, or after installing a plugin into a running process); the
    registries load their group's entry points again on next use."""
    with _lock:
        _cache.clear()
        for each in _registries:
            each._plugins = False


def _load(group: str) -> dict[str, object]:
    loaded: dict[str, object] = {}
    seen: dict[str, str] = {}
    for ep in importlib.metadata.entry_points(group=group):
        if ep.name in seen:
            if seen[ep.name] == ep.value:
                continue  # the same distribution found twice on sys.path
            raise PluginError(
                f"two plugins are named {ep.name!r} in {group}: {seen[ep.name]} and {ep.value}; uninstall or rename one"
            )
        try:
            loaded[ep.name] = ep.load()
        except Exception as exc:
            raise PluginError(
                f"plugin {ep.name!r} in {group} ({ep.name} = {ep.value}) failed to load: {type(exc).__name__}: {exc}"
            ) from exc
        seen[ep.name] = ep.value
    return loaded


class GuardHost(Protocol):
    """Where write guards are registered (:class:`engine.store.events.EventBus` is one)."""

    def add_guard(self, guard: Any, name: Optional[str] = None) -> Any: ...


def register_guards(bus: GuardHost) -> list[str]:
    """Register every ``lowcode.guards`` entry point with ``bus`` (an
    :class:`~engine.store.events.EventBus`), under its entry point's name; returns the names.

    An entry point names a write guard, ``(conn, request: WriteRequest) -> None``, or a class
    whose instance is one (made once, with no arguments)."""
    names = []
    for name, found in load_group("lowcode.guards").items():
        guard: Any = found() if isinstance(found, type) else found
        bus.add_guard(guard, name=name)
        names.append(name)
    return names


_registries: list["Registry[Any]"] = []


class Registry(Generic[T]):
    """Things by name: registered by the engine's own packages, extended by the entry points
    of ``group`` (loaded on first use). An entry point gives a class (made once, with no
    arguments) or an instance; ``accepts`` tells which loaded objects belong here."""

    def __init__(self, group: str, accepts: Callable[[object], bool] = lambda obj: True) -> None:
        self.group = group
        self.accepts = accepts
        self._items: dict[str, T] = {}
        self._plugins = False
        _registries.append(self)

    def register(self, name: str, item: T) -> T:
        """Add (or replace) ``item`` under ``name``; returns it."""
        if not name:
            raise ValueError(f"{self.group}: {type(item).__name__} has no name")
        self._items[name] = item
        return item

    def unregister(self, name: str) -> None:
        """Forget ``name`` (a test's own type, a plugin being replaced)."""
        self._items.pop(name, None)

    def load_plugins(self, force: bool = False) -> list[str]:
        """Register the group's entry points (once, or again with ``force``); their names."""
        if self._plugins and not force:
            return []
        self._plugins = True
        added = []
        for name, found in load_group(self.group).items():
            item: Any = found() if isinstance(found, type) else found
            if self.accepts(item):
                self._items[getattr(item, "name", "") or name] = item
                added.append(getattr(item, "name", "") or name)
        return added

    def get(self, name: str) -> Optional[T]:
        """The item named ``name``, or None (the plugins are loaded before saying so)."""
        found = self._items.get(name)
        if found is None and not self._plugins:
            self.load_plugins()
            found = self._items.get(name)
        return found

    def __getitem__(self, name: str) -> T:
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def names_in_order(self) -> list[str]:
        """Every name, plugins' included, in the order they were registered."""
        if not self._plugins:
            self.load_plugins()
        return list(self._items)

    def names(self) -> list[str]:
        """Every name, plugins' included, sorted."""
        if not self._plugins:
            self.load_plugins()
        return sorted(self._items)


def _is_field_type(obj: object) -> bool:
    return bool(getattr(obj, "name", "")) and callable(getattr(obj, "parse", None))


def _is_function(obj: object) -> bool:
    return bool(getattr(obj, "name", "")) and hasattr(obj, "returns") and hasattr(obj, "min_args")


#: field types by name: ``engine.forms`` registers the built-in ones when it is imported (the
#: composition root imports it before loading a pack), ``lowcode.fields`` plugins add theirs.
FIELD_TYPES: Registry[Any] = Registry("lowcode.fields", _is_field_type)
#: the functions expressions may call (an allow-list): the built-in ones of
#: ``engine.expr.functions``, and ``lowcode.functions`` plugins (an ``engine.expr.functions.Function``).
FUNCTIONS: Registry[Any] = Registry("lowcode.functions", _is_function)
#: the actions a rule may ``call``: ``(state, args) -> str | None``, from ``lowcode.actions``
#: plugins or ``engine.rules.actions.register_action``.
ACTIONS: Registry[Any] = Registry("lowcode.actions", callable)
