"""Entry-point plugins, the notify and webhook senders, and the shipped notifiers."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import hashlib
import hmac
import http.server
import json
import socketserver
import threading
from typing import Iterator

import pytest

from engine import plugins as pl
from engine.context import FixedClock
from engine.plugins import (
    Notification,
    NotifySender,
    PluginError,
    load_group,
    send_webhook,
    senders_for,
    signature,
)
from engine.store import outbox as ob
from engine.store.outbox import OutboxRow, PermanentFailure, enqueue
from engine.store.worker import Worker
from plugins.notify_email import EmailNotifier
from plugins.notify_log import LogNotifier

T0 = dt.datetime(2026, 5, 17, 8, 0, tzinfo=dt.timezone.utc)


def outbox_row(key: str | None = "k1", kind: str = "notify", channel: str | None = None) -> OutboxRow:
    return OutboxRow(id=7, kind=kind, channel=channel, payload={}, idempotency_key=key, attempts=1, created_at=T0)


# --- loading entry points ---------------------------------------------------------------

MEMO = """
    SENT = []

    class Memo:
        def send(self, note):
            SENT.append(note)
"""


def _installed(*groups: str) -> dict[str, dict[str, object]]:
    """What the installed distributions (lowcode itself included) already register."""
    pl.clear_cache()
    found = {g: dict(load_group(g)) for g in groups}
    pl.clear_cache()
    return found


def test_load_group_loads_each_entry_point_once(fake_dist):
    base = _installed("lowcode.notifiers", "lowcode.fields", "lowcode.actions")
    fake_dist(
        "lcfake",
        """
        [lowcode.notifiers]
        memo = lcfake_memo:Memo
        [lowcode.fields]
        stars = lcfake_memo:SENT
    """,
        lcfake_memo=MEMO,
    )
    import lcfake_memo  # undeclared-ok: the test writes this module

    assert load_group("lowcode.notifiers") == {**base["lowcode.notifiers"], "memo": lcfake_memo.Memo}
    assert load_group("lowcode.fields") == {**base["lowcode.fields"], "stars": lcfake_memo.SENT}
    assert load_group("lowcode.actions") == base["lowcode.actions"]
    load_group("lowcode.notifiers")["other"] = object()  # callers get a copy
    assert set(load_group("lowcode.notifiers")) == set(base["lowcode.notifiers"]) | {"memo"}


def test_load_group_is_cached_until_cleared(fake_dist, tmp_path):
    base = _installed("lowcode.notifiers")["lowcode.notifiers"]
    fake_dist("lcfake", "[lowcode.notifiers]\nmemo = lcfake_memo:Memo\n", lcfake_memo=MEMO)
    first = load_group("lowcode.notifiers")
    assert "memo" in first
    (tmp_path / "lcfake-1.0.dist-info" / "entry_points.txt").write_text("")
    assert load_group("lowcode.notifiers") == first
    pl.clear_cache()
    assert load_group("lowcode.notifiers") == base


def test_a_broken_entry_point_is_named_in_the_error(fake_dist):
    fake_dist("lcfake", "[lowcode.actions]\nbroken = lcfake_missing:Thing\n")
    with pytest.raises(PluginError) as info:
        load_group("lowcode.actions")
    assert str(info.value) == (
        "plugin 'broken' in lowcode.actions (broken = lcfake_missing:Thing) failed to load: "
        "ModuleNotFoundError: No module named 'lcfake_missing'"
    )


def test_a_missing_attribute_is_named_in_the_error(fake_dist):
    fake_dist("lcfake", "[lowcode.notifiers]\nsms = lcfake_memo:Sms\n", lcfake_memo=MEMO)
    with pytest.raises(
        PluginError,
        match=r"^plugin 'sms' in lowcode.notifiers "
        r"\(sms = lcfake_memo:Sms\) failed to load: AttributeError",
    ):
        load_group("lowcode.notifiers")


def test_two_plugins_with_one_name_are_refused(fake_dist):
    fake_dist("lcfake", "[lowcode.notifiers]\nmemo = lcfake_memo:Memo\n", lcfake_memo=MEMO)
    fake_dist("lcother", "[lowcode.notifiers]\nmemo = lcother_memo:Memo\n", lcother_memo=MEMO)
    with pytest.raises(PluginError) as info:
        load_group("lowcode.notifiers")
    assert "two plugins are named 'memo' in lowcode.notifiers" in str(info.value)


def test_senders_for_uses_the_installed_notifiers(fake_dist, db):
    fake_dist("lcfake", "[lowcode.notifiers]\nmemo = lcfake_memo:Memo\n", lcfake_memo=MEMO)
    import lcfake_memo  # undeclared-ok: the test writes this module

    with db.begin() as conn:
        oid = enqueue(
            conn,
            "notify",
            {"channel": "memo", "to": ["a@x", "b@x"], "subject": "Hi", "body": "Order SO-1 approved"},
            key="so-1-ok",
            now=T0,
        )
    worker = Worker(db, senders_for(), clock=FixedClock(T0))
    assert worker.run_once() == 1
    assert lcfake_memo.SENT == [Notification("memo", ["a@x", "b@x"], "Hi", "Order SO-1 approved", "so-1-ok")]
    with db.begin() as conn:
        assert ob.get(conn, oid)["status"] == "sent"


# --- notify sender ----------------------------------------------------------------------


class Memo:
    created = 0

    def __init__(self) -> None:
        Memo.created += 1
        self.sent: list[Notification] = []

    def send(self, note: Notification) -> None:
        self.sent.append(note)


def test_notifiers_are_created_once_on_first_use():
    Memo.created = 0
    sender = NotifySender({"memo": Memo, "unused": Memo})
    sender({"channel": "memo", "to": "a@x", "subject": "S", "body": "B"}, outbox_row())
    sender({"to": "b@x"}, outbox_row(key=None, channel="memo"))  # the row's channel
    assert Memo.created == 1
    assert sender.notifier("memo").sent == [
        Notification("memo", "a@x", "S", "B", "k1"),
        Notification("memo", "b@x", "", "", "outbox-7"),
    ]


def test_an_instance_is_used_as_is():
    memo = Memo()
    NotifySender({"memo": memo})({"channel": "memo", "to": "a@x"}, outbox_row())
    assert len(memo.sent) == 1


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"channel": "sms", "to": "a"}, "no notifier plugin named 'sms' (installed: log, memo)"),
        ({"to": "a"}, "notification without a channel"),
        ({"channel": "memo"}, "notification on 'memo' without a recipient ('to')"),
    ],
)
def test_undeliverable_notifications_fail_permanently(payload, message):
    with pytest.raises(PermanentFailure) as info:
        NotifySender({"memo": Memo, "log": LogNotifier})(payload, outbox_row())
    assert str(info.value) == message


def test_log_notifier_through_the_worker(db, tmp_path, monkeypatch):
    path = tmp_path / "logs" / "notes.log"
    monkeypatch.setenv("LOWCODE_NOTIFY_LOG", str(path))
    with db.begin() as conn:
        enqueue(conn, "notify", {"channel": "log", "to": "王@x", "subject": "订单", "body": "ok"}, key="so-9", now=T0)
        dead = enqueue(conn, "notify", {"channel": "fax", "to": "a"}, now=T0)
    worker = Worker(db, senders_for({"log": LogNotifier}), clock=FixedClock(T0))
    assert worker.run_once() == 2
    [line] = path.read_text(encoding="utf-8").splitlines()
    entry = json.loads(line)
    del entry["at"]
    assert entry == {"channel": "log", "to": "王@x", "subject": "订单", "body": "ok", "key": "so-9"}
    with db.begin() as conn:
        r = ob.get(conn, dead)
    assert r["status"] == "dead"
    assert r["last_error"] == "PermanentFailure: no notifier plugin named 'fax' (installed: log)"


def test_log_notifier_default_path(monkeypatch, tmp_path):
    monkeypatch.delenv("LOWCODE_NOTIFY_LOG", raising=False)
    monkeypatch.chdir(tmp_path)
    LogNotifier().send(Notification("log", "a@x", "S", "B", "k"))
    assert (tmp_path / "instance" / "notifications.log").exists()


# --- webhooks, against a real local HTTP server ------------------------------------------


class Receiver(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.statuses: list[int] = []  # answers to give, in order; then 200
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((self.path, dict(self.headers), body))
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.send_response(status)
        if status in (301, 302, 307):
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_webhook_is_posted_signed_with_the_idempotency_key(db, receiver):
    body = {"event": "order.approved", "number": "SO-202605-00001", "total": "12.50"}
    with db.begin() as conn:
        oid = enqueue(
            conn,
            "webhook",
            {"url": receiver.url + "?token=t", "body": body, "secret": "s3cret"},
            key="so-1-approved",
            now=T0,
        )
    assert Worker(db, senders_for({}), clock=FixedClock(T0)).run_once() == 1
    [(path, headers, raw)] = receiver.requests
    assert path == "/hook?token=t"
    assert json.loads(raw) == body
    assert headers["Idempotency-Key"] == "so-1-approved"
    expected = hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
    assert headers["X-Lowcode-Signature"] == expected == signature(raw, "s3cret")
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    with db.begin() as conn:
        assert ob.get(conn, oid)["status"] == "sent"


def test_a_failing_receiver_gets_the_same_key_on_retry(db, receiver):
    receiver.statuses = [500]
    clock = FixedClock(T0)
    with db.begin() as conn:
        oid = enqueue(conn, "webhook", {"url": receiver.url, "body": [1, 2]}, now=T0)
    worker = Worker(db, senders_for({}), clock=clock)
    assert worker.run_once() == 1
    with db.begin() as conn:
        r = ob.get(conn, oid)
    assert (r["status"], r["attempts"]) == ("pending", 1)
    assert r["last_error"] == f"WebhookError: POST {receiver.url} answered 500 Internal Server Error"
    clock.advance(seconds=2)
    assert worker.run_once() == 1
    with db.begin() as conn:
        assert ob.get(conn, oid)["status"] == "sent"
    keys = [h["Idempotency-Key"] for _, h, _ in receiver.requests]
    assert keys == [f"outbox-{oid}"] * 2
    assert all("X-Lowcode-Signature" not in h for _, h, _ in receiver.requests)  # no secret


@pytest.mark.parametrize("status", [302, 307, 404])
def test_non_2xx_answers_raise_and_redirects_are_not_followed(receiver, status):
    receiver.statuses = [status]
    with pytest.raises(pl.WebhookError, match=f"^POST {receiver.url} answered {status} "):
        send_webhook({"url": receiver.url, "body": {}}, outbox_row(kind="webhook"))
    assert [p for p, _, _ in receiver.requests] == ["/hook"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "", None, "http://"])
def test_only_http_urls_are_called(url):
    with pytest.raises(PermanentFailure, match="^webhook url must be http"):
        send_webhook({"url": url, "body": {}}, outbox_row(kind="webhook"))


# --- email, against a minimal local SMTP server ------------------------------------------


class SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.mails: list[tuple[str, list[str], bytes]] = []
        self.logins: list[str] = []


class _SMTPHandler(socketserver.StreamRequestHandler):
    server: SMTPServer

    def reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 test ESMTP")
        sender, rcpts, data, in_data = "", [], [], False
        for raw in self.rfile:
            line = raw.rstrip(b"\r\n")
            if in_data:
                if line == b".":
                    self.server.mails.append((sender, rcpts, b"\r\n".join(data)))
                    in_data, data = False, []
                    self.reply("250 queued")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.reply("250-test\r\n250 AUTH PLAIN")
            elif verb == b"AUTH":
                self.server.logins.append(base64.b64decode(line.split()[2]).decode())
                self.reply("235 ok")
            elif verb == b"MAIL":
                sender = line.decode().split(":", 1)[1].strip("<> ")
                self.reply("250 ok")
            elif verb == b"RCPT":
                rcpts.append(line.decode().split(":", 1)[1].strip("<> "))
                self.reply("250 ok")
            elif verb == b"DATA":
                in_data = True
                self.reply("354 go on")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    server = SMTPServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_email_notifier_sends_over_smtp(smtp_server, monkeypatch):
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM", "SMTP_STARTTLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(smtp_server.server_address[1]))
    monkeypatch.setenv("SMTP_USER", "bot")
    monkeypatch.setenv("SMTP_PASSWORD", "pw")
    monkeypatch.setenv("SMTP_FROM", "orders@shop.example")
    note = Notification("email", ["a@x.example", "b@x.example"], "订单已批准", "SO-1 is approved.", "so-1")
    NotifySender({"email": EmailNotifier})(
        {"channel": "email", "to": note.to, "subject": note.subject, "body": note.body},
        outbox_row(key="so-1"),
    )
    [(sender, rcpts, raw)] = smtp_server.mails
    assert (sender, rcpts) == ("orders@shop.example", ["a@x.example", "b@x.example"])
    assert smtp_server.logins == ["\0bot\0pw"]
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["To"] == "a@x.example, b@x.example"
    assert mail["Subject"] == "订单已批准"
    assert mail.get_content().strip() == "SO-1 is approved."
    digest = hashlib.sha256(b"so-1").hexdigest()[:32]
    assert mail["Message-ID"] == f"<lowcode.{digest}@shop.example>"


def test_email_notifier_needs_a_sender_address(monkeypatch):
    monkeypatch.delenv("SMTP_FROM", raising=False)
    monkeypatch.delenv("SMTP_USER", raising=False)
    with pytest.raises(ValueError, match="set SMTP_FROM"):
        EmailNotifier()
