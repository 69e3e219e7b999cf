"""`run.py serve` (gunicorn) in a subprocess on a free port, for the tests over real HTTP."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator, Sequence

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: gunicorn's access log as the tests read it: the answering process, the request line, the status
ACCESS_FORMAT = "%(p)s %(r)s %(s)s"
_ACCESS = re.compile(r"^<(\d+)> (\S+) (\S+) \S+ (\d{3})$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_py(env: dict[str, str], *args: str) -> str:
    """Run ``run.py ARGS`` to completion; its stdout (stderr too in the error when it fails)."""
    done = subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise AssertionError(f"run.py {' '.join(args)} exited {done.returncode}: {done.stdout}{done.stderr}")
    return done.stdout


class Server:
    """A running ``run.py serve``: its base URL, its log and its access log."""

    def __init__(self, base: str, log: Path, access: Path, proc: subprocess.Popen) -> None:
        self.base, self.log, self.access, self.proc = base, log, access, proc

    def answered(self) -> list[tuple[int, str, str, int]]:
        """``(pid, method, path, status)`` of every request logged so far, in order."""
        if not self.access.exists():
            return []
        lines = self.access.read_text(encoding="utf-8").splitlines()
        return [(int(m[1]), m[2], m[3], int(m[4])) for m in map(_ACCESS.match, lines) if m]


@contextlib.contextmanager
def serving(
    db_url: str, tmp: Path, *args: str, listen: Sequence[str] = ("--bind", "127.0.0.1:{port}")
) -> Iterator[Server]:
    """``run.py serve --bind 127.0.0.1:PORT ARGS`` until the block ends (then SIGTERM to its
    process group: gunicorn's master and workers, or the reloader and its child with ``--dev``).

    Tests run in parallel (pytest-xdist): a free port may be taken by another test before the
    server binds it, so a server that finds its port in use starts again on another one, and
    the server is ready only once it has said it listens on its own port."""
    access = tmp / "access.log"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "GUNICORN_CMD_ARGS": f"--access-logfile {access} --access-logformat '{ACCESS_FORMAT}'",
    }
    log = tmp / "serve.log"
    for _attempt in range(5):
        port = free_port()
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "run.py", "serve", *(a.format(port=port) for a in listen), *args],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        base = f"http://127.0.0.1:{port}/api/v1"
        try:
            if _ready(proc, base, f"127.0.0.1:{port}", log):
                break
        except BaseException:
            _stop(proc)
            raise
        _stop(proc)
    else:
        raise RuntimeError("no free port after 5 tries: " + log.read_text(encoding="utf-8"))
    try:
        yield Server(base, log, access, proc)
    finally:
        _stop(proc)


def _ready(proc: subprocess.Popen, base: str, address: str, log: Path) -> bool:
    """Wait until the server answers and its log says it listens on ``address``; False when
    the address was in use."""
    deadline = time.monotonic() + 60
    while True:
        text = log.read_text(encoding="utf-8", errors="replace")
        if "Connection in use" in text or "Address already in use" in text:  # gunicorn; werkzeug
            return False
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("server did not start: " + text)
        if address in text:
            try:
                urllib.request.urlopen(base + "/openapi.json", timeout=5).close()
                return True
            except OSError:  # still busy starting (URLError, reset, timeout)
                pass
        time.sleep(0.1)


def _stop(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
