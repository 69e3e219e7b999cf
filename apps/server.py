"""``run.py serve``: the web application under gunicorn, or under Werkzeug's reloader (``--dev``).

Each gunicorn worker process builds its own application with ``apps.create_app()`` after the
fork (nothing is preloaded), so no connection pool, lock or cache crosses a process: what the
processes must agree on (records, numbers, sessions' tokens, definitions) is in the database,
and each notices a newly published pack within ``LOWCODE_RELOAD_SECONDS``. See docs/deploy.md.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Mapping, Optional, Sequence

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 4


def bind_addresses(bind: Optional[Sequence[str]], host: Optional[str], port: Optional[int]) -> list[str]:
    """The addresses to listen on: ``--bind`` as given, or ``--host``/``--port`` as one address."""
    if bind and (host or port):
        raise ValueError("give --bind, or --host and --port, not both")
    if bind:
        return list(bind)
    host = host or DEFAULT_HOST
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return [f"{host}:{port or DEFAULT_PORT}"]


def dev_server(bind: str) -> int:
    """Werkzeug's development server with the reloader and the debugger (one process)."""
    from apps import create_app

    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"--dev listens on HOST:PORT, not {bind!r}")
    app = create_app()
    if not os.environ.get("WERKZEUG_RUN_MAIN"):  # the reloader's parent, not each restarted child
        print(f"Lowcode serving on http://{bind}/ with Werkzeug's development server and reloader", flush=True)
    app.run(host=host.strip("[]"), port=int(port), debug=True, use_reloader=True, threaded=True)
    return 0


def gunicorn_server(binds: Sequence[str], workers: Optional[int], threads: Optional[int]) -> int:
    """Serve ``apps:create_app()`` with gunicorn until SIGTERM or Ctrl+C.

    Settings: this function's arguments, then gunicorn's own ``GUNICORN_CMD_ARGS``
    (``--access-logfile -``, ``--timeout 120``, ``--forwarded-allow-ips ...``), then defaults.
    """
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # gunicorn runs on Unix only
        print("gunicorn is not installed (it runs on Linux and macOS): use `run.py serve --dev`", file=sys.stderr)
        return 1
    import sqlalchemy as sa

    try:
        _prepare_database()
    except sa.exc.SQLAlchemyError as exc:
        print(f"cannot open the database (DATABASE_URL): {getattr(exc, 'orig', None) or exc}", file=sys.stderr)
        return 1
    explicit = {"bind": list(binds), "workers": workers, "threads": threads}

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("proc_name", "lowcode")
            self.cfg.set("workers", int(os.environ.get("WEB_CONCURRENCY", DEFAULT_WORKERS)))
            self.cfg.set("threads", DEFAULT_THREADS)
            env = vars(self.cfg.parser().parse_args(self.cfg.get_cmd_args_from_env()))
            if "control_socket_disable" in self.cfg.settings and env.get("control_socket") is None:
                # gunicornc's socket (gunicorn 25.1+) is one path per user: off unless asked for,
                # so that several servers on one machine do not take each other's
                self.cfg.set("control_socket_disable", True)
            _apply(self.cfg, env)
            _apply(self.cfg, explicit)

        def load(self) -> Any:
            from apps import create_app

            return create_app()

    server = Server()
    cfg = server.cfg
    urls = ", ".join(f"http://{b}/" if not b.startswith(("unix:", "fd:")) else b for b in cfg.bind)
    print(
        f"Lowcode serving on {urls} with gunicorn: {cfg.workers} worker processes x {cfg.threads} "
        "threads (API: /api/v1, OpenAPI: /api/v1/openapi.json)",
        flush=True,
    )
    if not os.environ.get("SECRET_KEY"):
        print(
            "warning: SECRET_KEY is not set, sessions are signed with a development key; set it "
            "(the same on every machine) in production",
            file=sys.stderr,
            flush=True,
        )
    server.run()
    return 0


def _apply(cfg: Any, settings: Mapping[str, Any]) -> None:
    for key, value in settings.items():
        if value is not None and key != "args":
            cfg.set(key.lower(), value)


def _prepare_database() -> None:
    """Bring the platform tables to the newest migration once, in the master, before the
    workers start; say so when it changed them."""
    from engine.store.db import Database, default_url

    db = Database(os.environ.get("DATABASE_URL") or default_url())
    try:
        done = db.create_system_tables()
    finally:
        db.dispose()
    if done.changed:
        print(
            f"upgraded the lc_* tables from {', '.join(done.before) or 'nothing'} to {', '.join(done.after)}"
            + (" (a database made before migrations, stamped at the baseline first)" if done.adopted else ""),
            file=sys.stderr,
            flush=True,
        )
