"""Inbound webhooks: HMAC-signed JSON runs the webhook rules once per delivery key."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from apps import create_app
from engine.rules.webhooks import env_name, sign, verify
from engine.store.idempotency import idempotency as keys

SECRET = "s3cret-for-tests"
ERP = 'on material\nrule "erp stock" when webhook "erp" then create material {name: name, stock: stock}\n'


@pytest.fixture
def client(platform):
    app = create_app({"TESTING": True, "PLATFORM": platform, "WEBHOOK_SECRETS": {"erp": SECRET}})
    return app.test_client()


def post(client, name, payload, secret=SECRET, **headers):
    body = json.dumps(payload).encode()
    if secret is not None:
        headers.setdefault("X-Lowcode-Signature", sign(secret, body))
    return client.post(
        f"/api/v1/hooks/{name}",
        data=body,
        content_type="application/json",
        headers={k.replace("_", "-"): v for k, v in headers.items()},
    )


def materials(records, ctx):
    from engine.listing import ListQuery

    return [(m["name"], m["stock"]) for m in records.list_records(ctx, "material", ListQuery.from_params({}))["items"]]


def test_a_signed_delivery_fires_the_rule_and_writes(client, publish, records, ctx, runs):
    publish(ERP)
    resp = post(client, "erp", {"name": "钢板", "stock": "12"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {
        "hook": "erp",
        "delivery": None,
        "runs": [{"rule": "erp stock", "form": "material", "outcome": "fired"}],
    }
    assert materials(records, ctx) == [("钢板", 12)]
    (run,) = runs("erp stock")
    assert (run["event"], run["source"], run["username"]) == ("webhook", "webhook", "webhook:erp")


@pytest.mark.parametrize(
    "headers", [{}, {"X_Lowcode_Signature": "sha256=" + "0" * 64}, {"X_Lowcode_Signature": sign("other", b"{}")}]
)
def test_a_bad_or_missing_signature_is_refused(client, publish, records, ctx, runs, headers):
    publish(ERP)
    resp = post(client, "erp", {"name": "x", "stock": 1}, secret=None, **headers)
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthorized"
    assert "X-Lowcode-Signature: sha256=" in resp.get_json()["error"]["message"]
    assert materials(records, ctx) == [] and runs() == []


def test_a_hook_without_a_secret_is_refused(client, publish, monkeypatch):
    publish('on material\nrule "other" when webhook "other" then create material {name: name}\n')
    monkeypatch.delenv("LOWCODE_WEBHOOK_SECRET", raising=False)
    resp = post(client, "other", {"name": "x"})
    assert resp.status_code == 401
    assert "LOWCODE_WEBHOOK_SECRET_OTHER" in resp.get_json()["error"]["message"]


def test_a_replay_returns_the_first_answer_and_fires_nothing(client, publish, records, ctx, runs):
    publish(ERP)
    first = post(client, "erp", {"name": "钢板", "stock": 1}, Idempotency_Key="d-1")
    again = post(client, "erp", {"name": "钢板", "stock": 1}, Idempotency_Key="d-1")
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json() and first.get_json()["delivery"] == "d-1"
    assert again.headers["Idempotency-Replayed"] == "true"
    assert materials(records, ctx) == [("钢板", 1)]
    assert len(runs("erp stock")) == 1
    # a delivery id in the body works the same way
    post(client, "erp", {"name": "螺丝", "stock": 2, "delivery_id": 77})
    post(client, "erp", {"name": "螺丝", "stock": 2, "delivery_id": 77})
    assert materials(records, ctx) == [("钢板", 1), ("螺丝", 2)]
    # the same key with another body is a conflict, and nothing fires
    other = post(client, "erp", {"name": "钢板", "stock": 5}, Idempotency_Key="d-1", Accept_Language="en")
    assert other.status_code == 409
    assert other.get_json()["error"]["message"] == (
        "the Idempotency-Key 'd-1' was already used with a different body; use a new key for a new request"
    )
    assert materials(records, ctx) == [("钢板", 1), ("螺丝", 2)] and len(runs("erp stock")) == 2


def test_a_hooks_keys_are_its_own(platform, publish, records, ctx):
    """A user's Idempotency-Key and another hook's are other keys, though spelled alike."""
    publish(ERP + 'rule "shop stock" when webhook "shop" then create material {name: "shop " + name}\n')
    app = create_app({"TESTING": True, "PLATFORM": platform, "WEBHOOK_SECRETS": {"erp": SECRET, "shop": SECRET}})
    hooks = app.test_client()
    assert post(hooks, "erp", {"name": "a", "stock": 1}, Idempotency_Key="k").status_code == 200
    assert post(hooks, "shop", {"name": "a", "stock": 1}, Idempotency_Key="k").status_code == 200
    token = hooks.post("/api/v1/auth/login", json={"username": "admin", "password": "admin-pw"}).get_json()["token"]
    made = hooks.post(
        "/api/v1/records/material",
        json={"name": "b"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k"},
    )
    assert made.status_code == 201, made.get_json()
    assert sorted(materials(records, ctx)) == [("a", 1), ("b", 0), ("shop a", 0)]


def test_a_failing_rule_rolls_back_and_frees_its_key(client, platform, publish, records, ctx):
    publish(
        'on material\nrule "erp stock" when webhook "erp"\n'
        "  then create material {name: name}\n       create purchase_request {material: 999, qty: 1}\n"
    )
    resp = post(client, "erp", {"name": "x"}, Idempotency_Key="k")
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "rule_failed"
    assert materials(records, ctx) == []
    with platform.db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(keys)).scalar_one() == 0
    publish(ERP)
    assert post(client, "erp", {"name": "x", "stock": 3}, Idempotency_Key="k").status_code == 200
    assert materials(records, ctx) == [("x", 3)]


def test_unknown_hooks_bodies_and_bare_webhook_rules(client, publish, records, ctx, monkeypatch):
    publish('on material\nrule "any" when webhook then create material {name: "bare " + name}\n')
    monkeypatch.setenv(env_name("material"), "env-secret")
    assert post(client, "material", {"name": "m"}, secret="env-secret").status_code == 200
    assert materials(records, ctx) == [("bare m", 0)]
    assert post(client, "erp", {"name": "m"}).status_code == 404
    body = b"[1, 2]"
    resp = client.post("/api/v1/hooks/material", data=body, headers={"X-Lowcode-Signature": sign("env-secret", body)})
    assert resp.status_code == 400


def test_signatures():
    body = b'{"a": 1}'
    assert verify("k", body, sign("k", body))
    assert verify("k", body, sign("k", body)[7:])  # bare hex, as our outbound webhooks send
    assert not verify("k", body + b" ", sign("k", body))
    assert not verify("k", body, None)


def test_docs_upsert_from_erp(client, publish, records, ctx):
    publish(
        'on material\nrule "stock from erp"\n  when webhook "erp"\n'
        "  then upsert material by code {code: code, name: name, stock: stock}\n"
    )
    assert post(client, "erp", {"code": "M-1", "name": "钢板", "stock": 40}, Idempotency_Key="1").status_code == 200
    assert post(client, "erp", {"code": "M-1", "name": "钢板", "stock": 35}, Idempotency_Key="2").status_code == 200
    assert materials(records, ctx) == [("钢板", 35)]


def test_the_worker_forgets_delivery_keys_after_the_retention(client, platform, publish, clock):
    from engine.rules.timers_fire import timer_hook
    from engine.store.worker import Worker

    publish(ERP)
    assert post(client, "erp", {"name": "x"}, Idempotency_Key="old").status_code == 200
    clock.advance(days=91)  # keep runs: 90d by default
    worker = Worker(platform.db, {}, clock=clock)
    worker.periodic.append(timer_hook(platform))
    worker.run_once()
    with platform.db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(keys)).scalar_one() == 0


def test_two_concurrent_deliveries_with_one_key_fire_once(platform, publish, records, ctx, runs):
    import threading

    from engine.rules.webhooks import receive

    publish(ERP)
    body = json.dumps({"name": "钢板", "stock": 1}).encode()
    start, answers = threading.Barrier(4), []

    def go() -> None:
        start.wait()
        answers.append(receive(platform, "erp", body, sign(SECRET, body), "same", secrets={"erp": SECRET}))

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(replayed for _, replayed in answers) == [False, True, True, True]
    assert len({json.dumps(a, sort_keys=True) for a, _ in answers}) == 1
    assert materials(records, ctx) == [("钢板", 1)] and len(runs("erp stock")) == 1
