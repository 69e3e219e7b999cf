"""Spreadsheet export: ours (the list view's export path) vs the limit, at two sizes.

    python bench/bench_export.py [--quick] [--rows 1000000] [--small 100000]

The bench fills the bench order form (the one of bench_import.py) with N generated records
through the store's bulk insert (``engine.store.dialect.insert_many``), then exports them:

- ours: ``Records.export_rows`` (permissions, filters, labels in the caller's language, one
  cell form per field type) written by ``engine.io.exporter.write_file``, as ``run.py data
  export`` does: openpyxl's write-only mode for .xlsx, the csv module for .csv; rows are read
  in pages of 1,000 (keyset on ``id``);
- limit: one streamed ``SELECT`` of the same columns (SQLAlchemy Core, typed values) straight
  into openpyxl's write-only ``ws.append`` / ``csv.writer.writerows``.

Both write every row at both sizes (100,000 and 1,000,000; 2,000 and 20,000 with --quick);
they must agree on the row count (and the .csv on its line count). Rates are the best of
``--repeat`` runs at the small size and of one run at the large one; peak Python memory
(tracemalloc, separate runs) at both sizes shows whether memory grows with the row count.
The last line is one JSON object (see /work/shared/BENCH.md).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import json
import os
import random
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from _common import machine  # noqa: E402  (bench/ is on the path: run as a script)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openpyxl  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from bench_import import COLUMNS, HEADER, RELOAD_SECONDS, _write_pack  # noqa: E402

from engine.context import FixedClock  # noqa: E402
from engine.io.exporter import write_file  # noqa: E402
from engine.listing import ListQuery  # noqa: E402
from engine.platform import Platform  # noqa: E402
from engine.service import Records  # noqa: E402
from engine.store.db import Database  # noqa: E402
from engine.store.dialect import insert_many  # noqa: E402

FORMATS = ("xlsx", "csv")
FILL = 10_000  # rows per bulk insert while filling


def fill(platform: Platform, n: int, seed: int = 7) -> None:
    """N generated orders through the store's bulk insert (no journal: exports do not read it)."""
    rnd = random.Random(seed)
    table = platform.definitions().tables.table("bench_order")
    now = dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc)
    day = dt.date(2026, 1, 1)
    with platform.db.begin() as conn:
        for start in range(0, n, FILL):
            rows = []
            for i in range(start, min(n, start + FILL)):
                qty, price = rnd.randint(1, 500), Decimal(rnd.randint(50, 30000)) / 100
                rows.append(
                    {
                        "version": 1,
                        "owner": 1,
                        "created_at": now,
                        "created_by": 1,
                        "updated_at": now,
                        "updated_by": 1,
                        "po_number": f"PO-{i:07}",
                        "customer": f"客户{rnd.randint(1, 2000):04}",
                        "order_date": day + dt.timedelta(days=i % 365),
                        "status": rnd.choice(["draft", "submitted", "approved"]),
                        "qty": qty,
                        "unit_price": price,
                        "total": qty * price,
                        "remark": "加急" if i % 7 == 0 else None,
                    }
                )
            insert_many(conn, table, rows)


def prepare(workdir: str, n: int) -> Platform:
    url = "sqlite:///" + os.path.join(workdir, f"export-{n}.db")
    platform = Platform(
        Database(url), FixedClock(dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc)), reload_seconds=RELOAD_SECONDS
    )
    platform.publish(_write_pack(os.path.join(workdir, "pack")))
    fill(platform, n)
    return platform


def ours(platform: Platform, path: str, fmt: str) -> int:
    """The export path of ``run.py data export``; returns the data rows written."""
    ctx = platform.system_context()
    return write_file(
        Records(platform).export_rows(ctx, "bench_order", ListQuery.from_params({})), path, fmt, title="订单"
    )


def limit(platform: Platform, path: str, fmt: str) -> int:
    """One streamed SELECT straight into the writer; returns the data rows written."""
    table = platform.definitions().tables.table("bench_order")
    q = sa.select(*(table.c[c] for c in COLUMNS)).order_by(table.c.id)
    count = 0
    with platform.db.connect() as conn:
        rows = conn.execution_options(stream_results=True, yield_per=1000).execute(q)
        if fmt == "csv":
            with open(path, "w", encoding="utf-8-sig", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(HEADER)
                for part in rows.partitions():
                    writer.writerows(part)
                    count += len(part)
            return count
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("订单")
        ws.append(HEADER)
        for row in rows:
            ws.append(tuple(row))
            count += 1
        wb.save(path)
    return count


def timed(fn: Callable[..., int], *args: Any) -> tuple[float, int]:
    gc.collect()
    t0 = time.perf_counter()
    count = fn(*args)
    return time.perf_counter() - t0, count


def peak_memory(fn: Callable[..., int], *args: Any) -> float:
    """Peak traced Python memory of one export, in MiB."""
    gc.collect()
    tracemalloc.start()
    try:
        fn(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def csv_lines(path: str) -> int:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return sum(1 for _ in csv.reader(fh))


def main(argv: Any = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2,000 and 20,000 rows")
    ap.add_argument("--rows", type=int, help="the large size (default 1,000,000)")
    ap.add_argument("--small", type=int, help="the small size (default 100,000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs at the small size (best of)")
    args = ap.parse_args(argv)
    big = args.rows or (20_000 if args.quick else 1_000_000)
    small = args.small or (2_000 if args.quick else 100_000)
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as work:
        for n in sorted({small, big}):
            platform = prepare(work, n)
            out: dict[str, Any] = results.setdefault(n, {})
            for fmt in FORMATS:
                paths = {who: os.path.join(work, f"{who}-{n}.{fmt}") for who in ("ours", "limit")}
                best = {"ours": float("inf"), "limit": float("inf")}
                counts = {}
                for _ in range(args.repeat if n == small else 1):  # interleaved: the same machine load
                    for who, fn in (("ours", ours), ("limit", limit)):
                        t, counts[who] = timed(fn, platform, paths[who], fmt)
                        best[who] = min(best[who], t)
                agree = counts["ours"] == counts["limit"] == n
                if fmt == "csv":
                    agree = agree and csv_lines(paths["ours"]) == csv_lines(paths["limit"]) == n + 1
                memory = {
                    who: peak_memory(fn, platform, paths[who], fmt) for who, fn in (("ours", ours), ("limit", limit))
                }
                out[fmt] = {
                    "rate": {who: n / best[who] for who in best},
                    "memory": memory,
                    "agree": agree,
                    "rows": counts,
                    "bytes": os.path.getsize(paths["ours"]),
                }
                for p in paths.values():
                    os.remove(p)
            platform.db.dispose()
    print(f"export N order rows from SQLite (rates: best of {args.repeat} at {small:,}, one run at {big:,})")
    print(
        f"{'rows':>10} {'format':<6} {'ours rows/s':>12} {'limit rows/s':>13} {'ours/lim':>9} "
        f"{'ours MiB':>9} {'limit MiB':>10} {'file MiB':>9} agree"
    )
    for n, out in results.items():
        for fmt, r in out.items():
            print(
                f"{n:>10,} {fmt:<6} {r['rate']['ours']:>12,.0f} {r['rate']['limit']:>13,.0f} "
                f"{r['rate']['ours'] / r['rate']['limit']:>9.2f} {r['memory']['ours']:>9.1f} "
                f"{r['memory']['limit']:>10.1f} {r['bytes'] / 2**20:>9.1f} {r['agree']}"
            )
    for fmt in FORMATS:
        grow = results[big][fmt]["memory"]["ours"] - results[small][fmt]["memory"]["ours"]
        print(f"{fmt}: ours' peak memory at {big:,} rows minus at {small:,}: {grow:+.1f} MiB")
    summary = {
        "bench": "export",
        "machine": machine(database="sqlite"),
        "results": [
            {
                "case": f"{fmt} {n} rows",
                "unit": "rows/s",
                "ours": round(r["rate"]["ours"], 1),
                "limit": round(r["rate"]["limit"], 1),
                "ratio": round(r["rate"]["ours"] / r["rate"]["limit"], 3),
                "memory_mib": {k: round(v, 2) for k, v in r["memory"].items()},
                "rows": r["rows"],
                "peers": {},
                "agree": r["agree"],
            }
            for n, out in results.items()
            for fmt, r in out.items()
        ],
    }
    print(json.dumps(summary, ensure_ascii=False))
    return summary


if __name__ == "__main__":
    main()
