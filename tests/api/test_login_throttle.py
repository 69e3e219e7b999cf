"""Login throttling on ``POST /api/v1/auth/login``: per user name and per address, 429 with
Retry-After, the same for unknown users, the audit, the lock's end (an injected clock; no sleeps)."""

from __future__ import annotations

from typing import Any

from apps import create_app
from tests.api.conftest import USERS

PASSWORD = USERS["sales1"][0]


def login(client: Any, username: str, password: str, address: str = "10.0.0.5", **headers: str) -> Any:
    return client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def test_thirty_wrong_passwords_lock_the_name_until_the_lock_expires(client: Any, clock: Any) -> None:
    answers = [login(client, "sales1", f"guess-{n}") for n in range(30)]
    assert [r.status_code for r in answers] == [401] * 5 + [429] * 25
    locked = answers[5]
    assert locked.headers["Retry-After"] == "900"
    assert locked.get_json() == {
        "error": {"code": "too_many_attempts", "message": "失败次数过多, 请 15 分钟后再试", "fields": {}}
    }
    assert login(client, "sales1", PASSWORD).status_code == 429  # not even the right password
    clock.advance(minutes=14, seconds=59)
    refused = login(client, "sales1", PASSWORD, **{"Accept-Language": "en"})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert refused.get_json()["error"]["message"] == "Too many failed attempts; try again in 1 min"
    clock.advance(seconds=1)
    ok = login(client, "sales1", PASSWORD)
    assert ok.status_code == 200 and ok.get_json()["user"]["username"] == "sales1"
    assert ok.headers["Cache-Control"] == "no-store"
    assert [login(client, "sales1", "wrong").status_code for _ in range(6)] == [401] * 5 + [429]  # counting anew


def test_the_answers_do_not_tell_whether_the_user_exists(client: Any) -> None:
    def series(name: str) -> list[tuple[int, Any, Any]]:
        out = []
        for n in range(7):
            r = login(client, name, f"guess-{n}", address=f"10.1.0.{len(name)}")
            out.append((r.status_code, r.get_json(), r.headers.get("Retry-After")))
        return out

    assert series("sales2") == series("nosuchuser")


def test_a_success_clears_the_names_failures(client: Any) -> None:
    assert [login(client, "sales1", "wrong").status_code for _ in range(4)] == [401] * 4
    assert login(client, "sales1", PASSWORD).status_code == 200
    assert [login(client, "sales1", "wrong").status_code for _ in range(4)] == [401] * 4
    assert login(client, "sales1", PASSWORD).status_code == 200


def test_one_address_trying_many_names_is_locked_and_others_are_not(client: Any, clock: Any) -> None:
    statuses = [login(client, f"user{n}", "x", address="10.9.9.9").status_code for n in range(21)]
    assert statuses == [401] * 20 + [429]
    refused = login(client, "sales2", USERS["sales2"][0], address="10.9.9.9")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "900"
    assert login(client, "sales2", USERS["sales2"][0], address="10.9.9.10").status_code == 200
    clock.advance(minutes=15)
    assert login(client, "sales2", USERS["sales2"][0], address="10.9.9.9").status_code == 200


def test_an_ipv6_subscriber_is_counted_by_its_64_block(client: Any) -> None:
    statuses = [login(client, f"user{n}", "x", address=f"2001:db8:1:2::{n:x}").status_code for n in range(21)]
    assert statuses == [401] * 20 + [429]
    assert login(client, "sales1", PASSWORD, address="2001:db8:1:3::1").status_code == 200


def test_successful_logins_do_not_use_up_the_address(client: Any) -> None:
    for _ in range(25):
        assert login(client, "sales1", PASSWORD, address="10.7.7.7").status_code == 200


def test_the_limits_are_settings(platform: Any, clock: Any) -> None:
    app = create_app(
        {
            "TESTING": True,
            "PLATFORM": platform,
            "LOGIN_MAX_FAILURES": 2,
            "LOGIN_LOCK_SECONDS": 60,
            "LOGIN_WINDOW_SECONDS": 30,
        }
    )
    client = app.test_client()
    assert [login(client, "sales1", "x").status_code for _ in range(3)] == [401, 401, 429]
    assert login(client, "sales1", "x").headers["Retry-After"] == "60"
    clock.advance(seconds=60)
    assert login(client, "sales1", "x").status_code == 401
    clock.advance(seconds=31)  # the window passed: the count starts over
    assert [login(client, "sales1", "x").status_code for _ in range(3)] == [401, 401, 429]


def test_failed_attempts_are_in_the_audit_without_the_password(client: Any, cli: Any) -> None:
    for n in range(5):
        login(client, "sales1", f"s3cret-{n}", address="10.3.3.3")
    login(client, "sales1", PASSWORD, address="10.3.3.3")  # refused: not checked, not logged
    login(client, "ghost", "s3cret-x", address="10.3.3.4")
    code, out, _ = cli("user", "logins")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 6
    assert lines[0] == "2026-11-02 08:00:00Z login  failed    ghost            10.3.3.4"
    assert lines[1] == (
        "2026-11-02 08:00:00Z login  failed    sales1           10.3.3.3  locked name until 2026-11-02 08:15:00Z"
    )
    assert lines[2:] == ["2026-11-02 08:00:00Z login  failed    sales1           10.3.3.3"] * 4
    assert "s3cret" not in out
    code, out, _ = cli("user", "logins", "ghost")
    assert out.splitlines() == lines[:1]

    assert cli("user", "unlock", "sales1")[1] == "sales1: failures and lock cleared\n"
    assert login(client, "sales1", PASSWORD, address="10.3.3.3").status_code == 200
    assert cli("user", "unlock", "sales1")[1] == "sales1: nothing to clear\n"
    assert cli("user", "logins", "sales1", "--limit", "1")[1] == (
        "2026-11-02 08:00:00Z login  succeeded sales1           10.3.3.3\n"
    )

    from sqlalchemy import select

    from engine.store.system import login_audit

    with client.application.extensions["lowcode"].db.connect() as conn:
        stored = [tuple(row) for row in conn.execute(select(login_audit))]
    assert stored and not any("s3cret" in str(value) for row in stored for value in row)


def test_openapi_names_the_429(client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    ref = doc["paths"]["/auth/login"]["post"]["responses"]["429"]["$ref"]
    answer = doc["components"]["responses"][ref.rsplit("/", 1)[1]]
    assert answer["headers"]["Retry-After"]["schema"] == {"type": "integer"}
