"""Run one function in several threads at once (concurrency tests)."""

from __future__ import annotations

import threading
from typing import Callable


def together(count: int, work: Callable[[], None]) -> None:
    """Start ``count`` threads running ``work`` and wait for them all."""
    threads = [threading.Thread(target=work) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
