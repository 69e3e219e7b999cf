"""The execution log: one ``lc_rule_run`` row per rule run, kept even when the change rolls back.

Runs are buffered on the DBAPI connection of the business transaction and written by a
pool ``checkin`` listener, in a transaction of their own, once that connection is handed
back (after its commit or rollback). This works on SQLite, where the business transaction
holds the write lock until it ends, and on PostgreSQL alike.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import weakref
from typing import Any, Iterable, Optional

import sqlalchemy as sa

from engine.forms.coltypes import UTCDateTime
from engine.store.dialect import insert_many
from engine.store.system import SYSTEM

log = logging.getLogger("lowcode.rules")

FIRED, SKIPPED, FAILED, LOOP_GUARD = "fired", "skipped", "failed", "loop_guard"
OUTCOMES = (FIRED, SKIPPED, FAILED, LOOP_GUARD)
BUFFER = "lc_rule_runs"           # key in the DBAPI connection's info
DRY = "lc_rules_dry"              # set on a connection to keep runs in memory (rules test)

rule_runs = sa.Table(
    "lc_rule_run", SYSTEM,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("rule", sa.String(200), nullable=False),
    sa.Column("pack", sa.String(64)),
    sa.Column("revision", sa.Integer),
    sa.Column("pack_version", sa.String(32)),
    sa.Column("form", sa.String(64), nullable=False),
    sa.Column("record_id", sa.Integer),
    sa.Column("event", sa.String(16)),            # created | updated | deleted | flow | timer | rerun
    sa.Column("trigger", sa.String(200)),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("duration_ms", sa.Float),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("actions", sa.JSON, nullable=False),   # [{"action", "at", "summary"}]
    sa.Column("error", sa.Text),
    sa.Column("error_position", sa.String(300)),      # file:line:col of the failing action
    sa.Column("rolled_back", sa.Boolean, nullable=False, default=False),
    sa.Column("user_id", sa.Integer),
    sa.Column("username", sa.String(64)),
    sa.Column("source", sa.String(32)),
    sa.Column("depth", sa.Integer),
    sa.Index("ix_lc_rule_run_started", "started_at"),
    sa.Index("ix_lc_rule_run_record", "form", "record_id"),
    sa.Index("ix_lc_rule_run_rule", "rule"),
)

flags = sa.Table(
    "lc_flag", SYSTEM,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("form", sa.String(64), nullable=False),
    sa.Column("record_id", sa.Integer, nullable=False),
    sa.Column("colour", sa.String(16), nullable=False),
    sa.Column("tag", sa.String(200)),
    sa.Column("rule", sa.String(200)),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_lc_flag_record", "form", "record_id"),
)

_installed: "weakref.WeakSet[Any]" = weakref.WeakSet()
_lock = threading.Lock()


def install(engine: sa.Engine) -> None:
    """Write buffered runs whenever a connection returns to ``engine``'s pool (once per engine)."""
    with _lock:
        if engine in _installed:
            return
        _installed.add(engine)

    def on_rollback(conn: Any) -> None:
        for row in conn.connection.info.get(BUFFER, ()) if not conn.closed else ():
            row["rolled_back"] = True

    def on_checkin(dbapi_conn: Any, record: Any) -> None:
        rows = record.info.pop(BUFFER, None) if record is not None else None
        if rows:
            flush(engine, rows)

    sa.event.listen(engine, "rollback", on_rollback)
    sa.event.listen(engine, "checkin", on_checkin)


def buffer(conn: Any, row: dict[str, Any]) -> None:
    """Keep ``row`` until the connection's transaction is over (or in memory for a dry run)."""
    info = conn.connection.info
    if DRY in info:
        info[DRY].append(row)
        return
    info.setdefault(BUFFER, []).append(row)


def flush(engine: sa.Engine, rows: list[dict[str, Any]]) -> None:
    try:
        with engine.begin() as conn:
            insert_many(conn, rule_runs, rows)   # every row has every column (RuleEngine.run)
    except Exception:  # pragma: no cover - the log must never break a request
        log.exception("could not write %d rule run rows", len(rows))


def prune_runs(db: Any, before: dt.datetime) -> int:
    """Delete log rows of runs started before ``before``; returns how many."""
    with db.begin() as conn:
        return int(conn.execute(rule_runs.delete().where(rule_runs.c.started_at < before)).rowcount)


def pruner(platform: Any) -> Any:
    """A ``Worker.periodic`` hook: prune runs older than the pack's retention (``keep runs 90d``)."""
    def hook(worker: Any) -> None:
        ruleset = platform.definitions().rules
        prune_runs(platform.db, platform.clock.now() - ruleset.retention)
    return hook


def query_runs(conn: Any, *, rule: Optional[str] = None, form: Optional[str] = None,
               record: Optional[int] = None, outcome: Optional[str] = None,
               since: Optional[dt.datetime] = None, until: Optional[dt.datetime] = None,
               forms: Optional[Iterable[str]] = None, where: Any = None,
               limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """A page of runs, newest first, and the total under the same filters."""
    t = rule_runs
    conds = []
    if rule:
        conds.append(t.c.rule == rule)
    if form:
        conds.append(t.c.form == form)
    if record is not None:
        conds.append(t.c.record_id == record)
    if outcome:
        conds.append(t.c.outcome == outcome)
    if since is not None:
        conds.append(t.c.started_at >= since)
    if until is not None:
        conds.append(t.c.started_at < until)
    if forms is not None:
        conds.append(t.c.form.in_(list(forms)))
    if where is not None:
        conds.append(where)
    q = sa.select(t).where(*conds).order_by(t.c.id.desc()).limit(limit).offset(offset)
    rows = [dict(r) for r in conn.execute(q).mappings()]
    total = int(conn.execute(sa.select(sa.func.count()).select_from(t).where(*conds)).scalar_one())
    return rows, total


def get_run(conn: Any, run_id: int) -> Optional[dict[str, Any]]:
    row = conn.execute(sa.select(rule_runs).where(rule_runs.c.id == run_id)).mappings().first()
    return dict(row) if row is not None else None


def flags_of(conn: Any, form: str, record_id: int) -> list[dict[str, Any]]:
    q = sa.select(flags).where(flags.c.form == form, flags.c.record_id == record_id).order_by(flags.c.id)
    return [dict(r) for r in conn.execute(q).mappings()]
