"""``run.py worker`` as it runs once the lease of a killed worker has run out.

The killed worker leased a batch of due timers (``lc_timer.locked_until``: five minutes ahead)
and died before firing them all; a worker started later claims them once the lease is over.
A test cannot wait five minutes, so this entry starts the very same command (``run.py worker``,
through ``run.main``) on a platform whose wall clock is ``LOWCODE_TEST_AHEAD`` seconds ahead:
the restart as it happens after the lease, on the real database, in a real process.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

from apps.cli import common
from engine.context import Clock
from engine.platform import Platform

AHEAD = dt.timedelta(seconds=float(os.environ.get("LOWCODE_TEST_AHEAD", "0")))


class Ahead(Clock):
    def now(self) -> dt.datetime:
        return super().now() + AHEAD


def platform() -> Platform:
    return Platform(common.database(), Ahead(), reload_seconds=0)


if __name__ == "__main__":
    common.platform = platform  # the commands' platform, with the clock ahead
    import run

    sys.exit(run.main(sys.argv[1:]))
