"""Generated pages: list, create, view, edit; link options; server-side compute; the JS modules."""

from __future__ import annotations

import secrets
from typing import Any, Mapping, Optional

from flask import Response, abort, jsonify, redirect, render_template, request, url_for

from apps.workspace import bp, formats
from apps.workspace.auth import context, login_required, platform
from apps.workspace.clientjs import module_for
from apps.workspace.compute import compute
from apps.workspace.fields import FieldView, form_views, local_datetime
from apps.workspace.files import upload, use_files_dir
from apps.workspace.formdata import keep_unposted, raw_from_record, read_post
from apps.workspace.i18n import text
from apps.workspace.labels import file_labels, link_labels, picker_options, record_flags, search_options
from engine.errors import Conflict, NotFound, PermissionDenied, ValidationError
from engine.expr.jscompile import RUNTIME_JS
from engine.flows.changes import ChangeRequested
from engine.forms.coltypes import ID_MAX
from engine.forms.types_extra import format_duration
from engine.pinned import AtRevision
from engine.runtime import Definitions
from engine.service import Records
from engine.store.idempotency import IdempotencyKey


@bp.app_template_filter("ws_datetime")
def _ws_datetime(value: Any, timezone: str) -> str:
    return local_datetime(value, timezone, " ")


@bp.app_template_filter("ws_number")
def _ws_number(value: Any, view: FieldView) -> str:
    """A number as the field's reader reads it (``¥12,345.60``); other values as they are."""
    return view.number_text(value)


@bp.app_template_filter("ws_duration")
def _ws_duration(seconds: Any) -> str:
    import datetime as dt

    return format_duration(dt.timedelta(seconds=int(seconds)))


def readable_defs(form: str) -> Definitions:
    """The active definitions when the user may read ``form``; else 404."""
    defs = platform().definitions()
    if form not in defs.forms or not defs.policy.can(context(), form, "read"):
        abort(404)
    return defs


def field_views(defs: Definitions, form: str) -> list[FieldView]:
    """How the user sees each field of ``form`` (hidden, read-only, editable; formats)."""
    ctx = context()
    return form_views(defs.forms[form], ctx.locale, defs.policy.field_access(ctx, form), defs.timezone, defs.locale)


def may(defs: Definitions, form: str, action: str) -> bool:
    """Whether the user may ``action`` on ``form``."""
    return defs.policy.can(context(), form, action)


@bp.get("/w/")
@login_required
def home() -> Any:
    ctx = context()
    defs = platform().definitions()
    forms = [
        (name, spec.label.get(ctx.locale)) for name, spec in defs.forms.items() if defs.policy.can(ctx, name, "read")
    ]
    return render_template("ws_home.html", forms=forms)


def _form_page(
    defs: Definitions,
    form: str,
    views: list[FieldView],
    raw: Mapping[str, Any],
    *,
    record: Optional[Mapping[str, Any]] = None,
    errors: Optional[Mapping[str, list[str]]] = None,
    message: Optional[str] = None,
    status: int = 200,
) -> Any:
    ctx = context()
    spec = defs.forms[form]
    options = picker_options(defs, ctx, views, raw)
    module = module_for(defs, form, defs.policy.hidden(ctx, form))
    errors = errors or {}
    other = {k: m for k, m in errors.items() if not _drawn(views, k)}
    once = request.form.get("once") or secrets.token_urlsafe(16)
    html = render_template(
        "ws_form.html",
        form=form,
        once=once,
        spec=spec,
        title=spec.label.get(ctx.locale),
        views=views,
        raw=raw,
        record=record,
        errors=errors,
        message=message,
        other_errors=other,
        link_options=options,
        module_version=module.version,
        ctx=ctx,
        separators="".join(formats.separators(ctx.locale)),
    )
    return html, status


def _drawn(views: list[FieldView], key: str) -> bool:
    """True when the page draws the widget an error key (``po``, ``lines[2].qty``) is shown by;
    the others (a hidden field or sub-table column) are listed at the top, by message only."""
    name, _, rest = key.partition("[")
    name = name.split(".")[0]
    for v in views:
        if v.name == name:
            column = rest.partition("].")[2].split(".")[0]
            return not column or v.widget != "table" or any(c.name == column for c in v.children)
    return False


@bp.route("/w/<form>/new", methods=["GET", "POST"])
@login_required
def new_page(form: str) -> Any:
    defs = readable_defs(form)
    if not may(defs, form, "create"):
        abort(403)
    views = field_views(defs, form)
    if request.method == "GET":
        return _form_page(defs, form, views, _defaults(views))
    try:
        data, raw = _posted(defs, form, views)
    except _Unreadable as bad:
        return _failed(defs, form, views, bad.raw, bad.errors)
    try:
        record = Records(platform()).create(context(), form, data, source="web", idem=_once())
    except Exception as exc:  # noqa: BLE001 - shown to the user below, or re-raised
        return _failed(defs, form, views, raw, exc)
    return redirect(url_for("workspace.view_page", form=form, record_id=record["id"], saved=1))


def _at(defs: Definitions, form: str) -> Optional[AtRevision]:
    """``?revision=N``: ``form`` as that revision of its pack defines it (404 when it has none)."""
    raw = request.args.get("revision")
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= ID_MAX:
        abort(404)
    try:
        return Records(platform()).at_revision(defs, form, int(raw))
    except NotFound:
        abort(404)


@bp.get("/w/<form>/<id:record_id>")
@login_required
def view_page(form: str, record_id: int) -> Any:
    """A record; with ``?revision=N``, as revision N of its pack defines the form (read only)."""
    defs = readable_defs(form)
    ctx = context()
    at = _at(defs, form)
    record = _get(form, record_id, at)
    spec = defs.forms[form] if at is None else at.spec
    views = (
        field_views(defs, form)
        if at is None
        else form_views(spec, ctx.locale, at.access(ctx), defs.timezone, defs.locale)
    )
    labels = link_labels(defs, ctx, views, [record])
    labels.update({key: dict(names) for key, names in file_labels(views, [record]).items()})
    title_value = record.get(spec.title) if spec.title else None
    flags = record_flags(Records(platform()), ctx, form, [record_id]).get(record_id, [])
    return render_template(
        "ws_view.html",
        form=form,
        spec=spec,
        title=spec.label.get(ctx.locale),
        views=views,
        record=record,
        labels=labels,
        title_value=title_value,
        flags=flags,
        saved=request.args.get("saved"),
        change_requested=request.args.get("change", type=int),
        can_update=at is None and may(defs, form, "update"),
        revision=None if at is None else at.revision,
    )


@bp.route("/w/<form>/<id:record_id>/edit", methods=["GET", "POST"])
@login_required
def edit_page(form: str, record_id: int) -> Any:
    defs = readable_defs(form)
    if not may(defs, form, "update"):
        abort(403)
    views = field_views(defs, form)
    if request.method == "GET":
        record = _get(form, record_id)
        return _form_page(defs, form, views, raw_from_record(views, record), record=record)
    version_text = request.form.get("version", "")
    version = int(version_text) if version_text.isdigit() else None
    record = {"id": record_id, "version": version}
    try:
        data, raw = _posted(defs, form, views, partial=True)
    except _Unreadable as bad:
        return _failed(defs, form, views, bad.raw, bad.errors, record=record)
    try:
        done = Records(platform()).update(context(), form, record_id, data, version=version, source="web")
    except Exception as exc:  # noqa: BLE001
        return _failed(defs, form, views, raw, exc, record=record)
    if isinstance(done, ChangeRequested):  # under a flow's change control: nothing written yet
        return redirect(url_for("workspace.view_page", form=form, record_id=record_id, change=done["id"]))
    return redirect(url_for("workspace.view_page", form=form, record_id=record_id, saved=1))


def _once() -> Optional[IdempotencyKey]:
    """The create page's one-time key: a double tap on Save (or a resent post) creates one record."""
    key = request.form.get("once", "")
    if not (8 <= len(key) <= 64 and key.replace("-", "").replace("_", "").isalnum()):
        return None
    return IdempotencyKey(context().user_id or 0, "web:" + key, f"POST {request.path}")


class _Unreadable(Exception):
    """Parts of the post could not be read (bad JSON, a file too large): shown with the rest."""

    def __init__(self, raw: dict[str, Any], errors: ValidationError) -> None:
        super().__init__("unreadable post")
        self.raw, self.errors = raw, errors


def _posted(
    defs: Definitions, form: str, views: list[FieldView], partial: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The post as record data. Fields the page did not draw (hidden ones) are passed on as
    sent, so that the server refuses them instead of the page dropping them silently. When
    some inputs cannot be read, raises _Unreadable with their errors and the validator's
    errors on the rest, so the user sees everything at once."""
    use_files_dir()
    lang = context().locale
    data, raw, errors = read_post(views, request.form, request.files, upload, lang)
    drawn = {v.name for v in views}
    for spec in defs.forms[form].fields:
        if spec.name not in drawn and spec.name in request.form:
            data[spec.name] = request.form[spec.name]
    if errors:
        rest = {k: v for k, v in data.items() if k not in errors}
        try:
            defs.validators[form].validate(rest, partial=partial, locale=lang)
        except ValidationError as exc:
            errors = {**exc.fields, **errors}
        raise _Unreadable(raw, ValidationError(errors))
    return data, raw


def _get(form: str, record_id: int, at: Optional[AtRevision] = None) -> dict[str, Any]:
    try:
        return Records(platform()).get(context(), form, record_id, revision=None if at is None else at.revision)
    except NotFound:
        abort(404)


def _defaults(views: list[FieldView]) -> dict[str, Any]:
    """What a new record's inputs hold before the user types: the fields' defaults."""
    return {v.name: v.spec.default for v in views if v.spec.default is not None and v.widget != "table"}


def _shown_before(form: str, views: list[FieldView], record: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    """What the page showed before the post: the stored record (as it is now), or the defaults."""
    if record is None:
        return _defaults(views)
    try:
        return raw_from_record(views, Records(platform()).get(context(), form, int(record["id"])))
    except NotFound:
        return {}


def _failed(
    defs: Definitions,
    form: str,
    views: list[FieldView],
    raw: Mapping[str, Any],
    exc: Exception,
    record: Optional[Mapping[str, Any]] = None,
) -> Any:
    """Redraw the form with the user's input and the errors by field, in their language; the
    inputs a browser does not post (read-only, locked, computed) show what they showed."""
    lang = context().locale
    raw = keep_unposted(views, raw, _shown_before(form, views, record))
    if isinstance(exc, ValidationError):
        return _form_page(
            defs, form, views, raw, record=record, errors=exc.fields, message=text("invalid", lang), status=422
        )
    if isinstance(exc, Conflict):
        message = text("conflict", lang) if not exc.fields else text("invalid", lang)
        return _form_page(defs, form, views, raw, record=record, errors=exc.fields, message=message, status=409)
    if isinstance(exc, PermissionDenied):
        return _form_page(
            defs, form, views, raw, record=record, errors=exc.fields, message=text("forbidden", lang), status=403
        )
    if isinstance(exc, NotFound):
        abort(404)
    raise exc


@bp.get("/w/<form>/options")
@login_required
def options(form: str) -> Any:
    """Records of ``form`` for a link picker: ``[{"id", "label"}]``, searched with ``q``; only
    the rows the user may read (``search_options`` lists them through ``Records``)."""
    defs = readable_defs(form)
    return jsonify(search_options(defs, context(), form, request.args.get("q", "").strip()))


@bp.post("/w/<form>/compute")
@login_required
def compute_values(form: str) -> Any:
    """Values of the conditions and formulas the browser cannot compute (they read other records)."""
    defs = readable_defs(form)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400)
    return jsonify(compute(platform(), defs, context(), form, body))


@bp.get("/w/_js/<form>.<version>.js")
@login_required
def form_module(form: str, version: str) -> Any:
    defs = readable_defs(form)
    at = _at(defs, form)
    module = (
        module_for(defs, form, defs.policy.hidden(context(), form))
        if at is None
        else module_for(at.pinned, form, at.hidden(context()))
    )
    resp = Response(module.text, mimetype="text/javascript")
    if version == module.version:
        resp.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    else:
        resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/w/_js/expr-runtime.js")
def expr_runtime() -> Any:
    resp = Response("window.LowcodeExpr = " + RUNTIME_JS + ";\n", mimetype="text/javascript")
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp
