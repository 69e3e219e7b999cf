"""Definition versions in the database: install/publish a pack, list versions, export it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import Clock
from engine.definitions.loader import load_pack_files, pack_checksum
from engine.definitions.model import PackSpec
from engine.store.system import definitions as lc_definition


@dataclass
class PublishResult:
    pack: str
    revision: int
    version: str
    changed: bool
    schema_changes: list[str] = field(default_factory=list)


def write_pack_files(files: Mapping[str, str], path: str) -> None:
    """Write a pack's files back, byte for byte."""
    for rel, text in files.items():
        full = os.path.join(path, *rel.split("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)


class VersionStore:
    """The ``lc_definition`` table: one row per published revision of a pack."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def active(self, conn: Connection) -> list[tuple[str, int, dict[str, str]]]:
        t = lc_definition
        rows = conn.execute(
            sa.select(t.c.pack, t.c.revision, t.c.files).where(t.c.status == "active").order_by(t.c.id)
        ).all()
        return [(r.pack, r.revision, dict(r.files)) for r in rows]

    def active_key(self, conn: Connection) -> tuple[tuple[str, int], ...]:
        t = lc_definition
        rows = conn.execute(sa.select(t.c.pack, t.c.revision).where(t.c.status == "active").order_by(t.c.id)).all()
        return tuple((r.pack, r.revision) for r in rows)

    def load_active(self, conn: Connection) -> list[PackSpec]:
        return [load_pack_files(files, root=f"{pack}@{rev}") for pack, rev, files in self.active(conn)]

    def load(self, conn: Connection, key: tuple[tuple[str, int], ...]) -> list[PackSpec]:
        """The packs of ``key`` (``((pack, revision), ...)``), active or not, in its order."""
        return [load_pack_files(self.files(conn, pack, rev), root=f"{pack}@{rev}") for pack, rev in key]

    def history(self, conn: Connection, pack: str) -> list[dict[str, Any]]:
        t = lc_definition
        rows = conn.execute(
            sa.select(t.c.revision, t.c.version, t.c.status, t.c.checksum, t.c.created_at, t.c.created_by)
            .where(t.c.pack == pack)
            .order_by(t.c.revision)
        )
        return [dict(r._mapping) for r in rows]

    def files(self, conn: Connection, pack: str, revision: Optional[int] = None) -> dict[str, str]:
        t = lc_definition
        q = sa.select(t.c.files).where(t.c.pack == pack)
        q = q.where(t.c.revision == revision) if revision is not None else q.where(t.c.status == "active")
        row = conn.execute(q).first()
        if row is None:
            from engine.errors import NotFound

            if revision is not None:
                raise NotFound.said("no_revision", pack=pack, revision=revision)
            raise NotFound(f"pack '{pack}' is not installed")
        return dict(row.files)

    def record(self, conn: Connection, spec: PackSpec, files: Mapping[str, str], by: Optional[str]) -> tuple[int, bool]:
        """Store ``files`` as the new active revision unless identical to the active one."""
        t = lc_definition
        checksum = pack_checksum(files)
        current = conn.execute(
            sa.select(t.c.revision, t.c.checksum).where(t.c.pack == spec.name, t.c.status == "active")
        ).first()
        if current is not None and current.checksum == checksum:
            return current.revision, False
        last = conn.execute(sa.select(sa.func.max(t.c.revision)).where(t.c.pack == spec.name)).scalar()
        revision = (last or 0) + 1
        conn.execute(t.update().where(t.c.pack == spec.name, t.c.status == "active").values(status="superseded"))
        conn.execute(
            t.insert().values(
                pack=spec.name,
                revision=revision,
                version=spec.version,
                files=dict(files),
                checksum=checksum,
                status="active",
                created_at=self.clock.now(),
                created_by=by,
            )
        )
        return revision, True
