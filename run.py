#!/usr/bin/env python
"""Lowcode command line: serve, worker, check, migrate, demo, export, import, user, db, data,
forms, rules. The entry point only: the commands are in apps/cli/."""

from __future__ import annotations

import sys

from apps.cli import main, parser

__all__ = ["main", "parser"]

if __name__ == "__main__":
    sys.exit(main())
