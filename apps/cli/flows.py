"""``run.py flows check [PACK_DIR] | draw FLOW [--mermaid] [-o FILE]`` (and what ``flows_run`` adds).

``check`` loads a pack folder (the bundled one by default) and reports every error, flows' and
the rest, at ``file:line:col``; ``--lang zh-CN`` prints the flows' messages in Chinese.
``draw`` writes a flow's graph as SVG, or Mermaid text with ``--mermaid``, from a pack folder
(``--pack DIR``) or from the published definitions (the default).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from typing import Any, Optional

from apps.cli import common
from engine.checks import load_for_check
from engine.definitions.schema_check import did_you_mean
from engine.errors import DefinitionError, LowcodeError
from engine.flows.draw import mermaid, svg
from engine.flows.texts import FlowError
from engine.runtime import Definitions

#: the module of the surface lane's subcommands (simulate, replay, migrate), registered when present
RUN_MODULE = "apps.cli.flows_run"


def _line(e: DefinitionError, lang: Optional[str]) -> str:
    if lang is None or not isinstance(e, FlowError):
        return str(e)
    head = f"{e.position}: {e.text(lang)}" if str(e.position) else e.text(lang)
    return head + (f" ({e.hint})" if e.hint else "")


def cmd_check(args: argparse.Namespace) -> int:
    target = args.pack or common.DEFAULT_PACK
    defs, errors = load_for_check(target)
    for e in errors:
        print(_line(e, args.lang), file=sys.stderr)
    if errors or defs is None:
        print(f"{len(errors)} error{'s' if len(errors) != 1 else ''} in {target}", file=sys.stderr)
        return 1
    names = sorted(defs.flows)
    print(f"ok: {len(names)} flow{'s' if len(names) != 1 else ''}" + (f" ({', '.join(names)})" if names else ""))
    return 0


def _definitions(pack: Optional[str]) -> Definitions:
    if pack is not None:
        if not os.path.isdir(pack):
            raise SystemExit(f"error: no pack folder at '{pack}'")
        defs, errors = load_for_check(pack)
        if errors or defs is None:
            raise SystemExit("\n".join(str(e) for e in errors))
        return defs
    return common.platform().definitions()


def cmd_draw(args: argparse.Namespace) -> int:
    defs = _definitions(args.pack)
    flow = defs.flows.get(args.flow)
    if flow is None:
        hint = did_you_mean(args.flow, list(defs.flows))
        known = ", ".join(sorted(defs.flows)) or "none"
        print(f"error: no flow named '{args.flow}' ({hint or f'flows: {known}'})", file=sys.stderr)
        return 1
    path = [p for p in (args.path or "").split(",") if p]
    current = [c for c in (args.current or "").split(",") if c]
    draw = mermaid if args.mermaid else svg
    text = draw(flow, locale=args.lang or defs.locale, path=path, current=current)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def _friendly(fn: Any) -> Any:
    """Print a platform error as one message and exit 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return int(fn(args) or 0)
        except LowcodeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return run


def register(sub: Any) -> None:
    s = sub.add_parser("flows", help="flows: check, draw (and simulate, replay when installed)")
    fs = s.add_subparsers(dest="flows_command", metavar="ACTION")
    c = fs.add_parser("check", help="check a pack's flows (and the rest of it); exit 1 on errors")
    c.add_argument("pack", nargs="?", help="a pack folder (default: the bundled definitions/oms)")
    c.add_argument("--lang", help="print the flows' messages in this language (zh-CN, en)")
    c.set_defaults(func=_friendly(cmd_check))
    d = fs.add_parser("draw", help="a flow's graph as SVG (or Mermaid text)")
    d.add_argument("flow")
    d.add_argument("--pack", help="a pack folder (default: the published definitions)")
    d.add_argument("--mermaid", action="store_true", help="Mermaid flowchart text instead of SVG")
    d.add_argument("-o", "--output", help="write to this file (default: standard output)")
    d.add_argument("--lang", help="the language of the labels (default: the pack's)")
    d.add_argument("--path", help="visited node ids, comma-separated, highlighted")
    d.add_argument("--current", help="the nodes an instance stands at, comma-separated")
    d.set_defaults(func=_friendly(cmd_draw))
    # ---- the surface lane's subcommands (simulate, replay, migrate): apps/cli/flows_run.py ----
    # It defines ``register(fs)`` taking these subparsers; nothing else here needs to change.
    if importlib.util.find_spec(RUN_MODULE) is not None:
        importlib.import_module(RUN_MODULE).register(fs)
    s.set_defaults(func=lambda a: (s.print_help(), 2)[1])
