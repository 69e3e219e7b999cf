"""Spreadsheets over HTTP, for the API and the workspace alike: a list view as a streamed
download, and the larger upload limit of the import routes."""

from __future__ import annotations

from typing import Any, Iterator
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Flask, Response, request, stream_with_context

from engine.context import RunContext
from engine.errors import QueryError
from engine.io.exporter import csv_chunks, xlsx_chunks
from engine.listing import ListQuery
from engine.service import Records

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: the routes that take a spreadsheet upload: they may send up to IMPORT_MAX_BYTES (default
#: 512 MiB: an import has no row cap; the file is spooled to disk, then read row by row), where
#: every other request keeps MAX_CONTENT_LENGTH
IMPORT_ENDPOINTS = frozenset({"api.import_records", "workspace.import_page"})


def upload_limits(app: Flask) -> None:
    """Raise the body limit for the import routes, before anything reads the form (CSRF does)."""

    @app.before_request
    def _import_limit() -> None:
        if request.endpoint in IMPORT_ENDPOINTS:
            request.max_content_length = app.config["IMPORT_MAX_BYTES"]


def export_download(records: Records, ctx: RunContext, form: str, query: ListQuery, fmt: str) -> Response:
    """The records ``ctx`` may see under ``query`` as an .xlsx or .csv attachment.

    Permissions and the query are checked before the response starts (a refusal is an
    error answer, not a broken download); the rows are then read page by page as the
    body is sent: a .csv straight to the client, an .xlsx through a temporary file (a zip
    package is finished before it can be read).
    """
    fmt = (fmt or "xlsx").lower()
    if fmt not in ("xlsx", "csv"):
        raise QueryError(f"format must be xlsx or csv, not {fmt!r}")
    rows = records.export_rows(ctx, form, query)
    header = next(rows)
    label = records.platform.definitions().forms[form].label.get(ctx.locale) or form
    stamp = ctx.now().astimezone(ZoneInfo(ctx.timezone)).strftime("%Y%m%d")  # the caller's date

    def all_rows() -> Iterator[list[Any]]:
        yield header
        yield from rows

    body = csv_chunks(all_rows()) if fmt == "csv" else xlsx_chunks(all_rows(), title=label)
    return _attachment(body, fmt, f"{form}-{stamp}", f"{label}-{stamp}")


def template_download(records: Records, ctx: RunContext, form: str) -> Response:
    """An empty .xlsx to fill in for an import: the header row of the columns ``ctx`` may write."""
    header = records.import_template(ctx, form)
    label = records.platform.definitions().forms[form].label.get(ctx.locale) or form
    return _attachment(
        xlsx_chunks(iter([header]), title=label),
        "xlsx",
        f"{form}-template",
        f"{label}-{_TEMPLATE.get(ctx.locale, _TEMPLATE['en'])}",
    )


_TEMPLATE = {"zh-CN": "导入模板", "en": "import template"}


def _attachment(body: Iterator[bytes], fmt: str, ascii_name: str, name: str) -> Response:
    # Flask adds "; charset=utf-8" to a text/* mimetype itself: name it once, as content_type
    resp = Response(stream_with_context(body), content_type="text/csv; charset=utf-8" if fmt == "csv" else XLSX)
    resp.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}.{fmt}\"; filename*=UTF-8''{quote(f'{name}.{fmt}')}"
    )
    return resp
