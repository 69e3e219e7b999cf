"""The outbox worker's senders: notifications through the notifier plugins, signed webhooks.

:func:`senders_for` builds them: kind ``notify`` hands the payload to the notifier plugin its
channel names (``lowcode.notifiers``, loaded through :mod:`engine.registry`), kind
``webhook`` POSTs signed JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence, Union

from engine.registry import load_group
from engine.store.outbox import OutboxRow, PermanentFailure

Sender = Callable[[dict, OutboxRow], None]


# --- notifications -------------------------------------------------------------------


@dataclass(frozen=True)
class Notification:
    """What a notifier sends; ``key`` is stable across resends, for deduplication."""

    channel: str
    to: Union[str, Sequence[str]]
    subject: str
    body: str
    key: str

    @property
    def recipients(self) -> list[str]:
        """``to`` as a list."""
        return [self.to] if isinstance(self.to, str) else list(self.to)


class Notifier(Protocol):
    """What a ``lowcode.notifiers`` entry point gives once called with no arguments."""

    def send(self, note: Notification) -> None:
        """Deliver ``note`` or raise; raising makes the worker retry later."""


class NotifySender:
    """Outbox sender for kind ``notify``: payload ``{channel, to, subject, body}``.

    ``factories`` maps channel names to notifier classes (or other zero-argument
    callables); each is instantiated on first use, so a misconfigured channel fails only
    its own rows.
    """

    def __init__(self, factories: Mapping[str, object]) -> None:
        self.factories = dict(factories)
        self._notifiers: dict[str, Notifier] = {}
        self._lock = threading.Lock()

    def __call__(self, payload: dict, row: OutboxRow) -> None:
        channel = payload.get("channel") or row.channel
        if not channel:
            raise PermanentFailure("notification without a channel")
        if not payload.get("to"):
            raise PermanentFailure(f"notification on {channel!r} without a recipient ('to')")
        note = Notification(
            channel=channel,
            to=payload["to"],
            subject=str(payload.get("subject") or ""),
            body=str(payload.get("body") or ""),
            key=row.key,
        )
        self.notifier(channel).send(note)

    def notifier(self, channel: str) -> Notifier:
        """The notifier for ``channel``, created on first use."""
        with self._lock:
            if channel not in self._notifiers:
                if channel not in self.factories:
                    known = ", ".join(sorted(self.factories)) or "none"
                    raise PermanentFailure(f"no notifier plugin named {channel!r} (installed: {known})")
                factory: Any = self.factories[channel]
                if isinstance(factory, type) or not hasattr(factory, "send"):
                    factory = factory()  # a class or factory; an instance is used as is
                self._notifiers[channel] = factory
            return self._notifiers[channel]


# --- webhooks --------------------------------------------------------------------------


class WebhookError(Exception):
    """The receiver did not answer 2xx (the worker retries)."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirected POST would be replayed as a GET or to a place nobody configured.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def signature(body: bytes, secret: str) -> str:
    """``X-Lowcode-Signature``: HMAC-SHA256 of the exact body bytes, hex."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def send_webhook(payload: dict, row: OutboxRow, *, timeout: float = 10.0) -> None:
    """Outbox sender for kind ``webhook``: POST ``payload["body"]`` as JSON to ``payload["url"]``.

    Headers: ``Idempotency-Key`` (the row's key, the same on every resend) and, when the
    payload has a ``secret``, ``X-Lowcode-Signature``. Anything but a 2xx answer raises.
    """
    url = payload.get("url")
    parts = urllib.parse.urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PermanentFailure(f"webhook url must be http(s)://...: {url!r}")
    assert isinstance(url, str)  # it has an http(s) scheme and a host
    where = f"{parts.scheme}://{parts.netloc}{parts.path}"  # no query string: it may hold tokens
    body = json.dumps(payload.get("body"), ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": row.key,
        "User-Agent": "lowcode-outbox/1",
    }
    if payload.get("secret"):
        headers["X-Lowcode-Signature"] = signature(body, str(payload["secret"]))
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        raise WebhookError(f"POST {where} answered {exc.code} {exc.reason}") from None
    if not 200 <= status < 300:
        raise WebhookError(f"POST {where} answered {status}")


def senders_for(
    notifiers: Mapping[str, object] | None = None,
    *,
    webhook_timeout: float = 10.0,
) -> dict[str, Sender]:
    """The worker's senders: ``notify`` over ``notifiers`` (default: the installed
    ``lowcode.notifiers`` plugins) and ``webhook``."""
    if notifiers is None:
        notifiers = load_group("lowcode.notifiers")

    def webhook(payload: dict, row: OutboxRow) -> None:
        send_webhook(payload, row, timeout=webhook_timeout)

    return {"notify": NotifySender(notifiers), "webhook": webhook}
