"""What expressions need from the database, bound to one connection (and its transaction)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Protocol, Sequence

from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.store import files
from engine.store.tables import FormTables


class Records(Protocol):
    """What the access reads records through (:class:`engine.store.records.RecordStore`)."""

    @property
    def tables(self) -> FormTables: ...

    def get(self, conn: Connection, form: str, record_id: int) -> Optional[Mapping[str, Any]]: ...


class ConnAccess:
    """Implements ``engine.expr.DataAccess`` over a connection: links, aggregates, lookups.

    Records fetched are cached for the life of this object (one evaluation round), so a
    condition that follows ``customer.tier`` twice reads the customer once.
    """

    def __init__(self, conn: Connection, store: Records) -> None:
        self.conn = conn
        self.store = store
        self.tables = store.tables
        self._cache: dict[tuple[str, int], Optional[Mapping[str, Any]]] = {}

    def fetch(self, form: str, id: int) -> Optional[Mapping[str, Any]]:
        key = (form, id)
        if key not in self._cache:
            self._cache[key] = self.store.get(self.conn, form, id)
        return self._cache[key]

    def scalar(self, statement: Any) -> Any:
        return self.conn.execute(statement).scalar()

    def forget(self, form: str, id: int) -> None:
        """Drop a cached record after it was written."""
        self._cache.pop((form, id), None)

    def save_file(
        self,
        ctx: RunContext,
        name: str,
        content_type: str,
        data: bytes,
        *,
        max_size: Optional[int] = None,
        accept: Optional[Sequence[str]] = None,
    ) -> dict[str, Any]:
        """Store an upload in this transaction (:func:`engine.store.files.save`); its row."""
        return files.save(self.conn, ctx, name, content_type, data, max_size=max_size, accept=accept)

    def file_info(self, ids: Iterable[int]) -> dict[int, Mapping[str, Any]]:
        """The rows of the files that exist among ``ids``."""
        return files.info(self.conn, ids)
