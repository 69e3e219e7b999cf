"""Channels: the adapters of inbound order channels (entry point group ``lowcode.channels``).

An inbound hook may name a channel (``when webhook "shop" channel shop_order``): before the
hook's rules run, the channel turns the external payload (a web shop's order JSON, a
marketplace's) into the fields of a record of the rule's form, which then goes the one way
every write goes. A channel is an object with ``to_record(payload, form) -> dict``, or a
class whose instance is one, registered by a distribution::

    [options.entry_points]
    lowcode.channels =
        shop_order = plugins.channel_shop:ShopOrder

It raises :class:`ValueError` for a payload it cannot read (the hook answers 400).
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol

from engine.definitions.model import FormSpec
from engine.registry import PluginError, load_group

GROUP = "lowcode.channels"


class Channel(Protocol):
    """Turns an external payload into the fields of a record of ``form``."""

    def to_record(self, payload: Mapping[str, Any], form: FormSpec) -> Mapping[str, Any]: ...


def installed() -> dict[str, Channel]:
    """The installed channels by name (the one place this group is loaded)."""
    return {
        name: obj() if isinstance(obj, type) else obj  # type: ignore[misc]
        for name, obj in load_group(GROUP).items()
    }


def adapt(name: str, payload: Mapping[str, Any], form: FormSpec) -> dict[str, Any]:
    """``payload`` as the fields of a ``form`` record, by the channel ``name``.

    :class:`ValueError` from the channel (a payload it cannot read) comes out as is; a channel
    that is no longer installed is a :class:`~engine.plugins.PluginError`.
    """
    channel = installed().get(name)
    if channel is None:
        raise PluginError(f"channel {name!r} is not installed (entry point group {GROUP})")
    return dict(channel.to_record(payload, form))
