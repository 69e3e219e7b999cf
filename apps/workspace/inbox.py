"""The inbox pages: ``/w/inbox`` (my open tasks, counts by flow, batch approve), ``/w/tasks/<id>``
(the record as the node shows it, the actions, the path on the graph, the time left), a record's
flow panel and withdraw, and the graph as SVG. Every action is one call of :class:`engine.inbox.Inbox`."""

from __future__ import annotations

from typing import Any, Literal, Mapping, Optional

from flask import Response, abort, redirect, render_template, request, url_for

from apps.flowgraph import graph_svg, visible_flow
from apps.taskview import may_see, task_record
from apps.workspace import bp
from apps.workspace.auth import context, login_required, platform
from apps.workspace.files import use_files_dir
from apps.workspace.formdata import raw_from_record, read_post
from apps.workspace.i18n import text
from apps.workspace.labels import file_labels, link_labels, picker_options
from apps.workspace.tasking import (
    flow_choices,
    flow_of,
    history_rows,
    ids_from,
    inbox_of,
    label_of,
    node_of,
    open_count,
    path_nodes,
    record_titles,
    return_targets,
    task_fields,
    time_left,
    who,
    withdrawable,
)
from engine.errors import Conflict, LowcodeError, NotFound, PermissionDenied, ValidationError
from engine.store import files

PAGE = 50
#: the page's buttons -> the inbox's actions
ACTIONS = ("approve", "reject", "transfer", "add_approver", "comment", "submit")
#: an attachment to a comment: at most this large (the file store refuses a larger one)
ATTACHMENT_MAX = 20 * 1024 * 1024


@bp.app_context_processor
def _inbox_badge() -> dict[str, Any]:
    """``nav_inbox``: the open task count for the menu's inbox entry (None: no flow engine)."""
    from apps.workspace.auth import current_user

    if request.blueprint != "workspace" or current_user() is None:
        return {}
    return {"nav_inbox": open_count(platform(), context())}


@bp.get("/w/inbox")
@login_required
def inbox_page() -> Any:
    ctx, defs = context(), platform().definitions()
    status = "done" if request.args.get("status") == "done" else "open"
    flow = request.args.get("flow") or None
    offset = int(request.args["offset"]) if request.args.get("offset", "").isdigit() else 0
    answer = inbox_of(platform()).tasks(ctx, status=status, flow=flow, limit=PAGE, offset=offset)
    items = list(answer.get("items") or ())
    titles = record_titles(platform(), defs, items)
    rows = []
    for task in items:
        spec = flow_of(defs, task.get("flow"))
        rows.append(
            {
                "task": task,
                "flow": spec.label.get(ctx.locale) if spec is not None else task.get("flow"),
                "node": label_of(spec, task.get("node"), ctx.locale),
                "who": who(task, ctx.locale, defs),
                "left": time_left(task.get("due_at"), platform().clock.now(), ctx.locale),
                "title": titles.get(
                    (str(task.get("form")), int(task.get("record_id") or 0)), f"#{task.get('record_id')}"
                ),
                "batch": status == "open" and task.get("kind", "approval") == "approval",
            }
        )
    return render_template(
        "ws_inbox.html",
        rows=rows,
        total=int(answer.get("total", 0)),
        counts=flow_choices(defs, ctx, answer.get("counts") or {}),
        status=status,
        flow=flow,
        offset=offset,
        page=PAGE,
        done=request.args.get("done"),
        approved=request.args.get("approved"),
        refused=request.args.get("refused"),
    )


@bp.post("/w/inbox/batch-approve")
@login_required
def batch_approve_page() -> Any:
    ctx = context()
    ids = ids_from(request.form.getlist("ids"))
    comment = request.form.get("comment", "").strip() or None
    outcomes = inbox_of(platform()).batch_approve(ctx, ids, comment)
    refused = sum(1 for _, done in outcomes if isinstance(done, LowcodeError))
    approved = len(outcomes) - refused
    return redirect(url_for("workspace.inbox_page", approved=approved, refused=refused))


def _task_or_404(task_id: int) -> dict[str, Any]:
    """The task, for a user who may see it (403 for anyone else)."""
    try:
        task = dict(inbox_of(platform()).task(context(), task_id))
    except NotFound:
        abort(404)
    if not may_see(context(), task):
        abort(403)
    return task


def _record_of(task: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return task_record(platform(), context(), task)
    except NotFound:
        abort(404)


def _task_page(
    task: Mapping[str, Any],
    *,
    errors: Optional[Mapping[str, list[str]]] = None,
    message: Optional[str] = None,
    raw: Optional[Mapping[str, Any]] = None,
    status: int = 200,
) -> Any:
    ctx, defs = context(), platform().definitions()
    flow = flow_of(defs, task.get("flow"))
    node = node_of(flow, task.get("node"))
    record = _record_of(task)
    fields = task_fields(defs, ctx, task, node)
    labels = link_labels(defs, ctx, fields.all, [record]) if fields.all else {}
    labels.update({key: dict(names) for key, names in file_labels(fields.all, [record]).items()})
    shown_raw = dict(raw) if raw is not None else raw_from_record(fields.editable, record)
    instance = task.get("instance") or inbox_of(platform()).instance(ctx, str(task["form"]), int(task["record_id"]))
    open_ = task.get("status", "open") == "open"
    actions = task.get("actions")
    if actions is None:
        actions = (
            ["submit", "transfer", "comment"]
            if task.get("kind") == "task"
            else ["approve", "reject", "transfer", "add_approver", "comment"]
        )
    html = render_template(
        "ws_task.html",
        task=task,
        flow=flow,
        flow_label=flow.label.get(ctx.locale) if flow is not None else task.get("flow"),
        node_label=label_of(flow, task.get("node"), ctx.locale),
        record=record,
        title=defs.forms[task["form"]].label.get(ctx.locale) if task.get("form") in defs.forms else "",
        fields=fields,
        labels=labels,
        raw=shown_raw,
        link_options=picker_options(defs, ctx, fields.editable, shown_raw) if fields.editable else {},
        errors=errors or {},
        message=message,
        actions=actions if open_ else ["comment"],
        targets=return_targets(flow, instance, task.get("node"), ctx.locale),
        left=time_left(task.get("due_at"), platform().clock.now(), ctx.locale),
        who=who(task, ctx.locale, defs),
        history=history_rows(instance, flow, ctx.locale),
        instance=instance,
        path=path_nodes(instance),
        is_open=open_,
    )
    return html, status


@bp.get("/w/tasks/<id:task_id>")
@login_required
def task_page(task_id: int) -> Any:
    return _task_page(_task_or_404(task_id))


def _attachments(ctx: Any) -> list[int]:
    """The files posted with a comment, stored at once (the ids go into the history)."""
    use_files_dir()
    out = []
    for part in request.files.getlist("attachments"):
        if not part or not part.filename:
            continue
        with platform().db.begin() as conn:
            row = files.save(
                conn, ctx, part.filename, part.mimetype or "", part.read(), max_size=ATTACHMENT_MAX, accept=None
            )
        out.append(int(row["id"]))
    return out


@bp.post("/w/tasks/<id:task_id>/<action>")
@login_required
def task_action(task_id: int, action: str) -> Any:
    if action not in ACTIONS:
        abort(404)
    ctx, lang = context(), context().locale
    task = _task_or_404(task_id)
    defs = platform().definitions()
    fields = task_fields(defs, ctx, task, node_of(flow_of(defs, task.get("flow")), task.get("node")))
    values, raw, unreadable = read_post(fields.editable, request.form, None, None, lang)
    comment = request.form.get("comment", "").strip() or None
    errors: dict[str, list[str]] = dict(unreadable)
    if action == "reject" and comment is None:
        errors["comment"] = [text("comment_required", lang)]
    if action in ("transfer", "add_approver") and not request.form.get("to_user", "").strip():
        errors["to_user"] = [text("user_required", lang)]
    if errors:
        return _task_page(task, errors=errors, message=text("invalid", lang), raw=raw, status=422)
    try:
        attachments = _attachments(ctx) if action == "comment" else []
        inbox_of(platform()).act(
            ctx,
            task_id,
            action,
            comment=comment,
            values=values if action in ("approve", "submit") and values else None,
            to_node=request.form.get("to_node") or None if action == "reject" else None,
            to_user=request.form.get("to_user", "").strip() or None,
            where=_where() if action == "add_approver" else None,
            attachments=attachments,
        )
    except ValidationError as exc:
        return _task_page(task, errors=exc.fields, message=_said(exc, lang, "invalid"), raw=raw, status=422)
    except Conflict as exc:
        return _task_page(task, message=_said(exc, lang, "task_taken"), raw=raw, status=409)
    except PermissionDenied as exc:
        return _task_page(task, message=_said(exc, lang, "forbidden"), raw=raw, status=403)
    except NotFound:
        abort(404)
    if action == "comment":
        return redirect(url_for("workspace.task_page", task_id=task_id, commented=1))
    return redirect(url_for("workspace.inbox_page", done=task_id))


def _where() -> Optional[Literal["before", "after"]]:
    return "before" if request.form.get("where") == "before" else "after"


def _said(exc: LowcodeError, lang: str, fallback: str) -> str:
    return exc.text(lang) if exc.key is not None else text(fallback, lang)


def flow_panel(form: str, record_id: int) -> Optional[dict[str, Any]]:
    """What the record page's flow panel shows: the instance, its path and history, and
    whether the user may withdraw it; None when the record has no flow."""
    ctx, defs = context(), platform().definitions()
    if not (getattr(defs, "flows_of", None) and defs.flows_of(form)):
        return None
    instance = inbox_of(platform()).instance(ctx, form, record_id)
    if instance is None:
        return None
    flow = flow_of(defs, instance.get("flow"))
    return {
        "instance": instance,
        "flow": flow,
        "label": flow.label.get(ctx.locale) if flow is not None else instance.get("flow"),
        "status": text_or_status(instance.get("status"), ctx.locale),
        "history": history_rows(instance, flow, ctx.locale),
        "current": [label_of(flow, t.get("node"), ctx.locale) for t in instance.get("tasks") or ()],
        "withdraw": withdrawable(flow, instance, ctx),
        "graph": url_for("workspace.flow_graph_page", name=instance.get("flow"), record=record_id),
    }


def text_or_status(status: Any, lang: str) -> str:
    from apps.workspace.i18n import TEXTS

    key = f"status_{status}"
    return text(key, lang) if key in TEXTS else str(status or "")


@bp.app_template_global("flow_panel")
def _flow_panel(form: str, record_id: int) -> Optional[dict[str, Any]]:
    return flow_panel(form, record_id)


@bp.post("/w/<form>/<id:record_id>/flow/withdraw")
@login_required
def withdraw_page(form: str, record_id: int) -> Any:
    comment = request.form.get("comment", "").strip() or None
    try:
        inbox_of(platform()).withdraw(context(), form, record_id, comment)
    except NotFound:
        abort(404)
    except (PermissionDenied, Conflict):
        abort(403)
    return redirect(url_for("workspace.view_page", form=form, record_id=record_id, withdrawn=1))


@bp.get("/w/flows/<name>/graph.svg")
@login_required
def flow_graph_page(name: str) -> Any:
    """The flow's graph; ``?record=ID``: that record's path and where it stands, marked."""
    ctx, defs = context(), platform().definitions()
    try:
        flow = visible_flow(defs, ctx, name)
    except NotFound:
        abort(404)
    record = request.args.get("record", "")
    instance = inbox_of(platform()).instance(ctx, flow.form, int(record)) if record.isdigit() else None
    resp = Response(graph_svg(flow, ctx.locale, instance), mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp
