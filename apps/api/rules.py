"""``/rules/runs``: the rule execution log (permissions apply) and re-running a failed run."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from flask import jsonify, request

from apps.api import bp
from apps.api.context import caller, platform
from apps.api.errors import ApiError, error_response
from engine.rules import log as runlog
from engine.rules.errors import RuleChainTooDeep, RuleFailed
from engine.rules.said import for_reader
from engine.rules.tools import check_visible, rerun, visible_runs_clause


def _when(name: str) -> Optional[dt.datetime]:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "bad_request", f"'{name}' must be an ISO date or date-time, not {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _int(name: str, default: Optional[int] = None, low: int = 0, high: int = 10**12) -> Optional[int]:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_request", f"'{name}' must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise ApiError(400, "bad_request", f"'{name}' must be between {low} and {high}")
    return value


def _json(row: dict[str, Any]) -> dict[str, Any]:
    """A run as the caller may read it: summaries without the fields hidden from them."""
    hidden = platform().definitions().policy.hidden(caller(), row["form"]) if row.get("form") else frozenset()
    return {
        k: (v.isoformat() if isinstance(v, dt.datetime) else for_reader(v, hidden) if k == "actions" else v)
        for k, v in row.items()
    }


@bp.get("/rules/runs")
def list_rule_runs() -> Any:
    ctx = caller()
    outcome = request.args.get("outcome")
    if outcome and outcome not in runlog.OUTCOMES:
        raise ApiError(400, "bad_request", f"'outcome' is one of {', '.join(runlog.OUTCOMES)}")
    page = _int("page", 1, 1) or 1
    limit = _int("limit", 50, 1, 500) or 50
    p = platform()
    where = visible_runs_clause(p, ctx)
    with p.db.connect() as conn:
        rows, total = runlog.query_runs(
            conn,
            rule=request.args.get("rule"),
            form=request.args.get("form"),
            record=_int("record"),
            outcome=outcome,
            since=_when("from"),
            until=_when("to"),
            where=where,
            limit=limit,
            offset=(page - 1) * limit,
        )
    return jsonify({"items": [_json(r) for r in rows], "total": total, "page": page, "limit": limit})


@bp.get("/rules/runs/<id:run_id>")
def get_rule_run(run_id: int) -> Any:
    p = platform()
    with p.db.connect() as conn:
        row = runlog.get_run(conn, run_id)
    if row is None:
        raise ApiError(404, "not_found", f"rule run {run_id} not found")
    check_visible(p, caller(), row)
    return jsonify(_json(row))


@bp.post("/rules/runs/<id:run_id>/rerun")
def rerun_rule_run(run_id: int) -> Any:
    p = platform()
    ctx = caller()
    with p.db.connect() as conn:
        row = runlog.get_run(conn, run_id)
    if row is None:
        raise ApiError(404, "not_found", f"rule run {run_id} not found")
    check_visible(p, ctx, row)
    return jsonify(_json(rerun(p, run_id, ctx)))


@bp.app_errorhandler(RuleFailed)
def _rule_failed(exc: RuleFailed) -> Any:
    return error_response(
        422, "rule_failed", str(exc), {"rule": [exc.rule], "action": [exc.action], "position": [str(exc.position)]}
    )


@bp.app_errorhandler(RuleChainTooDeep)
def _rule_chain(exc: RuleChainTooDeep) -> Any:
    return error_response(422, "rule_chain_too_deep", str(exc), {"chain": exc.chain})
