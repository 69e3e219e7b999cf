"""bench_rules runs in --quick mode and every contender agrees (never asserts a speed)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_rules.py"


def test_bench_rules_quick_agrees(capsys: Any) -> None:
    spec = importlib.util.spec_from_file_location("bench_rules", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    summary = module.main(["--quick"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last) == json.loads(json.dumps(summary))
    assert summary["bench"] == "rules"
    cases = [r["case"] for r in summary["results"]]
    assert sum(c.startswith("rule: ") for c in cases) >= 8
    assert any(c.startswith("dispatch update, 1000 rules") for c in cases)
    assert all(r["agree"] for r in summary["results"]), summary["results"]
