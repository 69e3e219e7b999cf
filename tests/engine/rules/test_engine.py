"""Rules firing on every write path; each action kind; loop guard; depth; rollback with log."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.errors import LowcodeError
from engine.rules.actions import register_action
from engine.rules.errors import RuleFailed
from engine.rules.log import flags_of
from tests.engine.rules.conftest import outbox_rows

LOW_STOCK = """on material
rule "low stock"
  when updated if stock < safety_stock and changed(stock)
  then notify role buyer "{name}: {stock} left (safety {safety_stock})"
       create purchase_request {material: id, qty: reorder_qty}
"""


def test_low_stock_notifies_buyers_and_creates_a_request(platform, publish, records, ctx, runs):
    publish(LOW_STOCK)
    m = records.create(ctx, "material", {"name": "钢板", "stock": 10, "safety_stock": 5, "reorder_qty": 40})
    records.update(ctx, "material", m["id"], {"stock": 4}, version=None)
    notes = [r for r in outbox_rows(platform) if r["kind"] == "notify"]
    assert sorted(n["payload"]["to"] for n in notes) == ["buyer1", "buyer2"]
    assert notes[0]["payload"]["body"] == "钢板: 4 left (safety 5)"
    prs = records.list_records(ctx, "purchase_request", _q())["items"]
    assert [(p["material"], p["qty"]) for p in prs] == [(m["id"], 40)]
    fired = runs("low stock")
    assert [r["outcome"] for r in fired] == ["fired"]
    assert fired[0]["actions"][1]["summary"] == f"created purchase_request {prs[0]['id']}"
    assert fired[0]["record_id"] == m["id"] and fired[0]["event"] == "updated" and fired[0]["username"] == "admin"
    # not again when stock does not change
    records.update(ctx, "material", m["id"], {"name": "钢板2"}, version=None)
    assert [r["outcome"] for r in runs("low stock")] == ["fired", "skipped"]


def _q():
    from engine.listing import ListQuery

    return ListQuery.from_params({})


def test_api_create_fires_a_rule(platform, publish):
    from apps import create_app

    publish('on material\nstock < 0 → set status = "negative"\n')
    client = create_app({"TESTING": True, "PLATFORM": platform}).test_client()
    token = client.post("/api/v1/auth/login", json={"username": "admin", "password": "admin-pw"}).get_json()["token"]
    resp = client.post(
        "/api/v1/records/material", json={"name": "x", "stock": -1}, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 201, resp.get_json()
    got = client.get(f"/api/v1/records/material/{resp.get_json()['id']}", headers={"Authorization": f"Bearer {token}"})
    assert got.get_json()["status"] == "negative"


def test_a_rules_create_fires_another_rule(platform, publish, records, ctx, runs):
    publish(
        'on material\nrule "pr" when created then create purchase_request {material: id, qty: 5}\n'
        'on purchase_request\nrule "note" when created then set note = "auto " + material.name\n'
    )
    records.create(ctx, "material", {"name": "螺丝"})
    pr = records.list_records(ctx, "purchase_request", _q())["items"][0]
    assert pr["note"] == "auto 螺丝"
    assert [(r["rule"], r["depth"], r["source"]) for r in runs()] == [("pr", 0, "api"), ("note", 1, "rule")]


def test_failing_action_rolls_back_and_keeps_its_log_row(platform, publish, records, ctx, runs):
    publish(
        'on material\nrule "bad" when created\n  then set priority = "x"\n'
        "       create purchase_request {material: id, qty: null}\n"
    )
    with pytest.raises(RuleFailed) as info:
        records.create(ctx, "material", {"name": "x"})
    assert "rule 'bad' failed in its 'create' action at stock/rules/stock.rules:4:8" in str(info.value)
    assert records.list_records(ctx, "material", _q())["total"] == 0
    (run,) = runs("bad")
    assert run["outcome"] == "failed" and run["rolled_back"] is True
    assert run["error_position"] == "stock/rules/stock.rules:4:8"
    assert "qty" in run["error"]
    assert run["actions"][0]["summary"] == "set priority = 'x'"


def test_loop_guard_settles_a_cycle(platform, publish, records, ctx, runs):
    publish('on node\nrule "touch next" when hits changed then update node where id == this.next set hits = hits + 1\n')
    a = records.create(ctx, "node", {"n": 1})
    b = records.create(ctx, "node", {"n": 2})
    c = records.create(ctx, "node", {"n": 3, "next": a["id"]})
    records.update(ctx, "node", b["id"], {"next": c["id"]}, version=None)
    records.update(ctx, "node", a["id"], {"next": b["id"]}, version=None)
    records.update(ctx, "node", a["id"], {"hits": 10}, version=None)  # a -> b -> c -> a (stop)
    hits = {r["n"]: r["hits"] for r in records.list_records(ctx, "node", _q())["items"]}
    assert hits == {1: 11, 2: 1, 3: 1}
    outcomes = [(r["record_id"], r["outcome"]) for r in runs("touch next")]
    assert (a["id"], "loop_guard") in outcomes
    assert [o for _, o in outcomes].count("fired") == 3


def test_depth_limit_fails_the_change_naming_the_chain(platform, publish, records, ctx, runs):
    publish('limit depth 4\non node\nrule "spawn" when created then create node {n: n + 1}\n')
    with pytest.raises(LowcodeError) as info:
        records.create(ctx, "node", {"n": 0})
    text = str(info.value)
    assert "more than 4 levels deep: spawn on node 1 → spawn on node 2 → spawn on node 3 → spawn on node 4" in text
    assert records.list_records(ctx, "node", _q())["total"] == 0
    assert {r["outcome"] for r in runs("spawn")} == {"failed"}


def test_set_with_if_and_chinese(platform, publish, records, ctx):
    publish(
        'on 物料\nrule "定级" when created\n  then set 状态 = "approved", 优先级 = if(单价 > 10000, "high", "normal")\n'
    )
    m = records.create(ctx, "material", {"name": "a", "price": "20000.00"})
    n = records.create(ctx, "material", {"name": "b", "price": "5"})
    assert (m["status"], m["priority"]) == ("approved", "high") or records.get(ctx, "material", m["id"])[
        "priority"
    ] == "high"
    assert records.get(ctx, "material", n["id"])["priority"] == "normal"


def test_upsert_delete_and_delete_where(platform, publish, records, ctx):
    publish(
        "on material\n"
        'rule "up" when created or updated if stock >= 0 then upsert purchase_request by note {note: name, material: id, qty: stock}\n'
        'rule "gone" when updated if stock < 0 then delete\n'
        "on customer\n"
        'rule "purge" when updated then delete purchase_request where qty > 100\n'
    )
    m = records.create(ctx, "material", {"name": "M1", "stock": 3})
    records.update(ctx, "material", m["id"], {"stock": 500}, version=None)
    prs = records.list_records(ctx, "purchase_request", _q())["items"]
    assert [(p["note"], p["qty"]) for p in prs] == [("M1", 500)]
    cu = records.create(ctx, "customer", {"name": "c"})
    records.update(ctx, "customer", cu["id"], {"name": "c2"}, version=None)
    assert records.list_records(ctx, "purchase_request", _q())["total"] == 0
    records.update(ctx, "material", m["id"], {"stock": -1}, version=None)
    assert records.list_records(ctx, "material", _q())["total"] == 0


def test_flag_webhook_start_flow_and_plugin(platform, publish, records, ctx, runs):
    seen = []
    register_action("remember", lambda st, args: seen.append(args) or f"remembered {args['x']}")
    started = []
    # in place of the flow engine's starter (the stock pack has no flow 'purchase')
    platform.rules.flow_starters[:] = [lambda conn, c, flow, form, rid: started.append((flow, form, rid))]
    publish(
        'on material\nrule "all" when created\n'
        '  then flag red "缺货 {name}"\n'
        '       call webhook "https://erp.example.com/hook" secret "s3"\n'
        "       start flow purchase\n"
        "       call remember {x: stock * 2}\n"
    )
    m = records.create(ctx, "material", {"name": "M", "stock": 4})
    with platform.db.connect() as conn:
        (flag,) = flags_of(conn, "material", m["id"])
    assert (flag["colour"], flag["tag"], flag["rule"]) == ("red", "缺货 M", "all")
    (hook,) = [r for r in outbox_rows(platform) if r["kind"] == "webhook"]
    assert hook["payload"]["url"] == "https://erp.example.com/hook" and hook["payload"]["secret"] == "s3"
    assert hook["payload"]["body"]["record"]["name"] == "M"
    assert started == [("purchase", "material", m["id"])]
    assert seen == [{"x": 8}]
    assert [a["action"] for a in runs("all")[0]["actions"]] == ["flag", "webhook", "start_flow", "remember"]


def test_notify_owner_and_customer(platform, publish, records, ctx):
    publish('on node\nrule "n" when created then notify owner "hi {n}"\n  notify customer "dear customer"\n')
    cu = records.create(ctx, "customer", {"name": "c"})
    with platform.db.begin() as conn:
        conn.execute(sa.text("UPDATE lc_user SET customer_id = :c WHERE username = 'cust1'"), {"c": cu["id"]})
    records.create(ctx, "node", {"n": 7, "customer": cu["id"]})
    notes = [(r["payload"]["to"], r["payload"]["body"]) for r in outbox_rows(platform)]
    assert notes == [("admin", "hi 7"), ("cust1", "dear customer")]


def test_deleted_trigger_and_field_changed_uses_old_values(platform, publish, records, ctx, runs):
    publish(
        'on node\nrule "bye" when deleted then create purchase_request {material: 1, qty: n}\n'
        'rule "hits" when hits changed if old.hits < hits then flag green\n'
    )
    m = records.create(ctx, "material", {"name": "m"})
    node = records.create(ctx, "node", {"n": 9})
    records.update(ctx, "node", node["id"], {"hits": 3}, version=None)
    records.update(ctx, "node", node["id"], {"hits": 1}, version=None)
    assert [r["outcome"] for r in runs("hits")] == ["fired", "skipped"]
    records.delete(ctx, "node", node["id"], version=None)
    assert [p["qty"] for p in records.list_records(ctx, "purchase_request", _q())["items"]] == [9]
    assert m["id"] == 1


def test_on_flow_hook_runs_flow_rules(platform, publish, records, ctx, runs):
    publish('on node\nrule "review" when flow approval enter review then set hits = hits + 1\n')
    node = records.create(ctx, "node", {"n": 1})
    with platform.db.begin() as conn:
        out = platform.rules.on_flow(conn, ctx, "approval", "review", "enter", node)
        assert platform.rules.on_flow(conn, ctx, "approval", "review", "leave", node) == []
    assert out == ["fired"]
    assert records.get(ctx, "node", node["id"])["hits"] == 1


def test_dispatch_looks_only_at_matching_rules(platform, publish):
    text = (
        "on node\n"
        + "".join(f'rule "r{i}" when hits changed then flag red\n' for i in range(50))
        + 'rule "n" when n changed then flag red\nrule "c" when created then flag red\n'
    )
    publish(text)
    from engine.store.events import RecordEvent

    ev = RecordEvent(
        "updated",
        "node",
        1,
        platform.system_context(),
        {"id": 1, "n": 2, "hits": 0},
        {"id": 1, "n": 1, "hits": 0},
        frozenset({"n"}),
    )
    assert [r.name for r in platform.rules.matching(ev)] == ["n"]


def test_batch_and_import_paths_fire_rules(platform, publish, records, ctx, runs):
    publish('on material\nstock < 0 → set status = "negative"\n')
    made = records.batch(ctx, "material", [{"name": "a", "stock": -1}, {"name": "b", "stock": 2}])
    assert [records.get(ctx, "material", m["id"])["status"] for m in made] == ["negative", None]
    assert [(r["source"], r["outcome"]) for r in runs() if r["depth"] == 0] == [
        ("batch", "fired"),
        ("batch", "skipped"),
    ]


def test_a_rules_set_is_part_of_the_change_and_wakes_only_rules_that_read_it(platform, publish, records, ctx, runs):
    publish(
        "on material\n"
        'rule "watch" when created or updated if status == "neg" then flag red "neg"\n'  # runs before "mark"
        'rule "mark" when created or updated if stock < 0 then set status = "neg"\n'
        'rule "noted" when status changed then set priority = "high"\n'
        'rule "any" when created or updated then flag grey\n'
    )
    m = records.create(ctx, "material", {"name": "m", "stock": -1})
    assert (m["version"], m["status"], m["priority"]) == (1, "neg", "high")
    assert [(f["colour"], f["rule"]) for f in flags_of_record(platform, m["id"])] == [("red", "watch"), ("grey", "any")]
    assert [(r["rule"], r["outcome"], r["event"], r["depth"]) for r in runs()] == [
        ("watch", "skipped", "created", 0),
        ("mark", "fired", "created", 0),
        ("watch", "fired", "updated", 1),  # mark's set changed status, which watch reads
        ("noted", "fired", "updated", 1),  # a change trigger on it
        ("any", "fired", "created", 0),
    ]  # once, on the create: nothing it reads changed
    hist = records.history(ctx, "material", m["id"])
    assert [(a["action"], a["version"], a["source"], sorted(a["changes"])) for a in hist["audit"]][1:] == [
        ("update", 1, "rule", ["status"]),
        ("update", 1, "rule", ["priority"]),
    ]
    assert [v["version"] for v in hist["versions"]] == [1]
    assert hist["versions"][0]["data"]["priority"] == "high"
    # the next change is the next version; the rules' runs on it are part of it again
    assert records.update(ctx, "material", m["id"], {"name": "m2"}, version=1)["version"] == 2


def flags_of_record(platform, record_id):
    with platform.db.connect() as conn:
        return flags_of(conn, "material", record_id)
