"""Opening an SQLite file: several processes or threads that open a fresh file at once (web
workers starting together) all get it in WAL mode; none is told "database is locked"."""

from __future__ import annotations

import threading
from pathlib import Path

from engine.store.db import Database
from tests.threads import together


def test_connections_opening_a_fresh_file_at_once_all_get_it(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    modes: list[str] = []
    for round_ in range(40):  # the race is narrow: SQLite refuses the switch to WAL at once
        url = f"sqlite:///{tmp_path / f'fresh{round_}.db'}"
        start = threading.Barrier(4)

        def open_and_write(url: str = url, start: threading.Barrier = start) -> None:
            database = Database(url)
            try:
                start.wait(timeout=10)
                with database.begin() as conn:
                    conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
                    conn.exec_driver_sql("INSERT INTO t VALUES (1)")
                with database.connect() as conn:
                    modes.append(str(conn.exec_driver_sql("PRAGMA journal_mode").scalar()))
            except BaseException as exc:  # noqa: BLE001  (reported below)
                errors.append(exc)
            finally:
                database.dispose()

        together(4, open_and_write)
    assert errors == []
    assert set(modes) == {"wal"} and len(modes) == 160
