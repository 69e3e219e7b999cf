"""Notifier ``log``: appends each notification as a JSON line to a file (and logs it).

The default channel for development and demos: nothing leaves the machine. The file is
``$LOWCODE_NOTIFY_LOG``, else ``instance/notifications.log``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading

from engine.plugins import Notification

log = logging.getLogger("lowcode.notify.log")

_write_lock = threading.Lock()


class LogNotifier:
    """Writes ``{at, channel, to, subject, body, key}`` lines; a resend writes a second line."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or os.environ.get("LOWCODE_NOTIFY_LOG") or os.path.join("instance", "notifications.log")

    def send(self, note: Notification) -> None:
        """Append one line for ``note``."""
        line = json.dumps(
            {
                "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "channel": note.channel,
                "to": note.to,
                "subject": note.subject,
                "body": note.body,
                "key": note.key,
            },
            ensure_ascii=False,
        )
        folder = os.path.dirname(self.path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with _write_lock, open(self.path, "a", encoding="utf-8") as out:
            out.write(line + "\n")
        log.info("notification %s to %s: %s", note.key, ", ".join(note.recipients), note.subject)
