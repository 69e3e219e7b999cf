"""The JavaScript back end under node, on the same cases.yaml as the Python and SQL back ends.

Every case whose expression can run in the browser is compiled to JavaScript, evaluated by one
``node`` process, and compared with the Python back end's answer and with ``expect``. Cases
that need the server (links, aggregates over other forms, old/changed) must raise NeedsServer.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine.expr import compile_expression
from engine.expr.jscompile import RUNTIME_JS, NeedsServer, to_js, tree_to_js
from engine.expr.types import ExprType as T

from .conftest import NOW, SCOPES
from .test_cases import CASES, IDS, convert

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")

#: more cases for what the browser must get exactly right (money, division, rounding)
EXTRA = [
    {"expr": "1 / 3", "record": {}, "expect": "0.3333333333333333333333333333"},
    {"expr": "total / 4", "record": {"total": "1.00"}, "expect": "0.25"},
    {"expr": "round(total * 1.13, 2)", "record": {"total": "99.99"}, "expect": "112.99"},
    {"expr": "round(-2.5)", "record": {}, "expect": "-3"},
    {
        "expr": "sum(lines.qty * lines.unit_price) * (1 - discount)",
        "record": {"discount": "0.05", "lines": [{"qty": 3, "unit_price": "19.99"}]},
        "expect": "56.9715",
    },
    {"expr": 'concat("共 ", total, " 元")', "record": {"total": "12.50"}, "expect": "共 12.50 元"},
    {"expr": "total - 0.1 == 0.2", "record": {"total": "0.3"}, "expect": True},
    {"expr": "qty * 1000000000000 * 1000000000", "record": {"qty": 9}, "expect": 9000000000000000000000},
]
ALL = CASES + EXTRA
ALL_IDS = IDS + [f"x{i}:{c['expr']}" for i, c in enumerate(EXTRA)]


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


def _out_kind(t: T) -> str:
    return {T.INTEGER: "n0", T.DATETIME: "dt", T.TIME: "tm"}.get(t, "")


CTX = {
    "user_id": 7,
    "username": "li",
    "roles": ["sales", "manager"],
    "customer_id": 1,
    "now": NOW.isoformat(),
    "timezone": "Asia/Shanghai",
}


def _compile(case: dict[str, Any]) -> tuple[Any, str | None]:
    ce = compile_expression(case["expr"], SCOPES["sales_order"])
    try:
        return ce, to_js(ce)
    except NeedsServer:
        return ce, None


@pytest.fixture(scope="module")
def js_results(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Any]:
    """Run every browser-able case in one node process; results by case index."""
    jobs = []
    for i, case in enumerate(ALL):
        ce, source = _compile(case)
        if source is None:
            continue
        record = convert("sales_order", case["record"])
        record.setdefault("id", 10_000)
        jobs.append({"i": i, "src": source, "record": _json(record), "kind": _out_kind(ce.type)})
    script = tmp_path_factory.mktemp("js") / "run.js"
    script.write_text(
        "const L = " + RUNTIME_JS + ";\n"
        "const jobs = " + json.dumps(jobs, ensure_ascii=False) + ";\n"
        "const ctx = " + json.dumps(CTX) + ";\n"
        "const out = {};\n"
        "for (const j of jobs) {\n"
        "  try { const f = eval(j.src); out[j.i] = {v: L.out(f(j.record, ctx), j.kind)}; }\n"
        "  catch (e) { out[j.i] = {error: String(e && e.stack || e)}; }\n"
        "}\n"
        "process.stdout.write(JSON.stringify(out));\n",
        encoding="utf-8",
    )
    done = subprocess.run([NODE or "node", str(script)], capture_output=True, text=True, timeout=60, check=True)
    return {int(k): v for k, v in json.loads(done.stdout).items()}


def same(js: Any, py: Any) -> bool:
    """A JavaScript result (JSON) equals a Python value (or a YAML expectation)."""
    if py is None or isinstance(py, bool):
        return js is py or js == py and type(js) is type(py)
    if isinstance(py, (int, Decimal, float)) or isinstance(py, str) and isinstance(js, str) and _num(js) and _num(py):
        return _num(js) is not None and Decimal(str(js)) == Decimal(str(py))
    if isinstance(py, dt.datetime):
        return dt.datetime.fromisoformat(str(js).replace("Z", "+00:00")) == py
    if isinstance(py, (dt.date, dt.time)):
        return str(js) == py.isoformat()
    if isinstance(py, dt.timedelta):
        return float(js) == py.total_seconds()
    return bool(js == _json(py))


def _num(x: Any) -> Decimal | None:
    try:
        return Decimal(str(x))
    except Exception:  # noqa: BLE001
        return None


@pytest.mark.parametrize("i", range(len(ALL)), ids=ALL_IDS)
def test_js_matches_python(i: int, js_results: dict[int, Any], ctx: Any) -> None:
    case = ALL[i]
    if i not in js_results:
        pytest.skip("needs the server (links, other forms, old/changed)")
    got = js_results[i]
    assert "error" not in got, f"{case['expr']}: {got.get('error')}"
    ce = compile_expression(case["expr"], SCOPES["sales_order"])
    record = convert("sales_order", case["record"])
    record.setdefault("id", 10_000)
    py = ce.evaluate(record, ctx)
    assert same(got["v"], py), f"{case['expr']}: JS {got['v']!r}, Python {py!r}\n{to_js(ce)}"
    assert same(got["v"], case["expect"]), f"{case['expr']}: JS {got['v']!r}, expected {case['expect']!r}"


SERVER_ONLY = [
    'customer.tier == "gold"',
    "count(sales_order where customer == this.customer)",
    "changed(status)",
    "old.stock > stock",
]


@pytest.mark.parametrize("expr", SERVER_ONLY)
def test_needs_the_server(expr: str) -> None:
    ce = compile_expression(expr, SCOPES["sales_order"])
    with pytest.raises(NeedsServer, match="server"):
        to_js(ce)


def test_most_cases_run_in_the_browser(js_results: dict[int, Any]) -> None:
    assert len(js_results) >= 0.8 * len(ALL)


def test_text_constants_are_escaped() -> None:
    ce = compile_expression('note == "</script><script>alert(1)</script>\\""', SCOPES["sales_order"])
    src = tree_to_js(ce.tree)
    assert src.startswith("(r, ctx) => ")
    assert "<" not in src and "</script>" not in src
    assert "\\u003c/script\\u003e" in src


def _random_cases(n: int = 300) -> list[dict[str, Any]]:
    """Seeded random money arithmetic: the browser must agree with Decimal digit for digit."""
    import random

    rnd = random.Random(20261122)
    ops = ["+", "-", "*", "/", "%"]
    out = []
    for _ in range(n):
        a = Decimal(rnd.randint(-(10**7), 10**7)).scaleb(-rnd.randint(0, 4))
        b = Decimal(rnd.randint(-(10**5), 10**5)).scaleb(-rnd.randint(0, 3))
        op = rnd.choice(ops)
        form = rnd.choice(
            [
                "total {op} discount",
                "round(total {op} discount, 2)",
                "total {op} discount > 0",
                "coalesce(total, 0) {op} qty",
                "total {op} discount == discount {op} total",
            ]
        )
        out.append(
            {"expr": form.format(op=op), "record": {"total": str(a), "discount": str(b), "qty": rnd.randint(-50, 50)}}
        )
    return out


def test_random_decimal_arithmetic_agrees_with_python(tmp_path: Path, ctx: Any) -> None:
    cases = _random_cases()
    jobs = []
    for i, case in enumerate(cases):
        ce = compile_expression(case["expr"], SCOPES["sales_order"])
        jobs.append({"i": i, "src": to_js(ce), "record": case["record"], "kind": _out_kind(ce.type)})
    script = tmp_path / "random.js"
    script.write_text(
        "const L = " + RUNTIME_JS + ";\nconst jobs = " + json.dumps(jobs) + ";\n"
        "process.stdout.write(JSON.stringify(jobs.map((j) => L.out(eval(j.src)(j.record, {}), j.kind))));\n",
        encoding="utf-8",
    )
    done = subprocess.run([NODE or "node", str(script)], capture_output=True, text=True, timeout=60, check=True)
    results = json.loads(done.stdout)
    for case, got in zip(cases, results):
        ce = compile_expression(case["expr"], SCOPES["sales_order"])
        py = ce.evaluate(convert("sales_order", case["record"]), ctx)
        assert same(got, py), f"{case}: JS {got!r}, Python {py!r}"
        if isinstance(py, Decimal) and got is not None:
            assert str(got) == str(py).replace("E+", "e+") or Decimal(got) == py and "E" in str(py), (case, got, py)
