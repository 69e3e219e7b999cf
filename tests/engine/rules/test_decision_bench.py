"""The decision-table bench runs in --quick mode and all contenders agree (never asserts a speed)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_decision.py"


def test_bench_quick_agrees(capsys: Any) -> None:
    spec = importlib.util.spec_from_file_location("bench_decision", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    summary = module.main(["--quick"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last) == json.loads(json.dumps(summary, ensure_ascii=False))
    assert summary["bench"] == "decision" and len(summary["results"]) == 2
    assert all(r["agree"] for r in summary["results"]), summary["results"]
