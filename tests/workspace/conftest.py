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
CROWD = 60  # more records than a picker lists before a search (apps.workspace.labels.PICKER_SIZE)
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


def seed_every(p: Platform, names: tuple[str, ...] = ("Hinge", "Handle")) -> dict[str, int]:
    """Parts (Hinge and Handle) for the link pickers of the every-type pack."""
    from engine.service import Records

    ctx, records = p.system_context(), Records(p)
    return {name: records.create(ctx, "part", {"name": name})["id"] for name in names}


def seed_crowd(p: Platform, form: str, make: Callable[[int], dict[str, Any]]) -> list[int]:
    """``CROWD`` records of ``form`` made by ``make(n)``: created last, they are what a picker
    lists before a search, so records created earlier are only found by searching."""
    from engine.service import Records

    ctx, records = p.system_context(), Records(p)
    return [records.create(ctx, form, make(n))["id"] for n in range(1, CROWD + 1)]


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
        resp = client.post(
            "/login", data={"username": username, "password": USERS[username][0], "csrf_token": csrf_of(page.text)}
        )
        assert resp.status_code == 302, resp.text
        return csrf_of(client.get("/w/").text)

    return do


# ---- the browser tests' apps (tests/workspace/test_browser.py, test_pickers.py) --------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch arguments, pointed at Debian's Chromium."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def oms_app(database_for: Callable[[str], str]) -> Iterator[tuple[str, Platform, dict[str, int]]]:
    """The order-management pack itself: a customer, two products, then a crowd of other
    products (so the two are only found by searching); the base URL, the platform, ids by SKU."""
    from engine.service import Records

    platform = make_platform(database_for("oms"), OMS)
    ctx, records = platform.system_context(), Records(platform)
    records.create(ctx, "customer", {"code": "C001", "name": "宁波海曙精密五金有限公司", "tier": "A"})
    ids = {
        sku: records.create(ctx, "product", {"sku": sku, "name": name, "price": price, "cost": cost})["id"]
        for sku, name, price, cost in (
            ("P-100", "不锈钢合页", "12.50", "7.20"),
            ("P-200", "Brass handle", "30.00", "18.00"),
        )
    }
    seed_crowd(platform, "product", lambda n: {"sku": f"B-{n:03}", "name": f"Bolt M{n}", "price": "1.00"})
    with serve(platform) as base:
        yield base, platform, ids


@pytest.fixture(scope="session")
def every_app(
    tmp_path_factory: pytest.TempPathFactory, database_for: Callable[[str], str]
) -> Iterator[tuple[str, Platform, dict[str, int]]]:
    """The every-type pack: Hinge and Handle, a crowd of parts after them, and two secret parts
    that sales may not read (``rows`` in the pack's roles)."""
    tmp = tmp_path_factory.mktemp("every-browser")
    platform = make_platform(database_for("every-browser"), EVERY)
    ids = seed_every(platform)
    seed_crowd(platform, "part", lambda n: {"name": f"Part {n:03}"})
    ids.update(seed_every(platform, ("Secret hinge", "Secret handle")))
    with serve(platform, {"FILES_DIR": str(tmp / "files")}) as base:
        yield base, platform, ids
