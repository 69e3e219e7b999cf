"""What plugin authors import, in one place (the engine itself imports the modules named here).

- :mod:`engine.registry`: entry points loaded once (:func:`load_group`), :class:`PluginError`,
  and the field-type registry the definitions loader consults by name;
- :mod:`engine.store.senders`: :class:`Notification` (what a ``lowcode.notifiers`` plugin's
  ``send`` gets), the outbox senders (:func:`senders_for`) and webhook signatures.
"""

from __future__ import annotations

from engine.registry import GROUPS, PluginError, clear_cache, load_group, register_guards
from engine.store.senders import (
    Notification,
    Notifier,
    NotifySender,
    Sender,
    WebhookError,
    send_webhook,
    senders_for,
    signature,
)

__all__ = [
    "GROUPS",
    "Notification",
    "Notifier",
    "NotifySender",
    "PluginError",
    "Sender",
    "WebhookError",
    "clear_cache",
    "load_group",
    "register_guards",
    "send_webhook",
    "senders_for",
    "signature",
]
