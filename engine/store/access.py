"""What expressions need from the database, bound to one connection (and its transaction)."""
from __future__ import annotations

from typing import Any, Mapping, Optional

from sqlalchemy.engine import Connection

from engine.store.records import RecordStore


class ConnAccess:
    """Implements ``engine.expr.DataAccess`` over a connection: links, aggregates, lookups.

    Records fetched are cached for the life of this object (one evaluation round), so a
    condition that follows ``customer.tier`` twice reads the customer once.
    """

    def __init__(self, conn: Connection, store: RecordStore) -> None:
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
