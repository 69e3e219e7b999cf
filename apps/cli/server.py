"""``run.py serve`` and ``run.py worker``."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from apps.cli import common


def cmd_serve(args: argparse.Namespace) -> int:
    from apps import server

    try:
        binds = server.bind_addresses(args.bind, args.host, args.port)
        if args.dev:
            return server.dev_server(binds[0])
    except ValueError as exc:
        raise SystemExit(f"run.py serve: {exc}") from None
    return server.gunicorn_server(binds, args.workers, args.threads)


def cmd_worker(args: argparse.Namespace) -> int:
    worker = common.platform().worker()
    if args.once:
        print(f"processed {worker.run_once()} outbox rows")
        return 0
    stop = threading.Event()
    print("worker running; Ctrl+C stops it")
    try:
        worker.run_forever(stop, poll_seconds=args.poll)
    except KeyboardInterrupt:
        stop.set()
    return 0


def register(sub: Any) -> None:
    """Add ``serve`` and ``worker`` to run.py's subparsers."""
    s = sub.add_parser(
        "serve",
        help="serve the web application and the API (gunicorn; see docs/deploy.md)",
        description="Serve with gunicorn: every worker process builds the app (apps:create_app()). "
        "Other gunicorn settings come from GUNICORN_CMD_ARGS, e.g. '--access-logfile - --timeout 120'.",
    )
    s.add_argument(
        "--bind",
        action="append",
        metavar="ADDRESS",
        help="HOST:PORT or unix:PATH to listen on, repeatable (default 127.0.0.1:5000)",
    )
    s.add_argument("--host", help="alias: --host H --port P is --bind H:P")
    s.add_argument("--port", type=int)
    s.add_argument("--workers", type=int, help="worker processes (default $WEB_CONCURRENCY or 2)")
    s.add_argument("--threads", type=int, help="threads per worker process (default 4)")
    s.add_argument(
        "--dev",
        "--debug",
        action="store_true",
        help="Werkzeug's development server with the reloader and debugger instead (one process)",
    )
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("worker", help="send outbox messages (notifications, webhooks) after commit")
    s.add_argument("--once", action="store_true", help="process what is due, then exit")
    s.add_argument("--poll", type=float, default=1.0, help="seconds between polls")
    s.set_defaults(func=cmd_worker)
