"""``/records/<form>/batch``, ``/import`` and ``/export``: many records at once."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request

from apps.api import bp
from apps.api.context import caller, idempotency_key, json_body, platform
from apps.api.errors import ApiError
from apps.spreadsheets import export_download, template_download
from engine.io.readers import ReadError, detect_format
from engine.listing import ListQuery
from engine.service import Records

_TRUE = ("1", "true", "yes", "on")


def _records() -> Records:
    return Records(platform())


@bp.post("/records/<form>/batch")
def batch_records(form: str) -> Any:
    body = json_body()
    if not isinstance(body, dict) or "items" not in body:
        raise ApiError(400, "bad_request", 'the body must be {"items": [...]}')
    limit = int(current_app.config.get("BATCH_MAX_ITEMS", 1000))
    items = _records().batch(caller(), form, body["items"], max_items=limit, idem=idempotency_key())
    return jsonify({"items": items, "count": len(items)}), 200


@bp.post("/records/<form>/import")
def import_records(form: str) -> Any:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(400, "bad_request", "send the spreadsheet as multipart form data in a field named 'file'")
    params = {**request.args.to_dict(), **request.form.to_dict()}
    try:
        fmt = params.get("format") or detect_format(upload.filename)
    except ReadError as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    try:
        report = _records().import_file(
            caller(),
            form,
            upload.stream,
            fmt,
            mode=params.get("mode", "all-or-nothing"),
            key=params.get("key") or None,
            dry_run=params.get("dry_run", "").lower() in _TRUE,
        )
    except ReadError as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    return jsonify(report.to_dict()), (200 if report.ok else 422)


@bp.get("/records/<form>/import/template")
def import_template(form: str) -> Any:
    """An empty .xlsx whose header row names the columns the caller may import."""
    return template_download(_records(), caller(), form)


@bp.get("/records/<form>/export")
def export_records(form: str) -> Any:
    params = request.args.to_dict(flat=True)
    fmt = params.pop("format", "xlsx")
    params.pop("lang", None)
    return export_download(_records(), caller(), form, ListQuery.from_params(params), fmt)
