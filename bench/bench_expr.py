"""Expression evaluation: ours (compiled closures) vs a hand-written lambda vs rule-engine and zen-engine.

    python bench/bench_expr.py [--quick]

Each case evaluates one business expression over generated records (200,000; 5,000 with
--quick). "limit" is a hand-written lambda with the same null handling. Peers get the same
records converted to what they accept (zen-engine: floats and ISO strings instead of Decimal
and date), measured on at most 20,000 records (their rate is per evaluation). All contenders
must agree on every record. The last line is one JSON object (see /work/shared/BENCH.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Optional

from _common import best_rate, machine  # noqa: E402  (bench/ is on the path: run as a script)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.context import FixedClock, RunContext  # noqa: E402
from engine.expr import FieldInfo, Scope, compile_expression  # noqa: E402
from engine.expr.types import ExprType as T  # noqa: E402

try:
    import rule_engine
except ImportError:  # pragma: no cover - optional peer
    rule_engine = None
try:
    import zen
except ImportError:  # pragma: no cover - optional peer
    zen = None

D = dt.date(2026, 12, 1)
SCOPE = Scope(
    "sales_order",
    {
        f.name: f
        for f in [
            FieldInfo("stock", T.INTEGER, ("库存",)),
            FieldInfo("safety_stock", T.INTEGER, ("安全库存",)),
            FieldInfo("status", T.STRING, ("状态",)),
            FieldInfo("total", T.DECIMAL, ("总额",)),
            FieldInfo("discount", T.DECIMAL),
            FieldInfo("qty", T.INTEGER),
            FieldInfo("due", T.DATE),
            FieldInfo("note", T.STRING),
            FieldInfo("tier", T.STRING),
            FieldInfo("tags", T.LIST),
        ]
    },
    "bench",
)

Lim = Callable[[Any, Any], Any]
# (case name = our expression, limit lambda, rule-engine text, zen-engine text)
CASES: list[tuple[str, Lim, Optional[str], Optional[str]]] = [
    (
        "stock < 20",
        lambda r, c: (v := r.get("stock")) is not None and v < 20,
        "stock != null and stock < 20",
        "stock != null and stock < 20",
    ),
    (
        'stock < safety_stock and status == "approved"',
        lambda r, c: (
            (a := r.get("stock")) is not None
            and (b := r.get("safety_stock")) is not None
            and a < b
            and r.get("status") == "approved"
        ),
        'stock != null and safety_stock != null and stock < safety_stock and status == "approved"',
        'stock != null and safety_stock != null and stock < safety_stock and status == "approved"',
    ),
    (
        "total * qty > 1000.005",
        lambda r, c: (t := r.get("total")) is not None and (q := r.get("qty")) is not None and t * q > _K1000,
        "total != null and qty != null and total * qty > 1000.005",
        "total != null and qty != null and total * qty > 1000.005",
    ),
    (
        'status in ["approved", "shipped"]',
        lambda r, c: r.get("status") in _STATUSES,
        'status in ["approved", "shipped"]',
        'status in ["approved", "shipped"]',
    ),
    (
        'lower(note) contains "urgent"',
        lambda r, c: (n := r.get("note")) is not None and "urgent" in n.lower(),
        'note != null and "urgent" in note.as_lower',
        'note != null and contains(lower(note), "urgent")',
    ),
    (
        "due < 2026-12-01",
        lambda r, c: (d := r.get("due")) is not None and d < D,
        'due != null and due < d"2026-12-01"',
        'due != null and date(due) < date("2026-12-01")',
    ),
    (
        'total - discount >= 100.005 or tier == "gold"',
        lambda r, c: (
            ((t := r.get("total")) is not None and (d := r.get("discount")) is not None and t - d >= _K100)
            or r.get("tier") == "gold"
        ),
        '(total != null and discount != null and total - discount >= 100.005) or tier == "gold"',
        '(total != null and discount != null and total - discount >= 100.005) or tier == "gold"',
    ),
    (
        '"vip" in tags and not (status in ["cancelled"])',
        lambda r, c: "vip" in (r.get("tags") or ()) and r.get("status") not in _CANCELLED,
        'tags != null and "vip" in tags and not (status in ["cancelled"])',
        'tags != null and "vip" in tags and not (status in ["cancelled"])',
    ),
    (
        '库存 < 安全库存 or 状态 startswith "ap"',
        lambda r, c: (
            ((a := r.get("stock")) is not None and (b := r.get("safety_stock")) is not None and a < b)
            or ((s := r.get("status")) is not None and s.startswith("ap"))
        ),
        '(stock != null and safety_stock != null and stock < safety_stock) or (status != null and status =~ "^ap")',
        '(stock != null and safety_stock != null and stock < safety_stock) or (status != null and startsWith(status, "ap"))',
    ),
    (
        "if(qty > 10, total * 0.9, total) > 500.005",
        lambda r, c: (
            (
                v := (
                    (t * _K09 if (t := r.get("total")) is not None else None)
                    if ((q := r.get("qty")) is not None and q > 10)
                    else r.get("total")
                )
            )
            is not None
            and v > _K500
        ),
        None,
        None,
    ),
]
_K1000, _K100, _K500, _K09 = Decimal("1000.005"), Decimal("100.005"), Decimal("500.005"), Decimal("0.9")
_STATUSES, _CANCELLED = frozenset({"approved", "shipped"}), frozenset({"cancelled"})


def records(n: int, seed: int = 42) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    statuses = ["draft", "approved", "shipped", "cancelled", "approved"]
    notes = ["", "Urgent please", "call first", "very URGENT", "ok", "normal"]
    out = []
    for _ in range(n):
        r: dict[str, Any] = {
            "stock": rnd.randint(0, 60),
            "safety_stock": rnd.randint(5, 40),
            "status": rnd.choice(statuses),
            "total": Decimal(rnd.randint(0, 200_000)) / 100,
            "discount": Decimal(rnd.randint(0, 5000)) / 100,
            "qty": rnd.randint(1, 30),
            "due": dt.date(2026, 10, 1) + dt.timedelta(days=rnd.randint(0, 120)),
            "note": rnd.choice(notes),
            "tier": rnd.choice(["gold", "silver", "bronze"]),
            "tags": rnd.sample(["vip", "new", "export", "b2b"], rnd.randint(0, 2)),
        }
        for key in list(r):
            if rnd.random() < 0.05:
                r[key] = None  # nulls, like real data
        out.append(r)
    return out


def for_zen(r: dict[str, Any]) -> dict[str, Any]:
    return {
        k: float(v) if isinstance(v, Decimal) else v.isoformat() if isinstance(v, dt.date) else v for k, v in r.items()
    }


def main(argv: Optional[list[str]] = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5,000 records instead of 200,000")
    args = ap.parse_args(argv)
    n = 5_000 if args.quick else 200_000
    recs = records(n)
    peer_recs = recs[: min(n, 2_000 if args.quick else 20_000)]
    zen_recs = [for_zen(r) for r in peer_recs]
    ctx = RunContext(user_id=1, clock=FixedClock())
    notes = []
    if rule_engine is None:
        notes.append("rule-engine not importable: skipped (pip install rule-engine)")
    if zen is None:
        notes.append("zen-engine not importable: skipped (pip install zen-engine)")
    results = []
    print(f"{'case':58} {'ours/s':>12} {'lambda/s':>12} {'ours/lim':>9} {'rule-engine/s':>14} {'zen/s':>12} agree")
    for source, limit, re_text, zen_text in CASES:
        ce = compile_expression(source, SCOPE)
        ours, got = best_rate(ce.evaluate, recs, ctx)
        lim, expected = best_rate(limit, recs, ctx)
        agree = got == expected and all(type(g) is type(e) for g, e in zip(got, expected))
        peers: dict[str, float] = {}
        if rule_engine is not None and re_text:
            rule = rule_engine.Rule(re_text)
            rate, out = best_rate(lambda r, c: rule.matches(r), peer_recs, ctx)
            peers["rule-engine"] = rate
            agree = agree and out == expected[: len(peer_recs)]
        if zen is not None and zen_text:
            compiled = zen.compile_expression(zen_text)
            rate, out = best_rate(lambda r, c: compiled.evaluate(r), zen_recs, ctx)
            peers["zen-engine"] = rate
            agree = agree and out == expected[: len(peer_recs)]
        print(
            f"{source[:58]:58} {ours:12.0f} {lim:12.0f} {lim / ours:9.2f} "
            f"{peers.get('rule-engine', 0):14.0f} {peers.get('zen-engine', 0):12.0f} {agree}"
        )
        results.append(
            {
                "case": source,
                "unit": "eval/s",
                "ours": round(ours),
                "limit": round(lim),
                "peers": {k: round(v) for k, v in peers.items()},
                "agree": agree,
                "ratio_limit_over_ours": round(lim / ours, 3),
            }
        )
    for note in notes:
        print("note:", note)
    summary = {
        "bench": "expr",
        "machine": machine(),
        "records": n,
        "peer_records": len(peer_recs),
        "notes": notes,
        "results": results,
    }
    print(json.dumps(summary, ensure_ascii=False))
    return summary


if __name__ == "__main__":
    main()
