"""The bench runs in --quick mode and all contenders agree (never asserts a speed)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_expr.py"


def test_bench_quick_agrees(capsys: Any) -> None:
    spec = importlib.util.spec_from_file_location("bench_expr", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    summary = module.main(["--quick"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last) == json.loads(json.dumps(summary))
    assert summary["bench"] == "expr" and len(summary["results"]) >= 8
    assert all(r["agree"] for r in summary["results"]), summary["results"]
