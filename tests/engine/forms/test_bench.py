"""The validation bench runs in --quick mode and every contender agrees (never asserts a speed)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_validation.py"


def test_bench_quick_agrees(capsys: Any) -> None:
    spec = importlib.util.spec_from_file_location("bench_validation", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    summary = module.main(["--quick"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last) == json.loads(json.dumps(summary))
    assert summary["bench"] == "validation"
    shape, checks = summary["results"]
    assert shape["agree"] and checks["agree"], summary
    assert shape["invalid"] > 0 and set(shape["peers"]) >= {"jsonschema", "fastjsonschema", "pydantic"}


def test_generated_validator_agrees_with_the_interpreter() -> None:
    spec = importlib.util.spec_from_file_location("bench_validation", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _, validator, _ = module.ours_validator()
    rows = validator.rows
    for payload in module.payloads(120) + [{"lines": "x"}, [], {"po_number": 5, "customer": {"code": ""}}]:
        for partial in (False, True):
            e1: dict[str, list[str]] = {}
            e2: dict[str, list[str]] = {}
            a = rows.run(payload, e1, "", partial=partial, locale="en")
            b = rows.interpret(payload, e2, "", partial=partial, locale="en")
            assert (a, e1) == (b, e2), payload
