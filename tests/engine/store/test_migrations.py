"""Migrations of the lc_* tables: a fresh database, one made by the previous schema, one made
before migrations existed; the history's head against the code's tables; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from apps import create_app
from engine.context import FixedClock
from engine.flows import tables as flow_tables
from engine.platform import Platform
from engine.security import delegation, org
from engine.security.passwords import hash_password
from engine.store import migrate, timers
from engine.store.db import Database

PACK = os.path.join(os.path.dirname(__file__), "..", "..", "..", "definitions", "oms")
NOW = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc)
HEAD = migrate.heads()


@pytest.fixture
def database(db_url: str) -> Any:
    database = Database(db_url)
    yield database
    database.dispose()


def _columns(database: Database, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(database.engine).get_columns(table)}


def _at(database: Database) -> tuple[str, ...]:
    with database.connect() as conn:
        return migrate.current(conn)


def _baseline_tables() -> sa.MetaData:
    meta = sa.MetaData()
    baseline = migrate.script().get_revision(migrate.BASELINE)
    assert baseline is not None
    baseline.module.define(meta)
    return meta


def _old_rows(database: Database) -> None:
    """What a database of the previous schema holds: a user, an idempotency key, an outbox row."""
    with database.begin() as conn:  # the user as the schema of then has it (no lc_user.department_id yet)
        conn.execute(
            sa.text(
                "INSERT INTO lc_user (username, password_hash, display_name, roles, active, created_at) "
                "VALUES ('admin', :hash, 'admin', '[\"admin\"]', :yes, :at)"
            ),
            {"hash": hash_password("admin123"), "yes": True, "at": NOW.replace(tzinfo=None)},
        )
        conn.execute(
            sa.text(
                "INSERT INTO lc_idempotency (user_id, key, request, status, response, created_at) "
                "VALUES (1, 'old-key', 'POST /records/customer', 201, '{\"id\": 99}', :at)"
            ),
            {"at": NOW.replace(tzinfo=None)},
        )
        conn.execute(
            sa.text(
                "INSERT INTO lc_outbox (kind, channel, payload, status, attempts, next_attempt_at, "
                "created_at) VALUES ('notify', 'log', '{\"to\": \"sales1\"}', 'pending', 0, :at, :at)"
            ),
            {"at": NOW.replace(tzinfo=None)},
        )


def _old_rows_kept(database: Database) -> None:
    with database.connect() as conn:
        assert conn.execute(sa.text("SELECT username FROM lc_user")).scalars().all() == ["admin"]
        assert conn.execute(sa.text("SELECT key, status FROM lc_idempotency")).all() == [("old-key", 201)]
        assert conn.execute(sa.text("SELECT kind, status FROM lc_outbox")).all() == [("notify", "pending")]


def test_a_fresh_database_gets_every_revision_and_a_second_start_changes_nothing(database: Database) -> None:
    first = database.create_system_tables()
    assert (first.before, first.after, first.adopted) == ((), HEAD, False)
    assert "body_sha256" in _columns(database, "lc_idempotency")
    assert migrate.VERSION_TABLE in sa.inspect(database.engine).get_table_names()
    again = database.create_system_tables()
    assert (again.before, again.after, again.changed) == (HEAD, HEAD, False)


def test_the_migrations_head_matches_the_code_tables(cli: Any) -> None:
    """A column or table added to the code's lc_* tables without a migration fails here."""
    code, out, err = cli("db", "upgrade")
    assert code == 0, err
    code, out, err = cli("db", "check")
    assert code == 0, f"the lc_* tables the code defines differ from the migrations' head:\n{err}"
    assert f"the lc_* tables match the code at {HEAD[0]}" in out


def test_a_column_without_a_migration_is_named_with_the_fix(database: Database) -> None:
    database.create_system_tables()
    code_tables = sa.MetaData()
    for table in _baseline_tables().sorted_tables:
        table.to_metadata(code_tables)
    code_tables.tables["lc_idempotency"].append_column(sa.Column("body_sha256", sa.String(64)))
    code_tables.remove(code_tables.tables["lc_webhook_delivery"])  # 0003 dropped it
    code_tables.remove(code_tables.tables["lc_timer"])  # 0004 made it generic
    timers.timers.to_metadata(code_tables)
    for flow_table in (flow_tables.instances, flow_tables.tasks, flow_tables.events):  # 0005
        flow_table.to_metadata(code_tables)
    user = code_tables.tables["lc_user"]  # 0006: the organisation
    user.append_column(sa.Column("department_id", sa.Integer))
    sa.Index("ix_lc_user_department", user.c.department_id)
    org.departments_table.to_metadata(code_tables)
    delegation.delegations_table.to_metadata(code_tables)
    code_tables.tables["lc_outbox"].append_column(sa.Column("priority", sa.Integer))
    with database.connect() as conn:
        assert migrate.differences(conn, code_tables) == ["the code has column lc_outbox.priority, the other has not"]


def test_db_check_names_a_difference_and_how_to_fix_it(database: Database, cli: Any) -> None:
    database.create_system_tables()
    with database.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE lc_flag ADD COLUMN note VARCHAR(20)")
    code, out, err = cli("db", "check")
    assert code == 1
    assert "  the database has column lc_flag.note, the other has not\n" in err
    assert 'run `python run.py db revision -m "what changed"`' in err


def test_upgrading_a_database_of_the_previous_schema_keeps_its_rows(db_url: str, database: Database) -> None:
    """Made by the baseline (before lc_idempotency.body_sha256), upgraded by the platform's start,
    then used through the API: the old user logs in, an idempotent request writes the new column."""
    done = migrate.upgrade(database.engine, migrate.BASELINE)
    assert done.after == (migrate.BASELINE,)
    assert "body_sha256" not in _columns(database, "lc_idempotency")
    _old_rows(database)

    platform = Platform(Database(db_url), FixedClock(NOW), reload_seconds=0)  # every start upgrades
    try:
        assert _at(platform.db) == HEAD
        _old_rows_kept(platform.db)
        platform.publish(PACK)
        client = create_app({"TESTING": True, "PLATFORM": platform}).test_client()
        login = client.post("/api/v1/auth/login", json={"username": "admin", "password": "admin123"})
        assert login.status_code == 200, login.get_json()
        headers = {"Authorization": f"Bearer {login.get_json()['token']}", "Idempotency-Key": "new-key"}
        body = {"code": "C900", "name": "升级后客户"}
        first = client.post("/api/v1/records/customer", headers=headers, json=body)
        assert first.status_code == 201, first.get_json()
        replayed = client.post("/api/v1/records/customer", headers=headers, json=body)
        assert (replayed.status_code, replayed.get_json()["id"]) == (201, first.get_json()["id"])
        reused = client.post("/api/v1/records/customer", headers=headers, json={**body, "code": "C901"})
        assert reused.status_code == 409, reused.get_json()
        with platform.db.connect() as conn:
            rows = dict(conn.execute(sa.text("SELECT key, body_sha256 FROM lc_idempotency")).all())
        assert rows["old-key"] is None and len(rows["new-key"]) == 64
    finally:
        platform.db.dispose()


def test_a_database_made_before_migrations_is_stamped_at_the_baseline_then_upgraded(
    database: Database, cli: Any
) -> None:
    """The previous release's start: create_all of its tables (lc_idempotency.body_sha256
    included) and no version table."""
    from apps.cli.db import code_tables

    code_tables().create_all(database.engine)
    _old_rows(database)
    done = database.create_system_tables()
    assert (done.before, done.after, done.adopted) == ((migrate.BASELINE,), HEAD, True)
    _old_rows_kept(database)
    code, out, err = cli("db", "check")
    assert code == 0, err


def test_an_older_database_gets_what_the_baseline_has_that_it_lacks(database: Database) -> None:
    """An older release had no lc_webhook_delivery and no lc_login_audit.locked yet: adopting
    creates the table and adds the nullable column, as the platform's start did then (and 0003
    drops the table again: inbound hooks keep their keys in lc_idempotency now)."""
    meta = _baseline_tables()
    meta.remove(meta.tables["lc_webhook_delivery"])
    meta.create_all(database.engine)
    with database.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE lc_login_audit DROP COLUMN locked")
    _old_rows(database)
    assert database.create_system_tables().adopted
    assert "locked" in _columns(database, "lc_login_audit")
    assert "lc_webhook_delivery" not in sa.inspect(database.engine).get_table_names()
    _old_rows_kept(database)
    assert _at(database) == HEAD


def test_a_revision_goes_back_and_forth(database: Database) -> None:
    database.create_system_tables()
    _old_rows(database)
    back = migrate.downgrade(database.engine, migrate.BASELINE)
    assert (back.before, back.after) == (HEAD, (migrate.BASELINE,))
    assert "body_sha256" not in _columns(database, "lc_idempotency")
    _old_rows_kept(database)
    assert database.create_system_tables().after == HEAD
    assert "body_sha256" in _columns(database, "lc_idempotency")


def test_processes_starting_at_once_migrate_once(db_url: str) -> None:
    """Several web workers starting together on a fresh database: one migrates, the others
    wait for it and find the head."""
    start = threading.Barrier(4)
    results: list[Any] = []
    errors: list[BaseException] = []

    def boot() -> None:
        database = Database(db_url)
        try:
            start.wait(timeout=10)
            results.append(database.create_system_tables())
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=boot) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(r.changed for r in results) == [False, False, False, True]
    assert all(r.after == HEAD for r in results)


def test_db_current_tells_the_revision_and_what_is_newer(database: Database, cli: Any) -> None:
    code, out, _ = cli("db", "current")
    assert code == 0 and "no migration applied" in out
    migrate.upgrade(database.engine, migrate.BASELINE)
    code, out, _ = cli("db", "current")
    assert code == 0
    assert "  0001: Baseline: the ``lc_*`` tables as the platform created them" in out
    newer = len(list(migrate.script().walk_revisions())) - 1
    assert f"{newer} newer revision(s) to apply" in out and "  0002: lc_idempotency.body_sha256" in out
    assert "  0003: lc_webhook_delivery dropped" in out
    assert "  0004: lc_timer generic: (kind, key, due_at, payload)" in out
    assert f"  {HEAD[0]} (head): " in out
    code, out, _ = cli("db", "upgrade")
    assert code == 0 and f" from 0001 to:\n  {HEAD[0]} (head): " in out


def test_the_history_is_one_line_of_numbered_files() -> None:
    """Two branches that each added a revision after the same one leave two heads (or one
    number twice): renumber the later one (its file, ``revision`` and ``down_revision``)."""
    files = sorted(n for n in os.listdir(os.path.join(migrate.LOCATION, "versions")) if n[0].isdigit())
    revisions = list(reversed([r.revision for r in migrate.script().walk_revisions()]))
    assert [n[:4] for n in files] == revisions == [f"{i:04d}" for i in range(1, len(files) + 1)], (files, revisions)
    assert len(HEAD) == 1, f"the lc_* migrations have {len(HEAD)} heads: {HEAD}"


def test_the_migrations_are_package_data() -> None:
    """A non-editable install has env.py, the template and every revision (setup.cfg)."""
    from setuptools.config.setupcfg import read_configuration

    root = os.path.join(os.path.dirname(__file__), "..", "..", "..")
    options = read_configuration(os.path.join(root, "setup.cfg"))["options"]
    assert {"engine.store.migrations", "engine.store.migrations.versions"} <= set(options["packages"])
    assert "store/migrations/script.py.mako" in options["package_data"]["engine"]
    versions = os.listdir(os.path.join(migrate.LOCATION, "versions"))
    assert {f"{r.revision}_" for r in migrate.script().walk_revisions()} == {
        name[:5] for name in versions if name.endswith(".py") and name[0].isdigit()
    }


def test_serve_upgrades_before_its_workers_start_and_says_so(database: Database, db_url: str, tmp_path: Any) -> None:
    import requests

    from tests.api.serving import serving

    migrate.upgrade(database.engine, migrate.BASELINE)
    _old_rows(database)
    with serving(db_url, tmp_path, "--workers", "2") as server:
        login = requests.post(
            server.base + "/auth/login", json={"username": "admin", "password": "admin123"}, timeout=30
        )
        assert login.status_code == 200, login.text
        log = server.log.read_text(encoding="utf-8")
    assert log.count(f"upgraded the lc_* tables from {migrate.BASELINE} to {HEAD[0]}\n") == 1, log
    assert _at(database) == HEAD


def test_0004_carries_rule_timers_over_to_the_generic_table_and_back(database: Database) -> None:
    migrate.upgrade(database.engine, "0003")
    with database.begin() as conn:
        for record_id, status in ((7, "pending"), (-1, "fired")):
            conn.execute(
                sa.text(
                    "INSERT INTO lc_timer (rule, form, record_id, due_at, trigger, status, created_at) "
                    "VALUES ('node:remind', 'node', :r, :at, '2h before due', :s, :at)"
                ),
                {"r": record_id, "s": status, "at": NOW.replace(tzinfo=None)},
            )
    database.create_system_tables()
    with database.connect() as conn:
        rows = conn.execute(
            sa.select(
                timers.timers.c.kind, timers.timers.c.key, timers.timers.c.status, timers.timers.c.payload
            ).order_by(timers.timers.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (
            "rule",
            "node:remind#7",
            "pending",
            {"rule": "node:remind", "form": "node", "record_id": 7, "trigger": "2h before due"},
        ),
        ("rule", "backfilled:node:remind", "kept", {"trigger": "2h before due"}),
    ]
    migrate.downgrade(database.engine, "0003")
    with database.connect() as conn:
        back = conn.execute(sa.text("SELECT rule, form, record_id, trigger, status FROM lc_timer ORDER BY id")).all()
    assert [tuple(r) for r in back] == [
        ("node:remind", "node", 7, "2h before due", "pending"),
        ("node:remind", "node", -1, "2h before due", "fired"),
    ]
