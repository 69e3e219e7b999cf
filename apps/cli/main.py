"""The command line's parser and dispatch: every command is a module's ``register(sub)``."""

from __future__ import annotations

import argparse
from typing import Optional, Sequence

from apps.cli import data, db, flows, org, packs, rules, server, users

#: each adds its commands to the subparsers; a command's ``func`` takes the parsed args and
#: returns the exit code
COMMANDS = (server, packs, users, org, db, data, rules, flows)


def parser() -> argparse.ArgumentParser:
    """run.py's argument parser, every command registered."""
    p = argparse.ArgumentParser(
        prog="run.py",
        description="Lowcode platform command line. "
        "Settings come from the environment: DATABASE_URL (default: SQLite file "
        "instance/lowcode.db), SECRET_KEY.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Parse ``argv`` and run its command; the exit code."""
    p = parser()
    args = p.parse_args(argv)
    if not getattr(args, "func", None):
        p.print_help()
        return 2
    return int(args.func(args) or 0)
