"""Security over HTTP: the workspace login's throttle (shared with the API and between processes,
race-safe under concurrent requests), the response headers, the session cookie, trusted proxies."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import pytest
import requests

from apps import create_app
from apps.security import API_CSP, WORKSPACE_CSP, env_settings
from engine.platform import Platform
from engine.security.throttle import attempts
from engine.store.db import Database
from tests.workspace.conftest import csrf_of, serve


def ws_login(client: Any, username: str, password: str, lang: str = "zh-CN", **environ: str) -> Any:
    token = csrf_of(client.get(f"/login?lang={lang}").text)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}, environ_base=environ
    )


def api_login(client: Any, username: str, password: str, **environ: str) -> Any:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password}, environ_base=environ)


# ---- the throttle ----------------------------------------------------------------------------


def test_the_workspace_login_locks_after_five_failures_and_opens_again(client: Any, shop: Platform) -> None:
    assert [ws_login(client, "sales1", "nope").status_code for _ in range(5)] == [401] * 5
    refused = ws_login(client, "sales1", "sales123")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "900"
    assert "失败次数过多, 请 15 分钟后再试" in refused.text and 'name="username" value="sales1"' in refused.text
    assert ws_login(client, "nobody", "x").status_code == 401  # another name is still checked
    assert "Too many failed attempts; try again in 15 min" in ws_login(client, "sales1", "x", lang="en").text
    shop.clock.advance(minutes=15)  # type: ignore[attr-defined]
    resp = ws_login(client, "sales1", "sales123")
    assert resp.status_code == 302 and client.get("/w/").status_code == 200


def test_the_api_and_the_workspace_count_together(client: Any) -> None:
    assert [api_login(client, "sales1", "x").status_code for _ in range(3)] == [401] * 3
    assert [ws_login(client, "sales1", "x").status_code for _ in range(2)] == [401] * 2
    assert api_login(client, "sales1", "sales123").status_code == 429
    assert ws_login(client, "sales1", "sales123").status_code == 429


def test_two_web_processes_share_the_counters(shop: Platform, db_url: str) -> None:
    other = Platform(Database(db_url), shop.clock, reload_seconds=0)  # a second process's platform
    try:
        one = create_app({"TESTING": True, "PLATFORM": shop}).test_client()
        two = create_app({"TESTING": True, "PLATFORM": other}).test_client()
        for client in (one, two, one, two, one):
            assert api_login(client, "sales2", "x").status_code == 401
        assert api_login(two, "sales2", "sales123").status_code == 429
    finally:
        other.db.dispose()


def test_concurrent_guesses_get_no_more_than_the_limit_checked(shop: Platform) -> None:
    with serve(shop) as base:

        def guess(n: int) -> int:
            return requests.post(
                f"{base}/api/v1/auth/login", json={"username": "sales1", "password": f"g{n}"}, timeout=60
            ).status_code

        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(guess, range(12)))
        assert sorted(statuses) == [401] * 5 + [429] * 7
        with shop.db.connect() as conn:
            assert [a["outcome"] for a in attempts(conn, username="sales1")] == ["failed"] * 5


# ---- the client address ----------------------------------------------------------------------


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(shop: Platform) -> None:
    client = create_app({"TESTING": True, "PLATFORM": shop}).test_client()
    for n in range(20):  # a forged header per request does not make new addresses
        client.post(
            "/api/v1/auth/login",
            json={"username": f"u{n}", "password": "x"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        )
    assert api_login(client, "sales1", "sales123").status_code == 429
    with shop.db.connect() as conn:
        assert {a["address"] for a in attempts(conn)} == {"127.0.0.1"}


def test_behind_a_trusted_proxy_the_forwarded_address_counts(shop: Platform) -> None:
    client = create_app({"TESTING": True, "PLATFORM": shop, "TRUSTED_PROXIES": 1}).test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n in range(20):
        client.post(
            "/api/v1/auth/login",
            json={"username": f"u{n}", "password": "x"},
            environ_base=proxy,
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
    refused = client.post(
        "/api/v1/auth/login",
        json={"username": "sales1", "password": "sales123"},
        environ_base=proxy,
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert refused.status_code == 429
    # only the last hop is believed: a client cannot prepend its own choice
    other = client.post(
        "/api/v1/auth/login",
        json={"username": "sales1", "password": "sales123"},
        environ_base=proxy,
        headers={"X-Forwarded-For": "203.0.113.7, 203.0.113.8"},
    )
    assert other.status_code == 200
    with shop.db.connect() as conn:
        assert {a["address"] for a in attempts(conn, limit=100)} == {"203.0.113.7", "203.0.113.8"}


# ---- headers and cookies ---------------------------------------------------------------------

COMMON = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


def test_every_answer_carries_the_security_headers(client: Any, login: Any) -> None:
    answers = {
        "/login": WORKSPACE_CSP,
        "/w/static/workspace.js": WORKSPACE_CSP,
        "/w/nosuchform": WORKSPACE_CSP,
        "/api/v1/openapi.json": API_CSP,
        "/api/v1/auth/me": API_CSP,
        "/api/v1/nope": API_CSP,
    }
    login("sales1")
    for path, csp in answers.items():
        resp = client.get(path)
        assert resp.headers["Content-Security-Policy"] == csp, path
        assert {k: resp.headers.get(k) for k in COMMON} == COMMON, path
        assert "Strict-Transport-Security" not in resp.headers, path
    assert "script-src 'self'" in WORKSPACE_CSP and "'unsafe-inline'" not in WORKSPACE_CSP
    assert "frame-ancestors 'none'" in WORKSPACE_CSP and "frame-ancestors 'none'" in API_CSP


def test_the_session_cookie_is_secure_behind_https(shop: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = create_app({"TESTING": True, "PLATFORM": shop}).test_client()
    cookie = ws_login(plain, "sales1", "sales123").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie

    monkeypatch.setenv("LOWCODE_HTTPS", "1")
    https = create_app({"TESTING": True, "PLATFORM": shop}).test_client()
    resp = ws_login(https, "sales1", "sales123")
    cookie = resp.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert resp.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_bad_settings_are_named() -> None:
    assert env_settings({}) == {
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
        "LOGIN_WINDOW_SECONDS": 900,
        "LOGIN_LOCK_SECONDS": 900,
        "TRUSTED_PROXIES": 0,
        "HTTPS": False,
    }
    assert env_settings({"LOWCODE_HTTPS": "yes", "LOWCODE_LOGIN_MAX_FAILURES": "3"})["LOGIN_MAX_FAILURES"] == 3
    with pytest.raises(ValueError, match="LOWCODE_LOGIN_LOCK_SECONDS must be a whole number, not '15m'"):
        env_settings({"LOWCODE_LOGIN_LOCK_SECONDS": "15m"})
    with pytest.raises(ValueError, match="LOWCODE_HTTPS must be 1 or 0, not 'maybe'"):
        env_settings({"LOWCODE_HTTPS": "maybe"})


def test_limits_below_one_are_refused(shop: Platform) -> None:
    with pytest.raises(ValueError, match=r"login limits must be at least 1 \(per name 0, per address 20\)"):
        create_app({"TESTING": True, "PLATFORM": shop, "LOGIN_MAX_FAILURES": 0})
