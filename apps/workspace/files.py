"""Files in the workspace: uploads from a form post, and downloads for the signed-in user.

An upload is stored at once (``engine.store.files.save``, with the field's ``max_size`` and
``accept``), so a post that fails validation keeps its files: the page is drawn again with
them attached. A download follows the same form, field and row permissions as the API's
(:func:`engine.security.file_access.may_read_file`); images the browser can show safely are
sent inline, everything else as an attachment.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, abort, current_app

from apps.workspace import bp
from apps.workspace.auth import context, login_required, platform
from apps.workspace.fields import FieldView
from engine.security.file_access import may_read_file
from engine.store import files

#: content types sent inline (shown in an <img>); never SVG, which can carry scripts
INLINE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def use_files_dir() -> None:
    """Store contents under the app's ``FILES_DIR`` when it sets one."""
    if current_app.config.get("FILES_DIR"):
        files.configure(current_app.config["FILES_DIR"])


def upload(view: FieldView, storage: Any) -> int:
    """Store one uploaded file for ``view``'s field; its id. Raises FieldError when it does not fit."""
    max_size, accept = files.field_limits(view.spec)
    use_files_dir()
    with platform().db.begin() as conn:
        row = files.save(
            conn,
            context(),
            storage.filename or "file",
            storage.mimetype or "",
            storage.read(),
            max_size=max_size,
            accept=accept,
        )
    return int(row["id"])


@bp.get("/w/files/<id:file_id>")
@login_required
def stored_file(file_id: int) -> Any:
    use_files_dir()
    with platform().db.connect() as conn:
        found = files.read(conn, file_id)
        if found is None or not may_read_file(platform().definitions(), context(), conn, found[0]):
            abort(404)
    row, data = found
    resp = Response(data, mimetype=row["content_type"])
    how = "inline" if row["content_type"] in INLINE else "attachment"
    resp.headers["Content-Disposition"] = f"{how}; filename*=UTF-8''" + quote(row["name"], safe="")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp
