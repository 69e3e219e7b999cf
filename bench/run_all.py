#!/usr/bin/env python
"""Run every benchmark in bench/ (pass --quick for a fast pass) and collect their JSON lines.

Every ``bench_*.py`` is run: decision, expr, export, flows (the order approval against
SpiffWorkflow, the timer scan), http (the HTTP create path against a bare Flask + SQLAlchemy
endpoint), import, rules, validation.

Each bench prints a readable table and, as its last line, one JSON object; this script
prints the tables as they come and writes all JSON lines to bench/results.jsonl.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    results = []
    failed = []
    for path in sorted(glob.glob(os.path.join(here, "bench_*.py"))):
        name = os.path.basename(path)
        print(f"==== {name} {' '.join(argv)}", flush=True)
        proc = subprocess.run([sys.executable, path, *argv], cwd=root, capture_output=True, text=True)
        print(proc.stdout, end="")
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            failed.append(name)
            continue
        last = proc.stdout.strip().splitlines()[-1]
        results.append(json.loads(last))
    with open(os.path.join(here, "results.jsonl"), "w", encoding="utf-8") as fh:
        for item in results:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    disagree = [r["bench"] for r in results if not all(x.get("agree", True) for x in r.get("results", []))]
    if failed or disagree:
        print(f"failed: {failed}; contenders disagree in: {disagree}", file=sys.stderr)
        return 1
    print(f"{len(results)} benches; results in bench/results.jsonl")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
