"""Notifier ``email``: plain-text mail over SMTP.

Settings come from the environment unless given to the constructor:
``SMTP_HOST`` (default ``localhost``), ``SMTP_PORT`` (default 25; 465 means implicit TLS),
``SMTP_USER`` and ``SMTP_PASSWORD`` (log in when set), ``SMTP_FROM`` (the sender address,
default ``SMTP_USER``), ``SMTP_STARTTLS`` (``1``/``0``; default: when the server offers it).

The Message-ID is derived from the outbox key, so a resent mail carries the same id and
mail systems that deduplicate on it show it once.
"""

from __future__ import annotations

import hashlib
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from engine.plugins import Notification


def _flag(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")


class EmailNotifier:
    """Sends each notification as one mail to all its recipients."""

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        user: str | None = None,
        password: str | None = None,
        sender: str | None = None,
        *,
        starttls: bool | None = None,
        timeout: float = 30.0,
    ) -> None:
        env = os.environ
        self.host = host or env.get("SMTP_HOST") or "localhost"
        self.port = int(port or env.get("SMTP_PORT") or 25)
        self.user = user if user is not None else env.get("SMTP_USER") or None
        self.password = password if password is not None else env.get("SMTP_PASSWORD") or ""
        self.sender = sender or env.get("SMTP_FROM") or self.user
        if not self.sender or "@" not in self.sender:
            raise ValueError("set SMTP_FROM to the address notifications are sent from")
        self.starttls = starttls if starttls is not None else _flag(env.get("SMTP_STARTTLS"))
        self.timeout = timeout

    def message(self, note: Notification) -> EmailMessage:
        """The mail for ``note``."""
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = ", ".join(note.recipients)
        msg["Subject"] = note.subject
        msg["Date"] = formatdate(localtime=False)
        domain = self.sender.rpartition("@")[2]
        digest = hashlib.sha256(note.key.encode("utf-8")).hexdigest()[:32]
        msg["Message-ID"] = f"<lowcode.{digest}@{domain}>"
        msg.set_content(note.body)
        return msg

    def send(self, note: Notification) -> None:
        """Deliver ``note``; SMTP errors propagate so the worker retries."""
        msg = self.message(note)
        if self.port == 465:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            smtp.ehlo()
            tls = self.starttls if self.starttls is not None else smtp.has_extn("starttls")
            if tls and self.port != 465:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(msg, to_addrs=note.recipients)
