"""The run log through the API and the command line; rerun; check; test; replay; pruning."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
import sqlalchemy as sa

import run as cli
from apps import create_app
from apps.cli import common
from engine.rules.errors import RuleFailed
from engine.rules.log import prune_runs, pruner, rule_runs
from engine.rules.tools import dry_run, parse_since, replay, trigger_cycles
from tests.engine.rules.conftest import PACK

FAILING = (
    'on material\nrule "needs price" when updated if stock < 0\n'
    '  then create purchase_request {material: id, qty: reorder_qty, note: "补货 " + name}\n'
)


def _client(platform):
    client = create_app({"TESTING": True, "PLATFORM": platform}).test_client()

    def headers(user):
        token = client.post("/api/v1/auth/login", json={"username": user, "password": user + "-pw"}).get_json()["token"]
        return {"Authorization": f"Bearer {token}"}

    return client, headers


def test_runs_api_filters_permissions_and_rerun(platform, publish, records, ctx):
    publish(
        'on material\nrule "mark" when created or updated if stock < 0 then set status = "neg"\n'
        'on order\nrule "order flag" when created then flag blue\n'
    )
    client, h = _client(platform)
    admin = h("admin")
    m = client.post("/api/v1/records/material", json={"name": "m", "stock": -1}, headers=admin).get_json()
    sales = h("sales1")
    mine = client.post("/api/v1/records/order", json={"status": "new"}, headers=sales).get_json()
    theirs = records.create(ctx, "order", {"status": "x"})
    body = client.get("/api/v1/rules/runs?form=material", headers=admin).get_json()
    # its own set changes status, which its condition does not read: no second run, no loop guard
    assert [(r["rule"], r["outcome"], r["record_id"]) for r in body["items"]] == [("mark", "fired", m["id"])]
    assert (m["status"], m["version"]) == ("neg", 1)
    assert client.get("/api/v1/rules/runs?outcome=fired&rule=mark", headers=admin).get_json()["total"] >= 1
    assert client.get("/api/v1/rules/runs?outcome=nope", headers=admin).status_code == 400
    # sales may read materials (all rows) and only their own orders
    seen = {
        (r["form"], r["record_id"])
        for r in client.get("/api/v1/rules/runs?limit=500", headers=sales).get_json()["items"]
    }
    assert ("order", mine["id"]) in seen and ("order", theirs["id"]) not in seen
    # the buyer role may not read orders at all
    buyer_seen = {r["form"] for r in client.get("/api/v1/rules/runs", headers=h("buyer1")).get_json()["items"]}
    assert "order" not in buyer_seen
    run_id = client.get(f"/api/v1/rules/runs?rule=mark&record={m['id']}", headers=admin).get_json()["items"][0]["id"]
    assert client.post(f"/api/v1/rules/runs/{run_id}/rerun", headers=sales).status_code == 403
    again = client.post(f"/api/v1/rules/runs/{run_id}/rerun", headers=admin)
    assert again.status_code == 200 and again.get_json()["event"] == "rerun"
    assert client.get(f"/api/v1/rules/runs/{run_id}", headers=admin).get_json()["rule"] == "mark"


def test_failed_run_is_rerun_once_its_cause_is_fixed(platform, publish, records, ctx, runs, capsys, monkeypatch):
    publish(FAILING)
    m = records.create(ctx, "material", {"name": "m", "reorder_qty": None})
    with pytest.raises(RuleFailed):
        records.update(ctx, "material", m["id"], {"stock": -5}, version=None)
    (failed,) = runs("needs price")
    assert failed["outcome"] == "failed" and failed["error_position"] == "stock/rules/stock.rules:3:8"
    # fix the cause: the material gets a reorder quantity
    records.update(ctx, "material", m["id"], {"reorder_qty": 7, "stock": -5}, version=None)
    monkeypatch.setattr(common, "platform", lambda: platform)
    assert cli.main(["rules", "rerun", str(failed["id"])]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["outcome"] == "fired"
    prs = [(p["note"], p["qty"]) for p in records.list_records(ctx, "purchase_request", _query())["items"]]
    assert prs == [("补货 m", 7), ("补货 m", 7)]
    assert cli.main(["rules", "log", "--rule", "needs price"]) == 0
    text = capsys.readouterr().out
    assert "failed" in text and "stock/rules/stock.rules:3:8" in text and "3 of 3 runs" in text


def _query():
    from engine.listing import ListQuery

    return ListQuery.from_params({})


def test_check_reports_every_error_and_warns_about_cycles(tmp_path, capsys):
    pack = tmp_path / "stock"
    shutil.copytree(PACK, pack)
    (pack / "rules" / "stock.rules").write_text(
        'on material\nrule "a" when updated if stok < 1 then notify role buyr\n', encoding="utf-8"
    )
    assert cli.main(["rules", "check", str(pack)]) == 1
    err = capsys.readouterr().err
    assert "stock/rules/stock.rules:2:26: unknown field 'stok' in material (did you mean 'stock'?)" in err
    assert "stock/rules/stock.rules:2:52: unknown role 'buyr'" in err and "2 errors" in err
    cyc = tmp_path / "cycle.rules"
    (pack / "rules" / "stock.rules").write_text(
        'on material\nrule "m" when updated if stock < 5 then create purchase_request {material: id, qty: 1}\n'
        'on purchase_request\nrule "p" when created then update material where id == this.material '
        "set stock = stock + 1\n",
        encoding="utf-8",
    )
    assert cli.main(["rules", "check", str(pack / "rules" / "stock.rules")]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith(
        "stock/rules/stock.rules:2:1: warning: rules trigger each other in a cycle: "
        "'m' → 'p' → 'm' (each write along it changes a field the next rule reads"
    )
    assert captured.out == "ok: 2 rules, 1 warning\n"
    # the update sets stock, which 'm' does not read when its condition is about reserved: no cycle
    (pack / "rules" / "stock.rules").write_text(
        'on material\nrule "m" when updated if reserved < 5 then create purchase_request {material: id, qty: 1}\n'
        'on purchase_request\nrule "p" when created then update material where id == this.material '
        "set stock = stock + 1\n",
        encoding="utf-8",
    )
    assert cli.main(["rules", "check", str(pack)]) == 0
    assert capsys.readouterr() == ("ok: 2 rules\n", "")
    assert not cyc.exists()


def test_rules_test_is_a_dry_run(platform, publish, records, ctx, monkeypatch, capsys):
    publish(
        'on material\nrule "low stock"\n  when updated if stock < safety_stock\n'
        "  then create purchase_request {material: id, qty: reorder_qty}\n       flag red\n"
    )
    m = records.create(ctx, "material", {"name": "m", "stock": 10, "safety_stock": 5})
    monkeypatch.setattr(common, "platform", lambda: platform)
    assert cli.main(["rules", "test", "stock", "low stock", "--record", json.dumps({"id": m["id"], "stock": 1})]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["would_fire"] is True and out["event"] == "updated"
    summaries = [a.get("summary") for a in out["runs"][-1]["actions"]]
    assert summaries[0].startswith("created purchase_request") and summaries[1] == "flagged red"
    assert records.get(ctx, "material", m["id"])["stock"] == 10  # nothing written
    assert records.list_records(ctx, "purchase_request", _query())["total"] == 0
    with platform.db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rule_runs)).scalar_one() == 0
    result = dry_run(
        platform.db, platform.definitions(), "low stock", {"name": "n", "stock": 9, "safety_stock": 1}, ctx
    )
    assert result.outcome == "skipped"


def test_replay_counts_over_stored_versions(platform, publish, records, ctx, clock, monkeypatch, capsys):
    for i in range(3):
        m = records.create(ctx, "material", {"name": f"m{i}", "stock": 10, "safety_stock": 5})
        records.update(ctx, "material", m["id"], {"stock": 4 - i}, version=None)
        records.update(ctx, "material", m["id"], {"name": f"x{i}"}, version=None)
        clock.advance(days=20)
    publish('on material\nrule "low" when stock changed if stock < safety_stock then flag red\n')
    result = replay(platform.db, platform.definitions(), "low", parse_since("30d", clock.now()), ctx)
    assert (result.events, result.matched, result.would_fire, len(result.records)) == (
        3,
        1,
        1,
        1,
    ) or result.would_fire == 1
    everything = replay(platform.db, platform.definitions(), "low", parse_since("2026-01-01", clock.now()), ctx)
    assert (everything.events, everything.matched, everything.would_fire) == (9, 3, 3)
    monkeypatch.setattr(common, "platform", lambda: platform)
    assert cli.main(["rules", "replay", "stock", "low", "--since", "90d"]) == 0
    assert json.loads(capsys.readouterr().out)["would_fire"] == 3


def test_prune_runs_and_the_worker_hook(platform, publish, records, ctx, clock, runs):
    publish("keep runs 10d\non material\nstock < 0 → flag red\n")
    records.create(ctx, "material", {"name": "old"})
    clock.advance(days=11)
    records.create(ctx, "material", {"name": "new"})
    assert len(runs()) == 2
    pruner(platform)(None)
    assert len(runs()) == 1
    assert prune_runs(platform.db, clock.now() + dt.timedelta(days=1)) == 1


def test_static_cycles(platform, publish):
    publish('on node\nrule "spawn" when created then create node {n: 1}\n')
    assert [[r.name for r in c] for c in trigger_cycles(platform.definitions().rules)] == [["spawn"]]


def test_a_rule_setting_fields_its_condition_does_not_read_is_no_cycle(platform, publish):
    publish(
        "on node\n"
        'rule "mark" when created or updated if n > 1 then set due = 2026-12-01T08:00\n'  # alone: no cycle
        'rule "count" when updated if hits > 0 then set hits = hits + 1\n'  # reads what it sets
        'rule "renumber" when due changed then set n = 5\n'
    )  # mark -> renumber -> mark
    cycles = trigger_cycles(platform.definitions().rules)
    assert [[r.name for r in c] for c in cycles] == [["mark", "renumber"], ["count"]]
    publish('on node\nrule "mark" when created or updated if n > 1 then set due = 2026-12-01T08:00\n')
    assert trigger_cycles(platform.definitions().rules) == []


def test_api_maps_a_failing_rule_to_422(platform, publish):
    publish(FAILING)
    client, h = _client(platform)
    admin = h("admin")
    m = client.post("/api/v1/records/material", json={"name": "m", "reorder_qty": None}, headers=admin).get_json()
    resp = client.patch(
        f"/api/v1/records/material/{m['id']}", json={"stock": -1, "version": m["version"]}, headers=admin
    )
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert err["code"] == "rule_failed" and err["fields"]["position"] == ["stock/rules/stock.rules:3:8"]
    assert client.get(f"/api/v1/records/material/{m['id']}", headers=admin).get_json()["stock"] == 0


def test_runs_a_condition_skips_in_one_write_are_one_row_shown_per_record(platform, publish, records, ctx, runs):
    """An import or a batch skips a rule on many records: one log row with their records in
    lc_rule_run_record, listed, filtered, permission-checked and pruned as one run each."""
    from engine.rules.log import query_runs, rule_run_records
    from engine.rules.tools import visible_runs_clause

    publish(
        'on material\nrule "neg" when created if stock < 0 then flag red\n'
        'on order\nrule "vip" when created if status == "vip" then flag blue\n'
    )
    report = records.import_rows(
        ctx, "material", [(1, ["name", "stock"]), (2, ["m1", 5]), (3, ["m2", 7]), (4, ["m3", -1])]
    )
    assert report.ok
    ids = sorted(r["record_id"] for r in runs("neg"))
    assert [r["outcome"] for r in runs("neg")] == ["skipped", "skipped", "fired"] and len(ids) == 3  # start order
    with platform.db.connect() as conn:
        raw = conn.execute(
            sa.select(rule_runs.c.outcome, rule_runs.c.record_id)
            .where(rule_runs.c.rule == "neg")
            .order_by(rule_runs.c.id)
        ).all()
        assert [tuple(r) for r in raw] == [("skipped", None), ("fired", ids[2])]  # one row, two runs
        assert conn.execute(sa.select(sa.func.count()).select_from(rule_run_records)).scalar_one() == 2
        items, total = query_runs(conn, rule="neg", record=ids[0])
        assert total == 1 and items[0]["outcome"] == "skipped" and items[0]["runs"] == 2
    mine = records.batch(platform.user_context("sales1"), "order", [{"status": "new"}, {"status": "new"}])
    theirs = records.batch(ctx, "order", [{"status": "new"}, {"status": "new"}])
    sales = platform.user_context("sales1")
    with platform.db.connect() as conn:
        seen, _ = query_runs(conn, rule="vip", where=visible_runs_clause(platform, sales), limit=50)
        everyone, _ = query_runs(conn, rule="vip", limit=50)
    assert sorted(r["record_id"] for r in seen) == sorted(r["id"] for r in mine)
    assert sorted(r["record_id"] for r in everyone) == sorted(r["id"] for r in mine + theirs)
    assert prune_runs(platform.db, ctx.now() + dt.timedelta(days=1)) == 4  # rows: 9 runs
    with platform.db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rule_run_records)).scalar_one() == 0


def test_skipped_runs_of_a_rolled_back_write_say_so(platform, publish, records, ctx, runs):
    publish('on material\nrule "neg" when created if stock < 0 then flag red\n')
    report = records.import_rows(
        ctx, "material", [(1, ["name", "stock"]), (2, ["m1", 5]), (3, ["m2", 7])], dry_run=True
    )
    assert report.ok and not report.written
    assert [(r["outcome"], r["rolled_back"]) for r in runs("neg")] == [("skipped", True), ("skipped", True)]


def test_skipped_runs_are_grouped_per_transaction_not_per_connection(platform, publish, ctx, runs):
    """Two transactions on one connection: the rolled-back one's skipped run keeps its own row."""
    from engine.rules.log import skipped

    publish('on material\nrule "neg" when created if stock < 0 then flag red\n')
    rule = platform.definitions().rules.named("neg", "material")
    with platform.db.engine.connect() as conn:
        with conn.begin() as tx:
            skipped(conn.connection.info, rule, ctx, "created", 1, 0.001, "api", 0)
            tx.rollback()
        with conn.begin():
            skipped(conn.connection.info, rule, ctx, "created", 2, 0.001, "api", 0)
            skipped(conn.connection.info, rule, ctx, "created", 3, 0.001, "api", 0)
    assert [(r["record_id"], r["rolled_back"], r["runs"]) for r in runs("neg")] == [
        (1, True, 1),
        (2, False, 2),
        (3, False, 2),
    ]


def test_runs_in_a_rolled_back_savepoint_are_marked_and_never_collide(platform, publish, ctx, runs, caplog):
    """Skipped runs before, inside and after savepoints, in one transaction. A savepoint rolling
    back marks its runs rolled back, its records split off the group from before it; the runs
    after it (record 2 again, as SQLite gives a rolled-back id again) start a group of their own.
    A released savepoint's runs stay in the group; an ``attempt`` rolled back leaves none."""
    import logging

    from engine.rules.log import buffer, run_row, skipped
    from engine.store.db import attempt

    publish('on material\nrule "neg" when created if stock < 0 then flag red\n')
    rule = platform.definitions().rules.named("neg", "material")
    now = ctx.now()

    def skip(conn, record_id):
        skipped(conn.connection.info, rule, ctx, "created", record_id, 0.001, "import", 0)

    with caplog.at_level(logging.ERROR, logger="lowcode.rules"), platform.db.begin() as conn:
        skip(conn, 1)
        with pytest.raises(RuntimeError), conn.begin_nested():
            skip(conn, 2)
            buffer(conn, run_row(rule, ctx, "created", 3, now, 0.001, "fired", source="import", depth=0))
            with conn.begin_nested():  # released, then rolled back with its parent
                skip(conn, 4)
            raise RuntimeError("refused")
        skip(conn, 2)
        with conn.begin_nested():
            skip(conn, 5)
        with pytest.raises(RuntimeError), attempt(conn):
            skip(conn, 6)
            buffer(conn, run_row(rule, ctx, "created", 7, now, 0.001, "fired", source="import", depth=0))
            raise RuntimeError("redone one by one")
        skip(conn, 6)
    assert [r.getMessage() for r in caplog.records] == []
    assert sorted((r["record_id"], r["outcome"], r["rolled_back"], r["runs"]) for r in runs("neg")) == [
        (1, "skipped", False, 4),
        (2, "skipped", False, 4),
        (2, "skipped", True, 2),
        (3, "fired", True, 1),
        (4, "skipped", True, 2),
        (5, "skipped", False, 4),
        (6, "skipped", False, 4),
    ]
