"""What every bench shares: the machine facts in its JSON line, and best-of-N timing."""

from __future__ import annotations

import os
import platform
import time
from typing import Any, Callable


def machine(**extra: Any) -> dict[str, Any]:
    """The facts that make two runs comparable (plus any the bench adds, e.g. the database)."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        **extra,
    }


def best_rate(fn: Callable[[Any, Any], Any], recs: list[Any], ctx: Any, repeat: int = 3) -> tuple[float, list[Any]]:
    """Calls per second of ``fn(record, ctx)`` over ``recs``, best of ``repeat``, and its results."""
    best, out = float("inf"), []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = [fn(r, ctx) for r in recs]
        best = min(best, time.perf_counter() - t0)
    return len(recs) / best, out
