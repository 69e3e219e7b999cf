"""Rule-engine fixtures: the stock test pack published with the rule text a test gives."""

from __future__ import annotations

import configparser
import datetime as dt
import os
import sys
from typing import Any, Callable, Iterator

import pytest
import sqlalchemy as sa

from engine.context import FixedClock
from engine.definitions.loader import read_pack_files
from engine.platform import Platform
from engine.rules.log import runs_view
from engine.service import Records
from engine.store.db import Database

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PACK = os.path.join(os.path.dirname(__file__), "packs", "stock")
USERS = {"admin": ["admin"], "buyer1": ["buyer"], "buyer2": ["buyer"], "sales1": ["sales"], "cust1": ["portal"]}


def entry_points() -> configparser.SectionProxy:
    """The ``[options.entry_points]`` of this tree's setup.cfg."""
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(ROOT, "setup.cfg"), encoding="utf-8")
    return cfg["options.entry_points"]


@pytest.fixture(scope="session", autouse=True)
def this_tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The plugins this tree's setup.cfg declares, as installing it writes them: a ``lowcode``
    dist-info first on sys.path shadows the installed copy's (maybe of another checkout)."""
    from engine import plugins

    where = tmp_path_factory.mktemp("dist")
    info = where / "lowcode-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: lowcode\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(
        "".join(f"[{group}]\n{value.strip()}\n" for group, value in entry_points().items())
    )
    sys.path.insert(0, str(where))
    plugins.clear_cache()
    yield
    sys.path.remove(str(where))
    plugins.clear_cache()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc))


@pytest.fixture
def platform(db_url: str, clock: FixedClock) -> Iterator[Platform]:
    p = Platform(Database(db_url), clock, reload_seconds=0)
    p.publish(PACK)
    with p.db.begin() as conn:
        for name, roles in USERS.items():
            p.users.add(conn, name, name + "-pw", roles)
    yield p
    p.db.dispose()


@pytest.fixture
def publish(platform: Platform) -> Callable[[str], Any]:
    """``publish(text)``: the stock pack with ``rules/stock.rules`` replaced by ``text``."""

    def go(text: str, **extra: str) -> Any:
        files = read_pack_files(PACK)
        files["rules/stock.rules"] = text
        for name, body in extra.items():
            files[name] = body
        return platform.publish(PACK, files)

    return go


@pytest.fixture
def records(platform: Platform) -> Records:
    return Records(platform)


@pytest.fixture
def ctx(platform: Platform) -> Any:
    return platform.user_context("admin")


@pytest.fixture
def runs(platform: Platform) -> Callable[..., list[dict[str, Any]]]:
    """``runs(rule=None)``: every run, oldest first (a row of skipped runs once per record)."""

    def get(rule: str | None = None) -> list[dict[str, Any]]:
        view = runs_view()
        q = sa.select(view).order_by(view.c.id, view.c.record_id)
        if rule is not None:
            q = q.where(view.c.rule == rule)
        with platform.db.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    return get


def outbox_rows(platform: Platform) -> list[dict[str, Any]]:
    from engine.store.outbox import outbox

    with platform.db.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(outbox).order_by(outbox.c.id)).mappings()]
