"""``/flows`` (the flows the caller may see, a flow's graph as SVG) and a record's flow:
``/records/<form>/<id>/flow`` (instance, path, open tasks, history), ``/flow/start``, ``/flow/withdraw``."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from apps.api import bp
from apps.api.context import caller, json_body, platform
from apps.api.flow_common import COMMENT_MAX, NAME_MAX, inbox, optional_body, plain, query_int, said, text_of
from apps.flowgraph import flow_summary, graph_svg, visible_flow
from engine.errors import NotFound, ValidationError
from engine.forms.coltypes import ID_MAX
from engine.service import Records


@bp.get("/flows")
def list_flows() -> Any:
    ctx, defs = caller(), platform().definitions()
    form = request.args.get("form") or None
    items = [
        flow_summary(f, ctx.locale)
        for f in defs.flows.values()
        if f.form in defs.forms and defs.policy.can(ctx, f.form, "read") and (form is None or f.form == form)
    ]
    return jsonify({"items": items, "total": len(items)})


@bp.get("/flows/<name>/graph.svg")
def flow_graph(name: str) -> Any:
    """``?record=ID``: that record's instance of the flow drawn on it (its path, where it stands)."""
    ctx, defs = caller(), platform().definitions()
    flow = visible_flow(defs, ctx, name)
    record = query_int("record", 0, 1, ID_MAX) if request.args.get("record") else None
    instance = None
    if record is not None:
        _readable(flow.form, record)
        instance = inbox().instance(ctx, flow.form, record)
        if instance is not None and instance.get("flow") not in (None, flow.name):
            instance = None
    resp = Response(graph_svg(flow, ctx.locale, instance), mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp


def _readable(form: str, record_id: int, action: str = "read") -> None:
    """The caller may read the record (404 when not: no hint it exists), and ``action`` the form."""
    ctx = caller()
    Records(platform()).get(ctx, form, record_id)
    if action != "read":
        platform().definitions().policy.require(ctx, form, action)


@bp.get("/records/<form>/<id:record_id>/flow")
def record_flow(form: str, record_id: int) -> Any:
    _readable(form, record_id)
    found = inbox().instance(caller(), form, record_id)
    if found is None:
        raise NotFound(f"{form} {record_id} has no flow")
    return jsonify(plain(found))


@bp.post("/records/<form>/<id:record_id>/flow/start")
def start_record_flow(form: str, record_id: int) -> Any:
    body = json_body()
    errors: dict[str, list[str]] = {}
    name = text_of(body, "flow", errors, NAME_MAX)
    if name is None and "flow" not in errors:
        errors["flow"] = [said("flow_required")]
    if errors or name is None:
        raise ValidationError(errors)
    _readable(form, record_id, "update")
    resp = jsonify(plain(inbox().start(caller(), form, record_id, name)))
    resp.status_code = 201
    resp.headers["Location"] = f"/api/v1/records/{form}/{record_id}/flow"
    return resp


@bp.post("/records/<form>/<id:record_id>/flow/withdraw")
def withdraw_record_flow(form: str, record_id: int) -> Any:
    body = optional_body()
    errors: dict[str, list[str]] = {}
    comment = text_of(body, "comment", errors, COMMENT_MAX)
    if errors:
        raise ValidationError(errors)
    _readable(form, record_id)
    return jsonify(plain(inbox().withdraw(caller(), form, record_id, comment)))
