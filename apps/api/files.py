"""``/files``: upload a file (multipart) and download it again by id.

``POST /files`` takes the part ``file``; with ``form`` and ``field`` (query or form
fields) the limits of that attachment / image / signature field (``max_size``,
``accept``) apply at once, so a client learns about a file that is too large before it
saves the record. The answer is the file's id, to put in the field's list.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request

from apps.api import bp
from apps.api.context import caller, platform
from apps.api.errors import ApiError
from engine.errors import NotFound, ValidationError
from engine.field_errors import FieldError
from engine.security.file_access import may_read_file
from engine.store import files


def _limits() -> tuple[Any, Any]:
    form, field = request.values.get("form"), request.values.get("field")
    if not form or not field:
        return None, None
    defs = platform().definitions()
    spec = defs.forms[form].field(field) if form in defs.forms else None
    if spec is None and form in defs.forms and "." in field:
        table, _, child = field.partition(".")
        parent = defs.forms[form].field(table)
        spec = parent.child(child) if parent is not None else None
    if spec is None or not getattr(_ftype(spec.type), "files", False):
        raise NotFound(f"no file field '{field}' in form '{form}'")
    return files.field_limits(spec)


def _ftype(name: str) -> Any:
    from engine.forms import FIELD_TYPES

    return FIELD_TYPES.get(name)


@bp.post("/files")
def upload_file() -> Any:
    ctx = caller()
    part = request.files.get("file")
    if part is None:
        raise ApiError(400, "bad_request", "send the file as multipart/form-data in the part 'file'")
    max_size, accept = _limits()
    _configure()
    data = part.read()
    try:
        with platform().db.begin() as conn:
            row = files.save(
                conn, ctx, part.filename or "file", part.mimetype or "", data, max_size=max_size, accept=accept
            )
    except FieldError as exc:
        raise ValidationError({"file": [exc.render(ctx.locale)]}) from None
    resp = jsonify(files.public(row))
    resp.status_code = 201
    resp.headers["Location"] = f"/api/v1/files/{row['id']}"
    return resp


@bp.get("/files/<id:file_id>")
def download_file(file_id: int) -> Any:
    ctx = caller()
    _configure()
    defs = platform().definitions()
    with platform().db.connect() as conn:
        found = files.read(conn, file_id)
        if found is not None and not may_read_file(defs, ctx, conn, found[0]):
            found = None  # the same answer as for a file that does not exist
    if found is None:
        raise NotFound(f"file {file_id} not found")
    row, data = found
    resp = Response(data, mimetype=row["content_type"])
    resp.headers["Content-Disposition"] = "attachment; filename*=UTF-8''" + _quote(row["name"])
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["ETag"] = f'"{row["sha256"]}"'
    return resp


def _configure() -> None:
    if current_app.config.get("FILES_DIR"):
        files.configure(current_app.config["FILES_DIR"])


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
