"""``run.py flows simulate FLOW --record JSON`` on a real database: the path a claim would take,
which edge the gateway takes and who each task would go to, and nothing written."""

from __future__ import annotations

import json
import shutil
from typing import Any

import sqlalchemy as sa

from engine.flows.tables import instances, tasks
from tests.api.flowpack import FLOW, PACK, approvals_platform


def _rows(platform: Any) -> tuple[int, int, int]:
    with platform.db.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (instances, tasks, platform.definitions().tables.table("expense"))
        )


def test_simulate_shows_the_edge_and_the_assignees_without_writing(db_url: str, cli: Any) -> None:
    platform = approvals_platform(db_url)
    before = _rows(platform)
    code, out, err = cli("flows", "simulate", FLOW, "--record", '{"title": "服务器", "amount": "25000"}', "--json")
    assert code == 0, err
    sim = json.loads(out)
    assert sim["end"] == "completed" and sim["error"] is None and sim["starts_on_create"] is True
    assert [s["node"] for s in sim["steps"]] == ["start", "manager", "route", "director", "finance", "done"]
    steps = {s["node"]: s for s in sim["steps"]}
    assert steps["route"]["edges"] == [
        {"to": "director", "condition": "amount > 10000", "default": False, "label": "大额"}
    ]
    assert steps["manager"]["assignees"] == ["mgr1", "mgr2"]
    assert steps["director"]["assignees"] == ["dir1"] and steps["finance"]["assignees"] == ["fin1"]

    code, out, err = cli("flows", "simulate", FLOW, "--record", '{"title": "打车", "amount": "80"}')
    assert code == 0, err
    assert "edge to finance (default)" in out and "director" not in out.split("edge to finance")[1]
    assert out.strip().endswith("end: completed")
    code, out, _ = cli("flows", "simulate", FLOW, "--record", '{"title": "零", "amount": "0"}')
    assert code == 0 and "(started by hand)" in out  # start.if: amount > 0
    assert _rows(platform) == before  # nothing written

    code, _, err = cli("flows", "simulate", "nope", "--record", "{}")
    assert code == 1 and "no flow named 'nope' (flows: expense_approval)" in err
    code, _, err = cli("flows", "simulate", FLOW, "--record", "[1]")
    assert code != 0 and "JSON object" in err
    platform.db.dispose()


def test_replay_reports_the_instances_a_draft_would_route_otherwise(db_url: str, cli: Any, tmp_path: Any) -> None:
    from engine.service import Records

    platform = approvals_platform(db_url)
    ctx = platform.user_context("staff1")
    small = Records(platform).create(ctx, "expense", {"title": "打车", "amount": "800"})["id"]
    Records(platform).create(ctx, "expense", {"title": "服务器", "amount": "25000"})
    draft = tmp_path / "draft"
    shutil.copytree(PACK, draft)
    flow_file = draft / "flows" / "expense_approval.yaml"
    flow_file.write_text(flow_file.read_text(encoding="utf-8").replace("amount > 10000", "amount > 500"), "utf-8")
    before = _rows(platform)
    code, out, err = cli("flows", "replay", FLOW, "--revision", "draft", "--pack", str(draft), "--since", "2026-11-01")
    assert code == 0, err
    report = json.loads(out)
    assert report["instances"] == 2 and report["same"] == 1
    [changed] = report["different"]
    assert changed["record_id"] == small
    assert changed["path"] == ["start", "manager", "route", "finance", "done"]
    assert changed["draft_path"] == ["start", "manager", "route", "director", "finance", "done"]
    assert changed["parts_at"] == 3
    code, out, _ = cli("flows", "replay", FLOW, "--revision", "draft", "--pack", PACK, "--since", "2026-11-01")
    assert code == 0 and json.loads(out)["different"] == []  # the published flow itself: no difference
    code, out, _ = cli("flows", "replay", FLOW, "--revision", "draft", "--pack", str(draft), "--since", "2026-12-01")
    assert json.loads(out)["instances"] == 0
    assert _rows(platform) == before
    platform.db.dispose()
