"""Every bench in bench/ runs in --quick mode and its contenders agree (never a speed).

A bench whose contenders give different answers is a bug, not a result (../BENCH.md).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
if str(BENCH) not in sys.path:  # as when a bench runs as a script: its folder is on the path
    sys.path.insert(0, str(BENCH))


def load_bench(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _expr(s: dict[str, Any]) -> None:
    assert len(s["results"]) >= 8


def _decision(s: dict[str, Any]) -> None:
    assert len(s["results"]) == 2


def _validation(s: dict[str, Any]) -> None:
    shape = s["results"][0]
    assert shape["invalid"] > 0 and set(shape["peers"]) >= {"jsonschema", "fastjsonschema", "pydantic"}


def _rules(s: dict[str, Any]) -> None:
    cases = [r["case"] for r in s["results"]]
    assert sum(c.startswith("rule: ") for c in cases) >= 8
    assert any(c.startswith("dispatch update, 1000 rules") for c in cases)


def _import(s: dict[str, Any]) -> None:
    rate = s["results"][0]
    assert rate["rows"] == {"ours": 600, "limit": 600} and rate["events"] == 600


def _export(s: dict[str, Any]) -> None:
    cases = {r["case"]: r for r in s["results"]}
    assert set(cases) == {"xlsx 300 rows", "csv 300 rows", "xlsx 1500 rows", "csv 1500 rows"}
    assert cases["csv 1500 rows"]["rows"] == {"ours": 1500, "limit": 1500}


def _http(s: dict[str, Any]) -> None:
    case = s["results"][0]
    posted = 5 + 1 + 10 * 2  # warm-up, the counted request, --orders 10 --repeat 2
    assert case["rows"]["ours"] == case["rows"]["limit"] == {"orders": posted, "lines": posted * 10}
    assert case["statements"]["ours"] <= 12 + 4  # issue 17's 12, plus the order approval flow's start (issue 18)


#: bench -> (arguments for a quick run, what else its summary must show)
BENCHES: dict[str, tuple[list[str], Callable[[dict[str, Any]], None]]] = {
    "bench_expr": (["--quick"], _expr),
    "bench_decision": (["--quick"], _decision),
    "bench_validation": (["--quick"], _validation),
    "bench_rules": (["--quick"], _rules),
    "bench_import": (["--quick", "--repeat", "1", "--rows", "600"], _import),
    "bench_export": (["--quick", "--repeat", "1", "--rows", "1500", "--small", "300"], _export),
    "bench_http": (["--quick", "--orders", "10", "--repeat", "2"], _http),
}


def test_every_bench_is_listed() -> None:
    assert {p.stem for p in BENCH.glob("bench_*.py")} == set(BENCHES)


@pytest.mark.parametrize("name", sorted(BENCHES))
def test_bench_quick_agrees(name: str, capsys: Any) -> None:
    argv, more = BENCHES[name]
    summary = load_bench(name).main(argv)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last) == json.loads(json.dumps(summary, ensure_ascii=False))
    assert summary["bench"] == name.removeprefix("bench_")
    assert all(r["agree"] for r in summary["results"]), summary["results"]
    more(summary)


def test_generated_validator_agrees_with_the_interpreter() -> None:
    module = load_bench("bench_validation")
    _, validator, _ = module.ours_validator()
    rows = validator.rows
    for payload in module.payloads(120) + [{"lines": "x"}, [], {"po_number": 5, "customer": {"code": ""}}]:
        for partial in (False, True):
            e1: dict[str, list[str]] = {}
            e2: dict[str, list[str]] = {}
            a = rows.run(payload, e1, "", partial=partial, locale="en")
            b = rows.interpret(payload, e2, "", partial=partial, locale="en")
            assert (a, e1) == (b, e2), payload
