"""Flows: the order approval to completion with ours, SpiffWorkflow and a dict state machine.

    python bench/bench_flows.py [--quick] [--instances N] [--repeat R]

The flow (bench/order_approval.flow.yaml for ours, bench/order_approval.bpmn for
SpiffWorkflow, a dict graph for the limit): start → check (a script / set step:
``checked = amount > 0``) → exclusive gateway (amount > 50,000: director approval, else
manager approval) → finance confirm → end. Amounts are drawn from 1,000 to 100,000 with a
fixed seed, so about half the instances take each branch. Every human task is approved by
the driver, in code. All contenders must walk the same path for every instance.

(a) In memory: ``--instances`` (2,000) instances started and driven to the end, instances/s
    (best of ``--repeat``, interleaved). Ours: the pure machine (engine/flows/machine.py) over
    the flow loaded from the YAML.
(b) Persisted to SQLite after each step, one commit per step, instances/s. SpiffWorkflow: its
    JSON serializer, the case written to a table; also "load+save", where each step first reads
    the case back and deserializes it (a server handling one request per step). Ours: the
    platform (Platform on an SQLite file, FlowEngine through the Inbox facade).
(c) Live memory per waiting instance (tracemalloc, after gc, the instances held at their first
    human task, record values included) and serialized bytes per waiting instance: SpiffWorkflow's
    JSON (its task tree and data), the limit's dict as JSON, ours the machine state the engine
    stores in ``lc_flow_instance.state`` (the record's values live in its form's table). Beside
    them, what the flow's tables take in the SQLite file (dbstat pages, indexes included) per
    waiting instance (500 started) and per completed instance (the persisted run): for ours
    ``lc_flow_instance``, ``lc_flow_task`` and ``lc_flow_event`` (the history), for the others
    their one table of cases.
(d) The timer scan: ``TimerQueue.fire_due`` (engine/store/timers.py, claim + fire) of 100 due
    rows among 100,000 pending vs among 1,000 pending (10,000 with --quick), with the claim
    query alone beside it.

Targets (issue 18): at least 30x SpiffWorkflow in memory, 10x persisted, at most a third of its
memory and a tenth of its serialized size per waiting instance; the scan of 100,000 costs
about what 1,000 cost. The last line is one JSON object (see /work/shared/BENCH.md).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable, Optional

from _common import machine  # noqa: E402  (bench/ is on the path: run as a script)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import flows_ours  # noqa: E402  (a neighbour module: bench/ is on the path)
import flows_peers  # noqa: E402
import flows_timers  # noqa: E402

#: instances started (and left waiting) for the on-disk size per waiting instance
WAITING_ON_DISK = 500
TARGETS = {"memory": 30.0, "persisted": 10.0, "live": 1 / 3, "bytes": 1 / 10}


def amounts(n: int, seed: int = 18) -> list[int]:
    rnd = random.Random(seed)
    return [rnd.randrange(1_000, 100_001) for _ in range(n)]


def expected_paths(values: list[int]) -> list[list[str]]:
    return [["director" if a > flows_peers.THRESHOLD else "manager", "finance"] for a in values]


# ---- (a) in memory ------------------------------------------------------------------------------


def drive(c: Any, values: list[int]) -> list[list[str]]:
    """Every instance started and its human tasks approved until it ends; the paths walked."""
    start, act = c.start, c.act
    out = []
    for amount in values:
        inst = start(amount)
        walked = []
        node = act(inst)
        while node is not None:
            walked.append(node)
            node = act(inst)
        if not c.completed(inst):
            raise SystemExit(f"{c.name}: an instance of amount {amount} did not complete: {walked}")
        out.append(walked)
    return out


def interleaved(
    runs: dict[str, Callable[[], Callable[[], list[list[str]]]]], repeat: int
) -> tuple[dict[str, float], dict[str, list[list[str]]]]:
    """Best seconds of each run over ``repeat`` rounds (each round runs every contender once).

    A run is prepared first, untimed (a fresh database, its records), then timed."""
    best = {k: float("inf") for k in runs}
    paths: dict[str, list[list[str]]] = {}
    for _ in range(repeat):
        for name, prepare in runs.items():
            run = prepare()
            gc.collect()
            t0 = time.perf_counter()
            paths[name] = run()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best, paths


# ---- (c) memory and size per waiting instance -----------------------------------------------------


def waiting_footprint(c: Any, values: list[int]) -> tuple[float, float]:
    """(live bytes, serialized bytes) per instance waiting at its first human task."""
    c.start(values[0])  # anything built lazily on first use is built before measuring
    gc.collect()
    tracemalloc.start()
    try:
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        held = [c.start(a) for a in values]
        gc.collect()
        live = (tracemalloc.get_traced_memory()[0] - base) / len(values)
    finally:
        tracemalloc.stop()
    size = sum(len(c.serialize(h)) for h in held) / len(held)
    return live, size


def disk_bytes(path: str, tables: tuple[str, ...]) -> int:
    """Bytes of the pages that ``tables`` and their indexes take in an SQLite file (dbstat)."""
    import sqlite3

    db = sqlite3.connect(path)
    try:
        marks = ",".join("?" * len(tables))
        (size,) = db.execute(
            f"SELECT coalesce(sum(d.pgsize), 0) FROM dbstat d JOIN sqlite_schema s ON s.name = d.name "
            f"WHERE s.tbl_name IN ({marks})",
            tables,
        ).fetchone()
        return int(size)
    finally:
        db.close()


# ---- the run --------------------------------------------------------------------------------------


def _ratio(ours: Optional[float], other: Optional[float]) -> Optional[float]:
    return round(ours / other, 3) if ours and other else None


def _fmt(v: Optional[float], spec: str = ",.0f") -> str:
    return "—" if v is None else format(v, spec)


def main(argv: Any = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="60 instances, a 10,000-row timer table")
    ap.add_argument("--instances", type=int, help="instances per run (default 2,000; 60 with --quick)")
    ap.add_argument("--persisted", type=int, help="instances per persisted run (default: --instances)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timers", type=int, help="pending timer rows of the large scan (default 100,000)")
    args = ap.parse_args(argv)
    n = args.instances or (60 if args.quick else 2_000)
    n_persisted = args.persisted or n
    repeat = 1 if args.quick and args.repeat == 3 else args.repeat
    values = amounts(n)
    expected = expected_paths(values)

    spiff, limit = flows_peers.Spiff(), flows_peers.DictMachine()
    ours_mem = flows_ours.InMemory.build()
    contenders: dict[str, Any] = {"limit": limit, "SpiffWorkflow": spiff}
    if ours_mem is not None:
        contenders = {"ours": ours_mem, **contenders}
    notes: list[str] = []
    if ours_mem is None:
        notes.append(f"ours in memory not measured: {flows_ours.InMemory.missing}")
    else:
        notes.append(f"ours in memory: the flow {ours_mem.how}")

    # (a) in memory
    secs, paths = interleaved({k: (lambda c=c: lambda: drive(c, values)) for k, c in contenders.items()}, repeat)
    mem_rate = {k: n / v for k, v in secs.items()}
    mem_agree = all(p == expected for p in paths.values())

    # (b) persisted
    persisted_values = values[:n_persisted]
    with tempfile.TemporaryDirectory() as work:
        counter = iter(range(10**6))
        last: dict[str, str] = {}

        def file(name: str) -> str:
            last[name] = str(Path(work) / f"{name}-{next(counter)}.db")
            return last[name]

        runs: dict[str, Callable[[], Callable[[], list[list[str]]]]] = {
            "limit": lambda: lambda: limit.persisted(persisted_values, file("limit")),
            "SpiffWorkflow": lambda: lambda: spiff.persisted(persisted_values, file("spiff")),
            "SpiffWorkflow (load+save)": lambda: (
                lambda: spiff.persisted(persisted_values, file("spiff-ls"), reload=True)
            ),
        }
        ours_db = flows_ours.Persisted.build(work)
        if ours_db is not None:
            runs = {"ours": lambda: ours_db.prepare(persisted_values, file("ours")), **runs}
        else:
            notes.append(f"ours persisted not measured: {flows_ours.Persisted.missing}")
        psecs, ppaths = interleaved(runs, repeat)
        waiting_values = persisted_values[:WAITING_ON_DISK]
        waiting_disk: dict[str, float] = {}
        for name, c, tables in (
            ("ours", ours_db, flows_ours.FLOW_TABLES),
            ("limit", limit, ("flow_case",)),
            ("SpiffWorkflow", spiff, ("flow_case",)),
        ):
            if c is not None:
                c.waiting(waiting_values, file(f"waiting-{name}"))
                waiting_disk[name] = disk_bytes(last[f"waiting-{name}"], tables) / len(waiting_values)
        if ours_db is not None:
            ours_db.close()
        disk = {
            k: disk_bytes(last[f], tables) / n_persisted
            for k, f, tables in (
                ("ours", "ours", flows_ours.FLOW_TABLES),
                ("limit", "limit", ("flow_case",)),
                ("SpiffWorkflow", "spiff", ("flow_case",)),
            )
            if f in last
        }
    db_rate = {k: n_persisted / v for k, v in psecs.items()}
    db_agree = all(p == expected[:n_persisted] for p in ppaths.values())

    # (c) footprint
    foot = {k: waiting_footprint(c, values) for k, c in contenders.items()}

    # (d) timers
    small = 1_000
    large = args.timers or (10_000 if args.quick else 100_000)
    scan = flows_timers.scan(small, large, due=100, repeat=max(repeat, 5))

    results = report(
        n, n_persisted, repeat, mem_rate, db_rate, foot, waiting_disk, disk, scan, mem_agree, db_agree, notes
    )
    summary = {
        "bench": "flows",
        "machine": machine(database="sqlite", SpiffWorkflow=spiff.version()),
        "results": results,
        "notes": notes,
    }
    print(json.dumps(summary, ensure_ascii=False))
    return summary


def report(
    n: int,
    n_persisted: int,
    repeat: int,
    mem_rate: dict[str, float],
    db_rate: dict[str, float],
    foot: dict[str, tuple[float, float]],
    waiting_disk: dict[str, float],
    disk: dict[str, float],
    scan: dict[str, Any],
    mem_agree: bool,
    db_agree: bool,
    notes: list[str],
) -> list[dict[str, Any]]:
    """Print the tables; the result rows of the JSON line."""
    sp = "SpiffWorkflow"
    print(f"order approval to completion, best of {repeat}")
    print(f"{'case':<44} {'ours':>11} {'limit':>11} {sp:>13} {'load+save':>11} {'ours/Spiff':>10} {'target':>7}")
    for label, rates, target in (
        (f"in memory, {n:,} instances (inst/s)", mem_rate, TARGETS["memory"]),
        (f"persisted to SQLite, {n_persisted:,} (inst/s)", db_rate, TARGETS["persisted"]),
    ):
        print(
            f"{label:<44} {_fmt(rates.get('ours')):>11} {_fmt(rates['limit']):>11} {_fmt(rates[sp]):>13} "
            f"{_fmt(rates.get(sp + ' (load+save)')):>11} {_fmt(_ratio(rates.get('ours'), rates[sp]), '.1f'):>10} "
            f"{'>=' + format(target, 'g'):>7}"
        )
    print(
        f"per waiting instance (lower is better)       {'ours':>11} {'limit':>11} {sp:>13} {'':>11} {'ours/Spiff':>10}"
    )
    for i, (label, target) in enumerate((("live memory (bytes)", "<=0.333"), ("serialized (bytes)", "<=0.1"))):
        o = foot.get("ours", (None, None))[i]
        print(
            f"{label:<44} {_fmt(o):>11} {_fmt(foot['limit'][i]):>11} {_fmt(foot[sp][i]):>13} {'':>11} "
            f"{_fmt(_ratio(o, foot[sp][i]), '.3f'):>10} {target:>7}"
        )
    print(
        f"{'on disk per waiting instance (bytes)':<44} {_fmt(waiting_disk.get('ours')):>11} {_fmt(waiting_disk['limit']):>11} "
        f"{_fmt(waiting_disk[sp]):>13} {'':>11} {_fmt(_ratio(waiting_disk.get('ours'), waiting_disk[sp]), '.3f'):>10}"
    )
    print(
        f"{'on disk per completed instance (bytes)':<44} {_fmt(disk.get('ours')):>11} {_fmt(disk['limit']):>11} "
        f"{_fmt(disk[sp]):>13} {'':>11} {_fmt(_ratio(disk.get('ours'), disk[sp]), '.3f'):>10}"
    )
    print(
        f"timer scan, 100 due: fire_due {scan['fire'][scan['large']] * 1e3:.1f} ms among {scan['large']:,} pending, "
        f"{scan['fire'][scan['small']] * 1e3:.1f} ms among {scan['small']:,} "
        f"(ratio {scan['fire_ratio']:.2f}); the claim query alone {scan['claim'][scan['large']] * 1e3:.2f} ms vs "
        f"{scan['claim'][scan['small']] * 1e3:.2f} ms (ratio {scan['claim_ratio']:.2f}); fired {scan['fired']}"
    )
    print(f"claim query plan: {scan['plan']}")
    for note in notes:
        print("note:", note)
    print(f"agree: in memory {mem_agree}, persisted {db_agree}, timers {scan['agree']}")

    def row(case: str, unit: str, data: dict[str, float], agree: bool, **extra: Any) -> dict[str, Any]:
        ours = data.get("ours")
        peers = {k: round(v, 1) for k, v in data.items() if k not in ("ours", "limit")}
        return {
            "case": case,
            "unit": unit,
            "ours": None if ours is None else round(ours, 1),
            "limit": round(data["limit"], 1),
            "peers": peers,
            "agree": agree,
            "ratio_ours_over_spiff": _ratio(ours, data[sp]),
            **extra,
        }

    live = {k: v[0] for k, v in foot.items()}
    size = {k: v[1] for k, v in foot.items()}
    return [
        row(f"order approval, {n} instances, in memory", "instances/s", mem_rate, mem_agree, target=">=30x"),
        row(
            f"order approval, {n_persisted} instances, persisted each step (SQLite)",
            "instances/s",
            db_rate,
            db_agree,
            target=">=10x",
        ),
        row("live memory per waiting instance", "bytes (lower is better)", live, mem_agree, target="<=1/3"),
        row("serialized size per waiting instance", "bytes (lower is better)", size, mem_agree, target="<=1/10"),
        row(
            "flow tables on disk per waiting instance (SQLite pages)",
            "bytes (lower is better)",
            waiting_disk,
            db_agree,
        ),
        row("flow tables on disk per completed instance (SQLite pages)", "bytes (lower is better)", disk, db_agree),
        {
            "case": f"timer fire_due, 100 due among {scan['large']} vs {scan['small']} pending",
            "unit": "ms (lower is better)",
            "ours": round(scan["fire"][scan["large"]] * 1e3, 2),
            "limit": round(scan["fire"][scan["small"]] * 1e3, 2),
            "peers": {},
            "agree": scan["agree"],
            "ratio_large_over_small": round(scan["fire_ratio"], 3),
            "claim_ms": {str(k): round(v * 1e3, 3) for k, v in scan["claim"].items()},
            "claim_ratio": round(scan["claim_ratio"], 3),
        },
    ]


if __name__ == "__main__":
    main()
