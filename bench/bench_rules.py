"""Rules: conditions compiled from rule files vs a hand-written lambda and the peers; dispatch cost.

    python bench/bench_rules.py [--quick]

(a) Every expression of bench_expr's corpus is written as a rule (``on sales_order`` /
    ``<condition> → flag red``), compiled by the rule compiler, and its condition evaluated
    over the same generated records as in bench_expr, beside the hand-written lambda (the
    limit), rule-engine's ``Rule`` and zen-engine's expression evaluation. All must agree.
(b) Dispatch of one update event (``material``, ``stock`` changed) with N installed rules of
    which 5 match: index lookup + the 5 conditions, for N = 10 and N = 1,000 (target: the
    1,000 case costs at most 2x the 10 case), beside a naive scan of every rule's trigger.
(c) Import of N order rows (10,000; 1,000 with --quick) through ``Records.import_rows`` (the
    path of an Excel import: ``RecordStore.create_many``, one event per record) with 5 installed
    rules whose conditions are false, beside the same import with no rules (target: at most
    1.3x the cost); both must write the same rows.
The last line is one JSON object (see /work/shared/BENCH.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from types import MappingProxyType, SimpleNamespace
from typing import Any, Optional

from _common import machine  # noqa: E402  (bench/ is on the path: run as a script)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bench_expr as bx  # noqa: E402  (a neighbour bench: bench/ is on the path)
import bench_import as bi  # noqa: E402

from engine.context import FixedClock, RunContext  # noqa: E402
from engine.definitions.model import FormSpec, Labels, PackSpec  # noqa: E402
from engine.errors import Position  # noqa: E402
from engine.expr import FieldInfo, Scope  # noqa: E402
from engine.expr.types import ExprType as T  # noqa: E402
from engine.rules.compiler import RuleCompiler  # noqa: E402
from engine.rules.engine import RuleEngine  # noqa: E402
from engine.rules.spec import build_index  # noqa: E402
from engine.store.events import RecordEvent  # noqa: E402


def _compiler(scopes: dict[str, Scope]) -> RuleCompiler:
    forms = {name: FormSpec(name, Labels(), (), Position(), "") for name in scopes}
    view = MappingProxyType(scopes)
    scopes = {k: Scope(s.form, s.fields, s.version, view) for k, s in scopes.items()}
    pack = PackSpec("bench", "1", Labels(), "bench")
    return RuleCompiler(pack, forms, scopes, {})


def corpus_rules() -> tuple[list[Any], list[str]]:
    """Each corpus expression as a short rule; returns (RuleSpecs in corpus order, problems)."""
    cc = _compiler({"sales_order": bx.SCOPE})
    rules, problems = [], []
    for source, *_ in bx.CASES:
        found, _settings = cc.compile_file("rules/bench.rules", f"on sales_order\n{source} → flag red\n")
        if cc.errors or len(found) != 1:
            problems.append(f"{source}: " + "; ".join(str(e) for e in cc.errors))
            cc.errors.clear()
            rules.append(None)
            continue
        rules.append(found[0])
    return rules, problems


def part_a(quick: bool) -> list[dict[str, Any]]:
    n = 5_000 if quick else 200_000
    recs = bx.records(n)
    peer_recs = recs[: min(n, 2_000 if quick else 20_000)]
    zen_recs = [bx.for_zen(r) for r in peer_recs]
    ctx = RunContext(user_id=1, clock=FixedClock())
    rules, problems = corpus_rules()
    for p in problems:
        print("note:", p)
    out = []
    print(
        f"{'rule condition':58} {'ours/s':>12} {'lambda/s':>12} {'lim/ours':>9} {'rule-engine/s':>14} {'zen/s':>12} agree"
    )
    for rule, (source, limit, re_text, zen_text) in zip(rules, bx.CASES):
        if rule is None:
            continue
        cond = rule.condition
        ours, got = bx.best_rate(cond.evaluate, recs, ctx)
        lim, expected = bx.best_rate(limit, recs, ctx)
        agree = got == expected
        peers: dict[str, float] = {}
        if bx.rule_engine is not None and re_text:
            peer = bx.rule_engine.Rule(re_text)
            rate, res = bx.best_rate(lambda r, c: peer.matches(r), peer_recs, ctx)
            peers["rule-engine"] = rate
            agree = agree and res == expected[: len(peer_recs)]
        if bx.zen is not None and zen_text:
            compiled = bx.zen.compile_expression(zen_text)
            rate, res = bx.best_rate(lambda r, c: compiled.evaluate(r), zen_recs, ctx)
            peers["zen-engine"] = rate
            agree = agree and res == expected[: len(peer_recs)]
        print(
            f"{source[:58]:58} {ours:12.0f} {lim:12.0f} {lim / ours:9.2f} "
            f"{peers.get('rule-engine', 0):14.0f} {peers.get('zen-engine', 0):12.0f} {agree}"
        )
        out.append(
            {
                "case": f"rule: {source}",
                "unit": "eval/s",
                "ours": round(ours),
                "limit": round(lim),
                "peers": {k: round(v) for k, v in peers.items()},
                "agree": agree,
                "ratio_limit_over_ours": round(lim / ours, 3),
            }
        )
    return out


MATERIAL = Scope(
    "material",
    {
        f.name: f
        for f in [
            FieldInfo("id", T.INTEGER),
            FieldInfo("stock", T.INTEGER),
            FieldInfo("safety_stock", T.INTEGER),
            FieldInfo("price", T.DECIMAL),
            FieldInfo("name", T.STRING),
        ]
    },
    "bench",
)


def installed(total: int) -> Any:
    """``total`` rules; 5 match an update of material.stock, the others are on other triggers/forms."""
    forms = {"material": MATERIAL}
    for i in range(100):
        forms[f"form{i}"] = Scope(
            f"form{i}", {"id": FieldInfo("id", T.INTEGER), "x": FieldInfo("x", T.INTEGER)}, "bench"
        )
    cc = _compiler(forms)
    lines = ["on material"]
    for i in range(5):
        lines.append(f'rule "match {i}" when stock changed if stock < safety_stock + {i} then flag red')
    others = total - 5
    for i in range(others):
        kind = i % 4
        if kind == 0:
            lines.append(f'rule "m{i}" when created if stock < {i} then flag red')
        elif kind == 1:
            lines.append(f'rule "m{i}" when price changed if price > {i} then flag red')
        else:
            lines.append(f"on form{i % 100}")
            lines.append(f'rule "o{i}" when updated if x > {i} then flag red')
            lines.append("on material")
    found, _ = cc.compile_file("rules/bench.rules", "\n".join(lines) + "\n")
    assert not cc.errors, cc.errors[:3]
    return build_index(tuple(found))


def part_b(quick: bool) -> list[dict[str, Any]]:
    ctx = RunContext(user_id=1, clock=FixedClock())
    event = RecordEvent(
        "updated",
        "material",
        1,
        ctx,
        {"id": 1, "stock": 3, "safety_stock": 5, "price": None},
        {"id": 1, "stock": 9, "safety_stock": 5, "price": None},
        frozenset({"stock"}),
    )
    loops = 2_000 if quick else 50_000
    rows = []
    rates: dict[int, float] = {}
    answers: dict[int, Any] = {}
    for total in (10, 1_000):
        ruleset = installed(total)
        engine = RuleEngine(SimpleNamespace(current=lambda: SimpleNamespace(rules=ruleset), current_store=lambda: None))

        def dispatch() -> list[str]:
            return [
                r.name
                for r in engine.matching(event)
                if r.condition is None or r.condition.evaluate(event.new, ctx, old=event.old)
            ]

        def scan() -> list[str]:  # no index: look at every rule's trigger
            out = []
            for r in ruleset.rules:
                t = r.trigger
                if r.form != event.form:
                    continue
                if t.kind == "changed":
                    if not any(event.new.get(f) != event.old.get(f) for f in t.fields):
                        continue
                elif event.kind not in t.events:
                    continue
                if r.condition is None or r.condition.evaluate(event.new, ctx, old=event.old):
                    out.append(r.name)
            return out

        best = best_scan = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(loops):
                got = dispatch()
            best = min(best, time.perf_counter() - t0)
            t0 = time.perf_counter()
            for _ in range(loops):
                scanned = scan()
            best_scan = min(best_scan, time.perf_counter() - t0)
        rates[total] = loops / best
        answers[total] = (got, scanned)
        agree = got == scanned and len(got) == 5
        print(
            f"dispatch, {total:>5} rules installed, 5 match: {loops / best:12.0f} events/s "
            f"(scan {loops / best_scan:12.0f} events/s) agree {agree}"
        )
        rows.append(
            {
                "case": f"dispatch update, {total} rules installed, 5 match",
                "unit": "events/s",
                "ours": round(loops / best),
                "limit": None,
                "peers": {"scan (no index)": round(loops / best_scan)},
                "agree": agree,
            }
        )
    ratio = rates[10] / rates[1_000]
    print(f"cost(1,000 rules) / cost(10 rules) = {ratio:.2f} (target <= 2)")
    rows[-1]["ratio_vs_10_rules"] = round(ratio, 3)
    return rows


IMPORT_RULES = "on bench_order\n" + "".join(
    f'rule "never {i}" when created or updated if qty > {100_000 + i} and total > 0 then flag red\n' for i in range(5)
)


def _import_platform(work: str, rules: bool) -> Any:
    """A fresh SQLite platform with bench_import's order form, with or without the 5 rules."""
    import datetime as dt_

    from engine.context import FixedClock as Clock
    from engine.platform import Platform
    from engine.store.db import Database

    root = os.path.join(work, f"pack-{'rules' if rules else 'none'}")
    bi._write_pack(root)
    if rules:
        os.makedirs(os.path.join(root, "rules"), exist_ok=True)
        with open(os.path.join(root, "rules", "bench.rules"), "w", encoding="utf-8") as fh:
            fh.write(IMPORT_RULES)
    url = "sqlite:///" + os.path.join(work, f"import-{rules}-{time.monotonic_ns()}.db")
    platform = Platform(Database(url), Clock(dt_.datetime(2026, 11, 2, tzinfo=dt_.timezone.utc)), reload_seconds=0)
    platform.publish(root)
    return platform


def import_rows(n: int) -> list[tuple[int, list[Any]]]:
    """A header and ``n`` order rows, as a spreadsheet reader yields them."""
    import random

    rnd = random.Random(7)
    rows: list[tuple[int, list[Any]]] = [(1, list(bi.HEADER))]
    for i in range(n):
        qty, price = rnd.randint(1, 500), round(rnd.uniform(0.5, 300), 2)
        rows.append(
            (
                i + 2,
                [
                    f"PO-{i:07}",
                    f"客户{rnd.randint(1, 2000):04}",
                    dt.date(2026, 1, 1) + dt.timedelta(days=i % 365),
                    rnd.choice(["draft", "submitted", "approved"]),
                    qty,
                    price,
                    round(qty * price, 2),
                    "加急" if i % 7 == 0 else None,
                ],
            )
        )
    return rows


def part_c(quick: bool) -> list[dict[str, Any]]:
    """Import N rows through Records.import_rows (RecordStore.create_many, one event per record)."""
    import tempfile

    import sqlalchemy as sa

    from engine.service import Records

    n = 1_000 if quick else 10_000
    rows = import_rows(n)
    best = {True: float("inf"), False: float("inf")}
    written: dict[bool, Any] = {}
    with tempfile.TemporaryDirectory() as work:
        for _ in range(3):  # interleaved: both see the same machine load
            for rules in (False, True):
                platform = _import_platform(work, rules)
                assert len(platform.definitions().rules.rules) == (5 if rules else 0)
                ctx = platform.system_context()
                t0 = time.perf_counter()
                report = Records(platform).import_rows(ctx, "bench_order", rows)
                best[rules] = min(best[rules], time.perf_counter() - t0)
                assert report.ok, report.to_dict()["errors"][:3]
                with platform.db.connect() as conn:
                    written[rules] = [
                        tuple(r)
                        for r in conn.execute(
                            sa.text(
                                "SELECT po_number, customer, order_date, status, qty, unit_price, total, remark "
                                "FROM f_bench_order ORDER BY po_number"
                            )
                        )
                    ]
                platform.db.dispose()
    agree = written[True] == written[False] and len(written[True]) == n
    with_rules, without = n / best[True], n / best[False]
    ratio = best[True] / best[False]
    print(
        f"import {n:,} rows (create_many, events per record): no rules {without:10.0f} rows/s, "
        f"5 rules (conditions false) {with_rules:10.0f} rows/s; cost ratio {ratio:.2f} (target <= 1.3) agree {agree}"
    )
    return [
        {
            "case": f"import {n} rows, 5 rules with false conditions vs none",
            "unit": "rows/s",
            "ours": round(with_rules),
            "limit": round(without),
            "peers": {},
            "agree": agree,
            "ratio_vs_no_rules": round(ratio, 3),
        }
    ]


def main(argv: Optional[list[str]] = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, seconds")
    args = ap.parse_args(argv)
    notes = []
    if bx.rule_engine is None:
        notes.append("rule-engine not importable: skipped (pip install rule-engine)")
    if bx.zen is None:
        notes.append("zen-engine not importable: skipped (pip install zen-engine)")
    results = part_a(args.quick) + part_b(args.quick) + part_c(args.quick)
    for note in notes:
        print("note:", note)
    summary = {"bench": "rules", "machine": machine(), "quick": args.quick, "notes": notes, "results": results}
    print(json.dumps(summary, ensure_ascii=False))
    return summary


if __name__ == "__main__":
    main()
