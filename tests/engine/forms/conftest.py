"""The lab pack (every field type, lookups, rollups, conditions) published on a fresh database."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any, Callable, Iterator

import pytest

from apps import create_app
from engine.context import FixedClock
from engine.platform import Platform
from engine.store import files
from engine.store.db import Database

LAB = os.path.join(os.path.dirname(__file__), "lab")
USERS = {"admin": ("admin123", ["admin"]), "sales1": ("sales123", ["sales"])}


@pytest.fixture
def platform(db_url: str, tmp_path: Any) -> Iterator[Platform]:
    files.configure(str(tmp_path / "files"))
    p = Platform(Database(db_url), FixedClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc)), reload_seconds=0)
    p.publish(LAB)
    with p.db.begin() as conn:
        for name, (password, roles) in USERS.items():
            p.users.add(conn, name, password, roles)
    yield p
    p.db.dispose()


@pytest.fixture
def client(platform: Platform, tmp_path: Any) -> Any:
    return create_app({"TESTING": True, "PLATFORM": platform, "FILES_DIR": str(tmp_path / "files")}).test_client()


@pytest.fixture
def auth(client: Any) -> Callable[..., dict[str, str]]:
    """``auth("admin", "en")`` -> headers with a bearer token (and a language)."""
    tokens: dict[str, str] = {}

    def headers(username: str = "admin", lang: str = "en") -> dict[str, str]:
        if username not in tokens:
            resp = client.post("/api/v1/auth/login", json={"username": username, "password": USERS[username][0]})
            assert resp.status_code == 200, resp.get_json()
            tokens[username] = resp.get_json()["token"]
        return {"Authorization": f"Bearer {tokens[username]}", "Accept-Language": lang}

    return headers


@pytest.fixture
def api(client: Any, auth: Callable[..., dict[str, str]]) -> Any:
    """Small helpers: ``api.post(form, body)`` -> (status, json); ``api.patch``; ``api.get``."""

    class Api:
        def post(self, form: str, body: Any, user: str = "admin", lang: str = "en") -> tuple[int, Any]:
            r = client.post(f"/api/v1/records/{form}", headers=auth(user, lang), json=body)
            return r.status_code, r.get_json()

        def patch(self, form: str, rid: int, body: Any, user: str = "admin", lang: str = "en") -> tuple[int, Any]:
            version = client.get(f"/api/v1/records/{form}/{rid}", headers=auth(user)).get_json()["version"]
            r = client.patch(
                f"/api/v1/records/{form}/{rid}", headers=auth(user, lang), json={**body, "version": version}
            )
            return r.status_code, r.get_json()

        def get(self, form: str, rid: int, user: str = "admin") -> Any:
            r = client.get(f"/api/v1/records/{form}/{rid}", headers=auth(user))
            assert r.status_code == 200, r.get_json()
            return r.get_json()

        def ok(self, form: str, body: Any, user: str = "admin") -> Any:
            status, data = self.post(form, body, user)
            assert status == 201, data
            return data

    return Api()
