"""Workspace fixtures: the shop test pack (and the OMS pack) on a fresh database, a logged-in client."""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import threading
from typing import Any, Callable, Iterator, Mapping, Optional

import pytest

from apps import create_app
from engine.context import FixedClock
from engine.platform import Platform
from engine.store.db import Database

HERE = os.path.dirname(__file__)
SHOP = os.path.join(HERE, "packs", "shop")
EVERY = os.path.join(HERE, "packs", "every")
OMS = os.path.join(HERE, "..", "..", "definitions", "oms")
USERS = {"admin": ("admin123", ["admin"]), "sales1": ("sales123", ["sales"]), "sales2": ("sales123", ["sales"])}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_platform(url: str, pack: str) -> Platform:
    clock = FixedClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc))
    p = Platform(Database(url), clock, reload_seconds=0)
    p.publish(pack)
    with p.db.begin() as conn:
        for name, (password, roles) in USERS.items():
            p.users.add(conn, name, password, roles)
    return p


@contextlib.contextmanager
def serve(platform: Platform, config: Optional[Mapping[str, Any]] = None) -> Iterator[str]:
    """The app over HTTP on a free port, in a thread (werkzeug's server); its base URL."""
    from werkzeug.serving import make_server

    app = create_app({"TESTING": True, "PLATFORM": platform, "SECRET_KEY": "http-test", **(config or {})})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        platform.db.dispose()


def seed_every(p: Platform) -> dict[str, int]:
    """Two parts for the link pickers of the every-type pack."""
    from engine.service import Records

    ctx, records = p.system_context(), Records(p)
    return {name: records.create(ctx, "part", {"name": name})["id"] for name in ("Hinge", "Handle")}


def seed_shop(p: Platform) -> dict[str, int]:
    """Two clients and two items (created as the system, through Records)."""
    from engine.service import Records

    ctx = p.system_context()
    records = Records(p)
    ids = {
        "c1": records.create(ctx, "client", {"name": "宁波海曙五金", "tier": "A"})["id"],
        "c2": records.create(ctx, "client", {"name": "Bright Shop", "tier": "B"})["id"],
        "i1": records.create(ctx, "item", {"name": "不锈钢合页", "price": "12.50"})["id"],
        "i2": records.create(ctx, "item", {"name": "Brass handle", "price": "30.00"})["id"],
    }
    return ids


@pytest.fixture
def shop(db_url: str) -> Iterator[Platform]:
    p = make_platform(db_url, SHOP)
    yield p
    p.db.dispose()


@pytest.fixture
def shop_ids(shop: Platform) -> dict[str, int]:
    return seed_shop(shop)


@pytest.fixture
def app(shop: Platform) -> Any:
    return create_app({"TESTING": True, "PLATFORM": shop, "SECRET_KEY": "test-secret"})


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found[1]


@pytest.fixture
def login(client: Any) -> Callable[..., str]:
    """``login("sales1")`` signs the test client in; returns the session's CSRF token."""
    def do(username: str, lang: str | None = None) -> str:
        page = client.get("/login" + (f"?lang={lang}" if lang else ""))
        resp = client.post("/login", data={"username": username, "password": USERS[username][0],
                                           "csrf_token": csrf_of(page.text)})
        assert resp.status_code == 302, resp.text
        return csrf_of(client.get("/w/").text)
    return do
