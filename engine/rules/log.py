"""The execution log: one ``lc_rule_run`` row per rule run, kept even when the change rolls back.

Runs are buffered on the DBAPI connection of the business transaction and written by a
pool ``checkin`` listener, in a transaction of their own, once that connection is handed
back (after its commit or rollback). A change about to commit writes its runs itself, inside its
transaction, in one statement (:func:`write_now`); should it roll back after all, they go
back to the buffer, marked rolled back, and the listener writes them. This works on SQLite, where the business transaction
holds the write lock until it ends, and on PostgreSQL alike.

A savepoint that rolls back (an import writes each chunk, and then each record of a failing
chunk, in one) marks the runs made inside it rolled back, and takes its records out of the
groups of skipped runs, whose later runs start groups of their own; the runs inside a
savepoint opened by :func:`engine.store.db.attempt`, whose work is redone, are dropped.
SQLite gives a rolled-back record's id again, so a group must not span the rollback.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional

import sqlalchemy as sa

from engine.forms.coltypes import UTCDateTime
from engine.store.db import ATTEMPT, Database
from engine.store.dialect import insert_many, insert_tuples
from engine.store.recent import created_here, note, noted
from engine.store.system import SYSTEM

if TYPE_CHECKING:
    from engine.rules.parts import RulePlatform

log = logging.getLogger("lowcode.rules")

FIRED, SKIPPED, FAILED, LOOP_GUARD = "fired", "skipped", "failed", "loop_guard"
COLOURS = ("red", "orange", "yellow", "green", "blue", "purple", "grey")  # of a flag
OUTCOMES = (FIRED, SKIPPED, FAILED, LOOP_GUARD)
BUFFER = "lc_rule_runs"  # key in the DBAPI connection's info
SKIPS = "lc_rule_skips"  # there too: the skipped runs by rule, event, source, depth, user
DRY = "lc_rules_dry"  # set on a connection to keep runs in memory (rules test)
MARKS = "lc_rule_savepoints"  # there too: where the buffer stood when each open savepoint began
_FLAGGED = "lc_flag"  # a note (engine.store.recent): this transaction flagged (form, id)
WRITTEN = "lc_rule_runs_written"  # there too: the runs write_now wrote inside the transaction under way

rule_runs = sa.Table(
    "lc_rule_run",
    SYSTEM,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("rule", sa.String(200), nullable=False),
    sa.Column("pack", sa.String(64)),
    sa.Column("revision", sa.Integer),
    sa.Column("pack_version", sa.String(32)),
    sa.Column("form", sa.String(64), nullable=False),
    sa.Column("record_id", sa.Integer),
    sa.Column("event", sa.String(16)),  # created | updated | deleted | flow | timer | rerun
    sa.Column("trigger", sa.String(200)),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("duration_ms", sa.Float),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("actions", sa.JSON, nullable=False),  # [{"action", "at", "summary"}]
    sa.Column("error", sa.Text),
    sa.Column("error_position", sa.String(300)),  # file:line:col of the failing action
    sa.Column("rolled_back", sa.Boolean, nullable=False, default=False),
    sa.Column("user_id", sa.Integer),
    sa.Column("username", sa.String(64)),
    sa.Column("source", sa.String(32)),
    sa.Column("depth", sa.Integer),
    sa.Index("ix_lc_rule_run_started", "started_at"),
    sa.Index("ix_lc_rule_run_record", "form", "record_id"),
    sa.Index("ix_lc_rule_run_rule", "rule"),
)

#: the records of a run row that stands for several runs: the runs of one rule that its
#: condition skipped within one transaction (an import chunk, a batch) are one row here
rule_run_records = sa.Table(
    "lc_rule_run_record",
    SYSTEM,
    sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("record_id", sa.Integer, primary_key=True),
    sa.Index("ix_lc_rule_run_record_record", "record_id"),
    sqlite_with_rowid=False,  # one B-tree for the key, not a rowid table beside it
)

flags = sa.Table(
    "lc_flag",
    SYSTEM,
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
        if not conn.closed:
            info = conn.connection.info
            written = info.pop(WRITTEN, None)
            if written:  # written inside the transaction that rolls back: written after it
                info[BUFFER] = written + info.get(BUFFER, [])
        _roll_back(conn.connection.info.get(BUFFER, ()) if not conn.closed else ())
        on_commit(conn)

    def on_commit(conn: Any) -> None:
        """The transaction is over: later skips on this connection start groups of their own."""
        if not conn.closed:
            conn.connection.info.pop(SKIPS, None)
            conn.connection.info.pop(MARKS, None)
            conn.connection.info.pop(WRITTEN, None)

    def on_savepoint(conn: Any, name: str) -> None:
        info = conn.connection.info
        info.setdefault(MARKS, []).append(_Mark(info))

    def on_release_savepoint(conn: Any, name: str, context: Any) -> None:
        marks = conn.connection.info.get(MARKS) if not conn.closed else None
        if marks:
            marks.pop()

    def on_rollback_savepoint(conn: Any, name: str, context: Any) -> None:
        marks = conn.connection.info.get(MARKS) if not conn.closed else None
        if marks:
            marks.pop().roll_back(conn.connection.info)

    def on_checkin(dbapi_conn: Any, record: Any) -> None:
        rows = record.info.pop(BUFFER, None) if record is not None else None
        if rows:
            flush(engine, rows)

    sa.event.listen(engine, "rollback", on_rollback)
    sa.event.listen(engine, "commit", on_commit)
    sa.event.listen(engine, "savepoint", on_savepoint)
    sa.event.listen(engine, "release_savepoint", on_release_savepoint)
    sa.event.listen(engine, "rollback_savepoint", on_rollback_savepoint)
    sa.event.listen(engine, "checkin", on_checkin)


def _roll_back(rows: Iterable[Any]) -> None:
    for row in rows:
        if type(row) is dict:
            row["rolled_back"] = True
        else:
            row.rolled_back = True


class _Mark:
    """Where the buffered runs stood when a savepoint began: how many, and each group of
    skipped runs with its records and time so far."""

    __slots__ = ("size", "groups", "redone")

    def __init__(self, info: dict[str, Any]) -> None:
        self.size = len(info.get(BUFFER, ()))
        self.groups = {key: (g, len(g.ids), g.seconds) for key, g in info.get(SKIPS, {}).items()}
        self.redone = bool(info.get(ATTEMPT))

    def roll_back(self, info: dict[str, Any]) -> None:
        """The savepoint rolled back: its runs are marked so, or dropped if its work is redone."""
        rows = info.get(BUFFER, [])
        inside = rows[self.size :]
        del rows[self.size :]
        groups = info.get(SKIPS, {})
        for key in [k for k, g in groups.items() if self.groups.get(k, (None,))[0] is not g]:
            del groups[key]  # begun inside: later skips start a new group
        for group, size, seconds in self.groups.values():
            if len(group.ids) > size:  # records skipped inside, in a group from before
                inside.append(group.split(size, seconds))
        if not self.redone:
            _roll_back(inside)
            rows.extend(inside)


def buffer(conn: Any, row: dict[str, Any]) -> None:
    """Keep ``row`` until the connection's transaction is over (or in memory for a dry run)."""
    info = conn.connection.info
    if DRY in info:
        info[DRY].append(row)
        return
    info.setdefault(BUFFER, []).append(row)


def run_row(
    rule: Any,
    ctx: Any,
    event: str,
    record_id: Optional[int],
    started: dt.datetime,
    seconds: float,
    outcome: str,
    *,
    source: str,
    depth: int,
    actions: Optional[list[dict[str, Any]]] = None,
    error: Optional[str] = None,
    where: Optional[str] = None,
) -> dict[str, Any]:
    """The log row of one run (every column but ``id``)."""
    return {
        "rule": rule.name,
        "pack": rule.pack,
        "revision": rule.revision,
        "pack_version": rule.pack_version,
        "form": rule.form,
        "record_id": record_id or None,
        "event": event,
        "trigger": rule.trigger.describe(),
        "started_at": started,
        "duration_ms": round(seconds * 1000, 3),
        "outcome": outcome,
        "actions": actions or [],
        "error": error,
        "error_position": where,
        "rolled_back": False,
        "user_id": ctx.user_id,
        "username": ctx.username,
        "source": source,
        "depth": depth,
    }


class _Skipped:
    """The runs of one rule its condition skipped in one transaction (same event, source,
    depth and user): one log row, their records in ``lc_rule_run_record``."""

    __slots__ = ("rule", "ctx", "event", "source", "depth", "started", "ids", "seconds", "rolled_back")

    def __init__(self, rule: Any, ctx: Any, event: str, source: str, depth: int) -> None:
        self.rule, self.ctx, self.event, self.source, self.depth = rule, ctx, event, source, depth
        self.started = ctx.now()
        self.ids: list[int] = []
        self.seconds = 0.0
        self.rolled_back = False

    def split(self, size: int, seconds: float) -> "_Skipped":
        """Keep the first ``size`` runs (which took ``seconds``); the others, as a group of their own."""
        rest = _Skipped(self.rule, self.ctx, self.event, self.source, self.depth)
        rest.started, rest.ids, rest.seconds = self.started, self.ids[size:], self.seconds - seconds
        del self.ids[size:]
        self.seconds = seconds
        return rest

    def row(self) -> dict[str, Any]:
        row = run_row(
            self.rule,
            self.ctx,
            self.event,
            self.ids[0] if len(self.ids) == 1 else None,
            self.started,
            self.seconds / len(self.ids),
            SKIPPED,
            source=self.source,
            depth=self.depth,
        )
        row["rolled_back"] = self.rolled_back
        return row


def skipped(
    info: dict[str, Any], rule: Any, ctx: Any, event: str, record_id: int, seconds: float, source: str, depth: int
) -> None:
    """Log a run that the rule's condition skipped, cheaply: a bulk write skips many.

    The runs of one rule skipped in one transaction (with the same event, source, depth and
    user) are written as one row, their records in ``lc_rule_run_record``; a rule that skipped
    one record gets a row of its own. :func:`runs_view` shows every run as a row either way.
    ``info`` is the transaction's DBAPI connection's ``info`` (``conn.connection.info``).
    """
    if DRY in info:
        info[DRY].append(run_row(rule, ctx, event, record_id, ctx.now(), seconds, SKIPPED, source=source, depth=depth))
        return
    groups = info.get(SKIPS)
    if groups is None:
        groups = info[SKIPS] = {}
    key = (id(rule), event, source, depth, ctx.user_id)
    group = groups.get(key)
    if group is None:
        group = groups[key] = _Skipped(rule, ctx, event, source, depth)
        info.setdefault(BUFFER, []).append(group)  # in start order, with the other runs
    group.ids.append(record_id)
    group.seconds += seconds


def write_now(conn: Any) -> None:
    """Write the runs buffered in ``conn``'s transaction inside it, which is about to commit
    (one statement, no transaction of their own). Left to the pool listener: runs inside an
    open savepoint, a group of skipped runs of several records, a value too long for its
    column (the log must never break the change)."""
    info = conn.connection.info
    rows = info.get(BUFFER)
    if not rows or info.get(MARKS) or DRY in info:
        return
    flat = [r if type(r) is dict else r.row() if len(r.ids) == 1 else None for r in rows]
    if not all(r is not None and _fits(r) for r in flat):
        return
    insert_many(conn, rule_runs, flat)  # type: ignore[arg-type]
    info[WRITTEN] = info.pop(BUFFER)


def _fits(row: dict[str, Any]) -> bool:
    return all(type(v) is not str or len(v) <= _LENGTHS.get(k, len(v)) for k, v in row.items())


_LENGTHS = {c.name: c.type.length for c in rule_runs.c if isinstance(c.type, sa.String) and c.type.length}


def flush(engine: sa.Engine, rows: list[Any]) -> None:
    """Write the runs of a finished transaction, in the order they started."""
    try:
        with engine.begin() as conn:
            pending: list[dict[str, Any]] = []
            for entry in rows:
                if type(entry) is dict:
                    pending.append(entry)
                elif len(entry.ids) == 1:
                    pending.append(entry.row())
                else:
                    insert_many(conn, rule_runs, pending)  # every row has every column (run_row)
                    pending = []
                    key = conn.execute(rule_runs.insert().values(**entry.row())).inserted_primary_key
                    assert key is not None
                    run_id = key[0]
                    insert_tuples(conn, rule_run_records, ("run_id", "record_id"), [(run_id, r) for r in entry.ids])
            insert_many(conn, rule_runs, pending)
    except Exception:  # pragma: no cover - the log must never break a request
        log.exception("could not write %d rule run rows", len(rows))


def _runs_view() -> Any:
    t, r = rule_runs, rule_run_records
    others = [c for c in t.c if c.name != "record_id"]
    alone = sa.select(*others, t.c.record_id, sa.literal(1).label("runs")).where(
        ~sa.exists().where(r.c.run_id == t.c.id)
    )
    peer = rule_run_records.alias("peer")
    count = sa.select(sa.func.count()).select_from(peer).where(peer.c.run_id == t.c.id).scalar_subquery()
    many = sa.select(*others, r.c.record_id, count.label("runs")).join_from(t, r, r.c.run_id == t.c.id)
    return sa.union_all(alone, many).subquery("runs")


_VIEW = _runs_view()


def runs_view() -> Any:
    """Every run as a row: the log rows, with a row that stands for several skipped runs
    repeated for each of its records (``record_id`` from ``lc_rule_run_record``). Columns are
    those of ``lc_rule_run``, plus ``runs``: how many runs its row stands for."""
    return _VIEW


def prune_runs(db: Database, before: dt.datetime) -> int:
    """Delete log rows of runs started before ``before``; returns how many."""
    with db.begin() as conn:
        old = sa.select(rule_runs.c.id).where(rule_runs.c.started_at < before)
        conn.execute(rule_run_records.delete().where(rule_run_records.c.run_id.in_(old)))
        return int(conn.execute(rule_runs.delete().where(rule_runs.c.started_at < before)).rowcount)


def pruner(platform: "RulePlatform") -> Callable[[Any], None]:
    """A ``Worker.periodic`` hook: prune runs older than the pack's retention (``keep runs 90d``)."""

    def hook(worker: Any) -> None:
        ruleset = platform.definitions().rules
        prune_runs(platform.db, platform.clock.now() - ruleset.retention)

    return hook


def query_runs(
    conn: Any,
    *,
    rule: Optional[str] = None,
    form: Optional[str] = None,
    record: Optional[int] = None,
    outcome: Optional[str] = None,
    since: Optional[dt.datetime] = None,
    until: Optional[dt.datetime] = None,
    forms: Optional[Iterable[str]] = None,
    where: Any = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """A page of runs, newest first, and the total under the same filters (``where`` is a
    clause over :func:`runs_view`, e.g. ``tools.visible_runs_clause``)."""
    t = runs_view()
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
    q = sa.select(t).where(*conds).order_by(t.c.id.desc(), t.c.record_id.desc()).limit(limit).offset(offset)
    rows = [dict(r) for r in conn.execute(q).mappings()]
    total = int(conn.execute(sa.select(sa.func.count()).select_from(t).where(*conds)).scalar_one())
    return rows, total


def get_run(conn: Any, run_id: int) -> Optional[dict[str, Any]]:
    """The log row ``run_id``; ``runs`` says how many runs it stands for (their records are
    listed by :func:`query_runs`, filtered by what the reader may see)."""
    row = conn.execute(sa.select(rule_runs).where(rule_runs.c.id == run_id)).mappings().first()
    if row is None:
        return None
    count = conn.execute(sa.select(sa.func.count()).where(rule_run_records.c.run_id == run_id)).scalar_one()
    return {**dict(row), "runs": max(int(count), 1)}


def flags_of(conn: Any, form: str, record_id: int) -> list[dict[str, Any]]:
    q = sa.select(flags).where(flags.c.form == form, flags.c.record_id == record_id).order_by(flags.c.id)
    return [dict(r) for r in conn.execute(q).mappings()]


def flag_added(conn: Any, form: str, record_id: int) -> None:
    """Note that this transaction flagged the record (see :func:`flags_for`)."""
    note(conn, (_FLAGGED, form, record_id))


def flags_for(conn: Any, form: str, ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The flag rows of the records ``ids`` of ``form``, by record, oldest first (one query;
    none for records this transaction created and did not flag, which have no flags)."""
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    wanted = [i for i in out if not created_here(conn, form, i) or noted(conn, (_FLAGGED, form, i))]
    if wanted:
        q = sa.select(flags).where(flags.c.form == form, flags.c.record_id.in_(wanted)).order_by(flags.c.id)
        for row in conn.execute(q).mappings():
            out[row["record_id"]].append(dict(row))
    return out


def flagged(form: str, ids: Any, colours: Iterable[str] = ()) -> Any:
    """A WHERE clause on the record id column ``ids`` of ``form``'s table: the records with a
    flag of one of ``colours`` (of any colour when none is given)."""
    q = sa.select(flags.c.record_id).where(flags.c.form == form)
    wanted = list(colours)
    if wanted:
        q = q.where(flags.c.colour.in_(wanted))
    return ids.in_(q)
