"""``run.py flows check`` and ``run.py flows draw``, as a user runs them (SQLite and PostgreSQL)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.engine.flows.conftest import OMS


def test_flows_check_ok_and_errors_in_both_languages(cli: Any, tmp_path: Path) -> None:
    assert cli("flows", "check", str(OMS))[:2] == (0, "ok: 2 flows (order_approval, order_lifecycle)\n")
    broken = tmp_path / "oms"
    shutil.copytree(OMS, broken)
    path = broken / "flows" / "order_approval.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{role: vip}", "{role: vipp}"), encoding="utf-8")
    code, out, err = cli("flows", "check", str(broken))
    assert code == 1 and out == ""
    assert err == (
        f"{broken}/flows/order_approval.yaml:27:22: unknown role 'vipp' (did you mean 'vip'?)\n"
        "        assignee: {role: vipp}\n"
        "    " + " " * 21 + "^\n"
        f"1 error in {broken}\n"
    )
    code, _, err = cli("flows", "check", str(broken), "--lang", "zh-CN")
    assert err.splitlines()[0] == f"{broken}/flows/order_approval.yaml:27:22: 未知角色 'vipp' (did you mean 'vip'?)"
    # run.py check (and publish) report the same error
    code, _, err = cli("check", str(broken))
    assert code == 1 and "order_approval.yaml:27:22: unknown role 'vipp'" in err
    code, _, err = cli("migrate", str(broken))  # publishing refuses it, nothing is installed
    assert code == 1 and "order_approval.yaml:27:22: unknown role 'vipp'" in err


def test_flows_draw_from_a_folder_and_from_the_published_pack(cli: Any, tmp_path: Path) -> None:
    code, out, _ = cli("flows", "draw", "order_approval", "--pack", str(OMS), "--mermaid")
    assert code == 0 and out.startswith("flowchart LR\n") and '-->|"金额超过 5 万"| n_director' in out
    target = tmp_path / "approval.svg"
    code, out, _ = cli("flows", "draw", "order_lifecycle", "--pack", str(OMS), "-o", str(target), "--lang", "en")
    assert (code, out) == (0, f"wrote {target}\n")
    assert target.read_text(encoding="utf-8").startswith("<svg ") and "Pending review" in target.read_text()
    assert cli("migrate", str(OMS))[0] == 0
    code, out, _ = cli("flows", "draw", "order_lifecycle", "--path", "start,pending", "--current", "pending")
    assert code == 0 and 'class="node state current" data-node="pending"' in out
    code, _, err = cli("flows", "draw", "order_aproval")
    assert code == 1 and err == "error: no flow named 'order_aproval' (did you mean 'order_approval'?)\n"
