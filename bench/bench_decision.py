"""Decision tables: ours (one generated if/elif function) vs a hand-written if/elif vs zen-engine's JDM table.

    python bench/bench_decision.py [--quick]

The approval route (amount, customer tier, channel -> route; hit policy first) and the same
rows under hit policy collect, over generated sales orders (200,000; 5,000 with --quick).
"limit" is hand-written Python with the same null handling returning the same constant
mappings. zen-engine evaluates a JDM graph (input -> decisionTableNode -> output) through
``ZenEngine().create_decision(content).evaluate(input)`` on records converted to what it
accepts (floats for Decimal), on at most 20,000 records (its rate is per evaluation). All
contenders must agree on every record. Ours and the limit are timed alternately, best of 5. The last line is one JSON object (/work/shared/BENCH.md).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Optional

from _common import best_rate, machine  # noqa: E402  (bench/ is on the path: run as a script)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.context import FixedClock, RunContext  # noqa: E402
from engine.expr import FieldInfo, Scope  # noqa: E402
from engine.expr.types import ExprType as T  # noqa: E402
from engine.rules.decision import compile_decision_table  # noqa: E402

try:
    import zen
except ImportError:  # pragma: no cover - optional peer
    zen = None

SCOPE = Scope(
    "sales_order",
    {
        f.name: f
        for f in [
            FieldInfo("amount", T.DECIMAL, ("金额",)),
            FieldInfo("tier", T.STRING, ("客户等级",)),
            FieldInfo("channel", T.STRING, ("渠道",)),
        ]
    },
    "bench",
)
# (tier, amount, channel, route): the table written once, turned into ours and zen's
ROWS = [
    ("A", "< 50000", "-", "auto"),
    ("-", ">= 200000", "-", "gm"),
    ("-", "< 10000", '"web", "api"', "auto"),
    ("-", "-", "-", "manager"),
]


def table(hit: str) -> dict[str, Any]:
    return {
        "name": "approval_route",
        "form": "sales_order",
        "hit": hit,
        "inputs": [
            {"name": "tier", "label": "客户等级"},
            {"name": "amount", "label": "金额"},
            {"name": "channel", "label": "渠道"},
        ],
        "outputs": [{"name": "route", "type": "string", "label": "审批路线"}],
        "rows": [list(r) for r in ROWS],
    }


def zen_content(hit: str) -> str:
    def cell(text: str) -> str:
        return "" if text == "-" else f'"{text}"' if text.isalpha() else text

    rules = [
        {"_id": f"r{i}", "i1": cell(t), "i2": cell(a), "i3": cell(c), "o1": f'"{route}"'}
        for i, (t, a, c, route) in enumerate(ROWS)
    ]
    return json.dumps(
        {
            "nodes": [
                {"id": "in", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
                {
                    "id": "dt",
                    "type": "decisionTableNode",
                    "name": "approval",
                    "position": {"x": 200, "y": 0},
                    "content": {
                        "hitPolicy": hit,
                        "rules": rules,
                        "inputs": [
                            {"id": "i1", "name": "Tier", "field": "tier"},
                            {"id": "i2", "name": "Amount", "field": "amount"},
                            {"id": "i3", "name": "Channel", "field": "channel"},
                        ],
                        "outputs": [{"id": "o1", "name": "Route", "field": "route"}],
                    },
                },
                {"id": "out", "type": "outputNode", "name": "Response", "position": {"x": 400, "y": 0}},
            ],
            "edges": [
                {"id": "e1", "sourceId": "in", "targetId": "dt", "type": "edge"},
                {"id": "e2", "sourceId": "dt", "targetId": "out", "type": "edge"},
            ],
        }
    )


AUTO, GM, MANAGER = {"route": "auto"}, {"route": "gm"}, {"route": "manager"}
WEB_API = frozenset({"web", "api"})
_50K, _200K, _10K = 50000, 200000, 10000


def limit_first(r: Any, ctx: Any = None) -> Any:
    amount, tier, channel = r.get("amount"), r.get("tier"), r.get("channel")
    if tier == "A" and amount is not None and amount < _50K:
        return AUTO
    if amount is not None and amount >= _200K:
        return GM
    if amount is not None and amount < _10K and channel in WEB_API:
        return AUTO
    return MANAGER


def limit_collect(r: Any, ctx: Any = None) -> Any:
    amount, tier, channel = r.get("amount"), r.get("tier"), r.get("channel")
    out = []
    if tier == "A" and amount is not None and amount < _50K:
        out.append(AUTO)
    if amount is not None and amount >= _200K:
        out.append(GM)
    if amount is not None and amount < _10K and channel in WEB_API:
        out.append(AUTO)
    out.append(MANAGER)
    return out


def records(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        r: dict[str, Any] = {
            "amount": Decimal(rnd.randint(0, 30_000_000)) / 100,
            "tier": rnd.choice(["A", "B", "C"]),
            "channel": rnd.choice(["web", "api", "shop", "phone"]),
            "customer": rnd.randint(1, 500),
            "note": "generated",
        }
        for key in ("amount", "tier", "channel"):
            if rnd.random() < 0.03:
                r[key] = None
        out.append(r)
    return out


def for_zen(r: dict[str, Any]) -> dict[str, Any]:
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in r.items()}


def best_rates(
    fns: list[Callable[[Any, Any], Any]], recs: list[Any], ctx: Any, repeat: int = 5
) -> list[tuple[float, list[Any]]]:
    """Best rate of each function, the runs interleaved so that load on a shared machine hits all alike."""
    best = [float("inf")] * len(fns)
    outs: list[list[Any]] = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            outs[i] = [fn(r, ctx) for r in recs]
            best[i] = min(best[i], time.perf_counter() - t0)
    return [(len(recs) / b, o) for b, o in zip(best, outs)]


def plain(value: Any) -> Any:
    if isinstance(value, list):
        return [plain(v) for v in value]
    return None if value is None else dict(value)


def main(argv: Optional[list[str]] = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5,000 records instead of 200,000")
    args = ap.parse_args(argv)
    n = 5_000 if args.quick else 200_000
    recs = records(n)
    peer_recs = recs[: min(n, 2_000 if args.quick else 20_000)]
    zen_recs = [for_zen(r) for r in peer_recs]
    ctx = RunContext(user_id=1, clock=FixedClock())
    notes = [] if zen is not None else ["zen-engine not importable: skipped (pip install zen-engine)"]
    results = []
    print(f"{'case':34} {'ours/s':>12} {'if-elif/s':>12} {'ours/lim':>9} {'zen/s':>12} agree")
    for hit, limit in (("first", limit_first), ("collect", limit_collect)):
        compiled = compile_decision_table(table(hit), SCOPE, file="bench")
        (ours, got), (lim, expected) = best_rates([compiled.evaluate, limit], recs, ctx)
        agree = plain(got) == plain(expected)
        peers: dict[str, float] = {}
        if zen is not None:
            decision = zen.ZenEngine().create_decision(zen_content(hit))
            rate, out = best_rate(lambda r, c: decision.evaluate(r)["result"], zen_recs, ctx)
            peers["zen-engine"] = rate
            agree = agree and out == plain(expected[: len(peer_recs)])
        case = f"approval route (hit {hit})"
        print(f"{case:34} {ours:12.0f} {lim:12.0f} {lim / ours:9.2f} {peers.get('zen-engine', 0):12.0f} {agree}")
        results.append(
            {
                "case": case,
                "unit": "eval/s",
                "ours": round(ours),
                "limit": round(lim),
                "peers": {k: round(v) for k, v in peers.items()},
                "agree": agree,
                "ratio_limit_over_ours": round(lim / ours, 3),
                "target_ratio": 1.5,
            }
        )
    for note in notes:
        print("note:", note)
    summary = {
        "bench": "decision",
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
