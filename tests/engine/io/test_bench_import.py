"""bench/bench_import.py --quick runs and its contenders agree (rows and events), not a speed."""
from __future__ import annotations

import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_bench_import_quick_agrees(capsys):
    spec = importlib.util.spec_from_file_location("bench_import", os.path.join(ROOT, "bench", "bench_import.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--quick", "--repeat", "1", "--rows", "600"])
    rate = result["results"][0]
    assert rate["agree"] is True and rate["rows"] == {"ours": 600, "limit": 600} and rate["events"] == 600
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith('{"bench": "import"')
