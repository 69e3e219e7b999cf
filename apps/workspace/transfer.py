"""Spreadsheets in the workspace: a list view downloaded as .xlsx/.csv, and the import page.

Both go through :class:`engine.service.Records` like the API (``/records/<form>/export`` and
``/import``): the same permissions, validation, lookups and rules, and the same report.
"""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request

from apps.spreadsheets import export_download, template_download
from apps.workspace import bp
from apps.workspace.auth import context, login_required, platform
from apps.workspace.i18n import text
from apps.workspace.lists import export_query
from apps.workspace.views import may, readable_defs
from engine.errors import PermissionDenied, QueryError
from engine.forms import FIELD_TYPES
from engine.io.readers import ReadError, detect_format
from engine.runtime import Definitions
from engine.service import Records

MODES = ("all-or-nothing", "skip-invalid")


@bp.get("/w/<form>/export")
@login_required
def export_list(form: str) -> Any:
    """The list view (its search, filters and sort: the list page's parameters) as a download,
    in the caller's language."""
    defs = readable_defs(form)
    if not may(defs, form, "export"):
        abort(403)
    ctx = context()
    try:
        return export_download(
            Records(platform()),
            ctx,
            form,
            export_query(defs, form, request.args, ctx.locale),
            request.args.get("format", "xlsx"),
        )
    except QueryError:
        abort(400)


@bp.get("/w/<form>/import/template")
@login_required
def import_template(form: str) -> Any:
    """An empty .xlsx whose header row names the columns this user may import."""
    _importable(form)
    return template_download(Records(platform()), context(), form)


def _importable(form: str) -> Any:
    """The definitions, when the user may import into ``form`` (create or update it); else 403."""
    defs = readable_defs(form)
    if not (may(defs, form, "create") or may(defs, form, "update")):
        abort(403)
    return defs


def _keys(defs: Definitions, form: str, locale: str) -> list[tuple[str, str]]:
    """The fields an import may match existing records by: the stored unique ones."""
    return [
        (f.name, f.label.get(locale) or f.name)
        for f in defs.forms[form].fields
        if f.unique and FIELD_TYPES[f.type].stored
    ]


@bp.route("/w/<form>/import", methods=["GET", "POST"])
@login_required
def import_page(form: str) -> Any:
    defs = _importable(form)
    ctx = context()
    keys = _keys(defs, form, ctx.locale)
    chosen = {
        "mode": request.form.get("mode", MODES[0]),
        "key": request.form.get("key", ""),
        "dry_run": request.form.get("dry_run") == "1",
    }
    page = {
        "form": form,
        "title": defs.forms[form].label.get(ctx.locale),
        "keys": keys,
        "chosen": chosen,
        "modes": MODES,
    }
    if request.method == "GET":
        return render_template("ws_import.html", **page)
    if chosen["mode"] not in MODES or (chosen["key"] and chosen["key"] not in dict(keys)):
        abort(400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("ws_import.html", problem=text("import_no_file", ctx.locale), **page), 400
    try:
        report = Records(platform()).import_file(
            ctx,
            form,
            upload.stream,
            detect_format(upload.filename),
            mode=chosen["mode"],
            key=chosen["key"] or None,
            dry_run=chosen["dry_run"],
        )
    except ReadError as exc:
        problem = text("import_unreadable", ctx.locale, detail=str(exc))
    except QueryError as exc:  # no header row, the key column missing: in the user's language
        problem = str(exc)
    except PermissionDenied:
        abort(403)
    else:
        return render_template("ws_import.html", report=report, **page), (200 if report.ok else 422)
    return render_template("ws_import.html", problem=problem, **page), 400
