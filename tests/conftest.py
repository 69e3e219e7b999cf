"""Shared fixtures: a fresh database per test (SQLite file, or a PostgreSQL schema)."""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import Any, Callable, Iterator

import pytest
import sqlalchemy as sa

from engine.store.db import Database, normalise_url

PG_URL = os.environ.get("DATABASE_URL", "")


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@contextlib.contextmanager
def fresh_database(directory: Any) -> Iterator[str]:
    """A URL to an empty database: SQLite under ``directory``, or a new PostgreSQL schema."""
    if not PG_URL:
        yield "sqlite:///" + str(directory / "test.db")
        return
    base = normalise_url(PG_URL)
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield _pg_schema_url(base, schema)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def db_url(tmp_path: Any) -> Iterator[str]:
    """A fresh database for one test (see :func:`fresh_database`)."""
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def database_for(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """``database_for("every")`` -> a fresh database kept for the session (module and session fixtures)."""
    with contextlib.ExitStack() as stack:
        yield lambda name: stack.enter_context(fresh_database(tmp_path_factory.mktemp(name)))


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """``cli("check", path)`` -> (exit code, stdout, stderr) of ``run.py`` on this test's database."""
    import run

    monkeypatch.setenv("DATABASE_URL", db_url)

    def call(*args: str) -> tuple[int, str, str]:
        try:
            code = run.main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


@pytest.fixture
def db(db_url) -> Iterator[Database]:
    """A :class:`Database` with the system tables created."""
    database = Database(db_url)
    database.create_system_tables()
    try:
        yield database
    finally:
        database.dispose()


#: Skips that are inherent to one database (the test has a twin for the other one). Under
#: LOWCODE_STRICT_SKIPS=1 (set by .ci/run) every other skip fails: a missing browser, node
#: or PostgreSQL must never pass as "skipped".
INHERENT_SKIPS = ("SQLite's BEGIN IMMEDIATE", "PostgreSQL only", "needs the server")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("LOWCODE_STRICT_SKIPS") == "1":
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if not any(allowed in reason for allowed in INHERENT_SKIPS):
            report.outcome = "failed"
            report.longrepr = f"skipped in CI, which must run everything: {reason}"
