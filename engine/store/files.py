"""A minimal file store: rows in ``lc_file``, contents under a folder (``instance/files``).

Contents are stored by their sha256 (``ab/cdef...``), so the same upload twice takes the
space once. Size and type limits (:mod:`engine.forms.file_limits`) come from the field
(``max_size``, ``accept``) or from the caller of :func:`save`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.forms.coltypes import UTCDateTime
from engine.forms.file_limits import DEFAULT_MAX_SIZE, accepts, check_limits, field_limits
from engine.store.system import SYSTEM

__all__ = [
    "DEFAULT_MAX_SIZE",
    "DEFAULT_ROOT",
    "accepts",
    "check_limits",
    "configure",
    "field_limits",
    "files",
    "info",
    "public",
    "read",
    "root",
    "save",
]

#: where contents go unless ``configure`` or ``LOWCODE_FILES_DIR`` says otherwise
DEFAULT_ROOT = os.environ.get("LOWCODE_FILES_DIR", os.path.join("instance", "files"))

files = sa.Table(
    "lc_file",
    SYSTEM,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(127), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("path", sa.String(255), nullable=False),
    sa.Column("created_by", sa.Integer),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

_root = {"path": DEFAULT_ROOT}


def configure(root: str) -> None:
    """Store contents under ``root`` from now on (the app does this from ``FILES_DIR``)."""
    _root["path"] = root


def root() -> Path:
    return Path(_root["path"])


def save(
    conn: Connection,
    ctx: RunContext,
    name: str,
    content_type: str,
    data: bytes,
    *,
    max_size: Optional[int] = None,
    accept: Optional[Sequence[str]] = None,
) -> dict[str, Any]:
    """Check limits, write the content (once per sha256) and insert its row; the row as a dict."""
    name = os.path.basename(name.replace("\\", "/")) or "file"
    content_type = (content_type or "application/octet-stream").split(";")[0].strip().lower()
    check_limits(name, content_type, len(data), max_size, accept)
    digest = hashlib.sha256(data).hexdigest()
    rel = f"{digest[:2]}/{digest}"
    target = root() / rel
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    row = {
        "name": name[:255],
        "content_type": content_type,
        "size": len(data),
        "sha256": digest,
        "path": rel,
        "created_by": ctx.user_id,
        "created_at": ctx.now(),
    }
    file_id = conn.execute(files.insert().values(row).returning(files.c.id)).scalar_one()
    return {"id": file_id, **row}


def info(conn: Connection, ids: Iterable[int]) -> dict[int, Mapping[str, Any]]:
    """Rows of the files that exist among ``ids``."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(sa.select(files).where(files.c.id.in_(wanted))).mappings()
    return {r["id"]: dict(r) for r in rows}


def read(conn: Connection, file_id: int) -> Optional[tuple[Mapping[str, Any], bytes]]:
    """(row, content) of a file, or None."""
    row = info(conn, [file_id]).get(file_id)
    if row is None:
        return None
    return row, (root() / row["path"]).read_bytes()


def public(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the API shows of a file row."""
    return {
        "id": row["id"],
        "name": row["name"],
        "content_type": row["content_type"],
        "size": row["size"],
        "sha256": row["sha256"],
        "url": f"/api/v1/files/{row['id']}",
    }
