"""``run.py flows simulate FLOW --record JSON``: the path a record would take (registered by
:mod:`apps.cli.flows`, beside ``check`` and ``draw``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Mapping

from apps.cli import common
from apps.cli.flows_sim import Resolver, describe, simulate
from engine.definitions.model import FieldSpec
from engine.errors import LowcodeError
from engine.forms import FIELD_TYPES, FieldError


def register(flows: Any) -> None:
    """Add the run-time commands to ``run.py flows``'s subparsers."""
    p = flows.add_parser(
        "simulate",
        help="the path a record would take through a flow (gateway edges, assignees); writes nothing",
        description="Run a record through the flow's machine, approving or completing every human node in "
        "turn: which nodes it passes, which edge each gateway takes, who each task would go to (read from "
        "the database's users and roles). Nothing is written.",
    )
    p.add_argument("flow", help="the flow's name")
    p.add_argument(
        "--record",
        required=True,
        help='the record as JSON, e.g. \'{"total": 60000}\'; with "id", the stored record with these changes; '
        "@file.json reads a file",
    )
    p.add_argument("--user", help="simulate as this user started it (default: the system)")
    p.add_argument(
        "--action",
        action="append",
        metavar="NODE=ACTION",
        help="state-machine mode: the action to take at NODE (default: its first)",
    )
    p.add_argument("--json", action="store_true", help="print the path as JSON")
    p.set_defaults(func=cmd_simulate)
    register_replay(flows)


def _typed(fields: tuple[FieldSpec, ...], data: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON values as the record holds them (a money text as a Decimal, a date as a date);
    a value its type cannot read is passed on as it is."""
    out: dict[str, Any] = dict(data)
    for spec in fields:
        if spec.name not in data or data[spec.name] in (None, "", []):
            continue
        value = data[spec.name]
        if spec.fields:
            out[spec.name] = (
                [_typed(spec.fields, r) for r in value if isinstance(r, Mapping)] if isinstance(value, list) else value
            )
            continue
        ftype = FIELD_TYPES.get(spec.type)
        if ftype is None:
            continue
        try:
            out[spec.name] = ftype.parse(spec, value)
        except (FieldError, ValueError, TypeError):
            pass
    return out


def _record_json(text: str) -> dict[str, Any]:
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8") as fh:
            text = fh.read()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"--record: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("--record: give a JSON object of field values")
    return data


def cmd_simulate(args: argparse.Namespace) -> int:
    from engine.store.access import ConnAccess

    p = common.platform()
    defs = p.definitions()
    flows = getattr(defs, "flows", {}) or {}
    flow = flows.get(args.flow)
    if flow is None:
        known = ", ".join(sorted(flows)) or "none"
        print(f"no flow named {args.flow!r} (flows: {known})", file=sys.stderr)
        return 1
    actions = dict(a.partition("=")[::2] for a in args.action or ())
    try:
        data = _record_json(args.record)
    except (ValueError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        ctx = p.user_context(args.user) if args.user else p.system_context()
        form = defs.forms[flow.form]
        store = p.store_of(defs)
        with p.db.connect() as conn:
            record: dict[str, Any] = {}
            if "id" in data:
                found = store.get(conn, flow.form, int(data["id"]))
                if found is None:
                    print(f"{flow.form} {data['id']} not found", file=sys.stderr)
                    return 1
                record = dict(found)
            record.update(_typed(form.fields, data))
            starter = p.users.by_name(conn, args.user) if args.user else None
            resolver = Resolver(
                conn,
                p.users,
                ConnAccess(conn, store),
                org=getattr(p.flows, "org", None),
                starter_id=starter.id if starter is not None else None,
                flow=flow.name,
                now=p.clock.now(),
            )
            sim = simulate(flow, record, ctx, resolver, actions)
    except LowcodeError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(sim.to_dict(), ensure_ascii=False, default=str))
    else:
        print("\n".join(describe(sim)))
    return 1 if sim.error else 0


def register_replay(flows: Any) -> None:
    p = flows.add_parser(
        "replay",
        help="what-if: replay the instances of FLOW started since a date through another revision",
        description="Run the records of every instance of FLOW started since --since (as each record was when "
        "its instance started) through the flow of another revision: a draft pack on disk (--revision draft "
        "--pack DIR) or a stored revision (--revision N). Prints, as JSON, the instances whose path or "
        "assignees would differ. Nothing is written.",
    )
    p.add_argument("flow")
    p.add_argument("--revision", default="draft", help="draft (the pack at --pack) or a stored revision number")
    p.add_argument("--pack", default=common.DEFAULT_PACK, help="the draft pack's directory (default: the bundled pack)")
    p.add_argument("--since", required=True, help="2026-10-01, or 30d / 12h")
    p.set_defaults(func=cmd_replay)


def cmd_replay(args: argparse.Namespace) -> int:
    from apps.cli.flows_replay import replay
    from engine.checks import load_for_check
    from engine.rules.tools import parse_since

    p = common.platform()
    try:
        since = parse_since(args.since, p.clock.now())
    except ValueError:
        print(f"--since: a date (2026-10-01) or a span (30d, 12h), not {args.since!r}", file=sys.stderr)
        return 2
    try:
        if args.revision == "draft":
            draft, errors = load_for_check(args.pack)
            if errors or draft is None:
                print("\n".join(str(e) for e in errors), file=sys.stderr)
                return 1
        elif args.revision.isdigit():
            flow = p.definitions().flows.get(args.flow)
            pack = p.definitions().pack_of(flow.form) if flow is not None else None
            if pack is None:
                print(f"no flow named {args.flow!r}", file=sys.stderr)
                return 1
            draft = p.definitions_at(pack, int(args.revision))
        else:
            print(f"--revision: draft or a revision number, not {args.revision!r}", file=sys.stderr)
            return 2
        result = replay(p, draft, args.flow, since, p.system_context(), _typed)
    except LowcodeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False, default=str))
    return 0
