"""Timer rows: schedules and date-relative rule triggers as rows indexed by due time.

``lc_timer`` holds one row per (rule, record or none, due time). Two kinds of rules put
rows there:

* **schedules** (``every day at 08:00``, ``every 30m``): :func:`ensure_schedules` keeps one
  pending row per rule for its next slot (``record_id = 0``);
* **date-relative** (``72h before due_date``): :class:`TimerScheduler`, subscribed to the
  store's EventBus, places, moves or removes a record's row inside the writing transaction.

The worker hook in :mod:`engine.rules.timer_fire` claims due rows and fires their rules.
The ``(status, due_at)`` index makes the scan cost what is due, not what exists; the unique
``(rule, record_id, due_at)`` makes scheduling the same slot twice harmless.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping, Optional
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.forms.coltypes import UTCDateTime
from engine.rules.spec import RuleSet, RuleSpec, TimerTrigger
from engine.store.dialect import for_update_skip_locked, insert_ignore
from engine.store.events import RecordEvent
from engine.store.system import SYSTEM

PENDING, FIRED, FAILED, DROPPED = "pending", "fired", "failed", "dropped"
NO_RECORD = 0            # record_id of schedule rows
MARK = -1                # record_id of a relative rule's "existing records scheduled" marker

timers = sa.Table(
    "lc_timer", SYSTEM,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("rule", sa.String(300), nullable=False),       # RuleSpec.key: "<form>:<rule name>"
    sa.Column("form", sa.String(64), nullable=False),
    sa.Column("record_id", sa.Integer, nullable=False),      # 0: a schedule (no record)
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("trigger", sa.String(200), nullable=False),    # trigger.describe() when placed
    sa.Column("status", sa.String(16), nullable=False),      # pending | fired | failed | dropped
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("fired_at", UTCDateTime),
    sa.Column("fired_by", sa.String(64)),
    sa.Column("outcome", sa.String(200)),                     # e.g. "fired", "3 fired, 1 skipped"
    sa.Column("error", sa.Text),
    sa.Index("ix_lc_timer_due", "status", "due_at"),
    sa.UniqueConstraint("rule", "record_id", "due_at", name="uq_lc_timer_slot"),
)

#: schedules with an ``every <duration>`` interval count their slots from this local time
INTERVAL_ANCHOR = dt.datetime(2000, 1, 1)


def slot_after(timer: TimerTrigger, when: dt.datetime) -> dt.datetime:
    """The first slot of a schedule strictly after ``when`` (UTC in, UTC out).

    Interval schedules (``every 30m``) are aligned to midnight 2000-01-01 in the pack's
    time zone, so every worker computes the same slots (``:00`` and ``:30``), whatever
    its clock said when it started.
    """
    if timer.interval is None:
        return timer.next_after(when)
    anchor = INTERVAL_ANCHOR.replace(tzinfo=ZoneInfo(timer.timezone)).astimezone(dt.timezone.utc)
    step = timer.interval
    count = (when - anchor) // step + 1
    return anchor + count * step


def relative_due(timer: TimerTrigger, value: Any) -> Optional[dt.datetime]:
    """``value + offset`` in UTC; a date (no time) means midnight in the pack's time zone."""
    if value is None or timer.offset is None:
        return None
    if isinstance(value, dt.datetime):
        base = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    elif isinstance(value, dt.date):
        base = dt.datetime.combine(value, dt.time(0), ZoneInfo(timer.timezone))
    else:
        return None
    return (base + timer.offset).astimezone(dt.timezone.utc)


def path_value(conn: Connection, store: Any, form: str, record: Mapping[str, Any],
               path: tuple[str, ...]) -> Any:
    """The value at ``path`` (``due_date`` or ``task.due`` through a link) of ``record``."""
    current: Optional[Mapping[str, Any]] = record
    for name in path[:-1]:
        if current is None:
            return None
        fspec = store.form(form).field(name)
        link = current.get(name)
        if fspec is None or fspec.form is None or link is None:
            return None
        form = fspec.form
        current = store.get(conn, form, int(link))
    return current.get(path[-1]) if current is not None else None


def place(conn: Connection, rule: RuleSpec, record_id: int, due: Optional[dt.datetime],
          now: dt.datetime) -> None:
    """Make ``due`` the record's one pending timer for ``rule`` (``None``: no timer).

    Pending rows being fired right now by a worker are locked; they are skipped rather than
    waited for (no deadlock with the worker's own writes), and the worker re-checks the due
    time against the record before firing.
    """
    t = timers.c
    stale = sa.select(t.id).where(t.rule == rule.key, t.record_id == record_id, t.status == PENDING)
    if due is not None:
        stale = stale.where(t.due_at != due)
    ids = list(conn.execute(for_update_skip_locked(stale, conn)).scalars())
    if ids:
        conn.execute(sa.delete(timers).where(t.id.in_(ids), t.status == PENDING))
    if due is not None:
        _insert(conn, rule, record_id, due, now)


def _insert(conn: Connection, rule: RuleSpec, record_id: int, due: dt.datetime, now: dt.datetime,
            status: str = PENDING) -> None:
    conn.execute(insert_ignore(timers, conn).values(
        rule=rule.key, form=rule.form, record_id=record_id, due_at=due,
        trigger=rule.trigger.describe()[:200], status=status, created_at=now))


def schedule_rules(ruleset: RuleSet) -> list[RuleSpec]:
    return [r for r in ruleset.timers if r.trigger.timer is not None and r.trigger.timer.kind == "schedule"]


def relative_rules(ruleset: RuleSet) -> list[RuleSpec]:
    return [r for r in ruleset.timers if r.trigger.timer is not None and r.trigger.timer.kind == "relative"]


def ensure_schedules(conn: Connection, ruleset: RuleSet, now: dt.datetime) -> int:
    """One pending row per schedule rule, for its next slot after ``now``; returns rows added.

    A pending row placed under another trigger text (the rule was republished with a new
    time) is replaced. Two workers doing this at once insert the same slot, which the
    unique index keeps once.
    """
    rules = schedule_rules(ruleset)
    if not rules:
        return 0
    t = timers.c
    wanted = {r.key: r for r in rules}
    rows = conn.execute(sa.select(t.id, t.rule, t.trigger).where(
        t.rule.in_(sorted(wanted)), t.record_id == NO_RECORD, t.status == PENDING)).all()
    have: set[str] = set()
    for row in rows:
        if row.trigger == wanted[row.rule].trigger.describe()[:200]:
            have.add(row.rule)
        else:
            conn.execute(sa.delete(timers).where(t.id == row.id, t.status == PENDING))
    added = 0
    for key, rule in wanted.items():
        if key not in have:
            assert rule.trigger.timer is not None
            _insert(conn, rule, NO_RECORD, slot_after(rule.trigger.timer, now), now)
            added += 1
    return added


def backfill(conn: Connection, store: Any, ruleset: RuleSet, now: dt.datetime) -> int:
    """Place timers for the records that existed before a date-relative rule was published.

    Done once per rule and trigger text (a marker row with ``record_id = -1`` remembers it);
    only due times still in the future are placed, so publishing a reminder rule does not
    fire it for every old record at once. Returns the rows placed.
    """
    placed = 0
    t = timers.c
    for rule in relative_rules(ruleset):
        timer = rule.trigger.timer
        assert timer is not None
        marker = conn.execute(sa.select(t.id).where(
            t.rule == rule.key, t.record_id == MARK, t.trigger == rule.trigger.describe()[:200])).first()
        if marker is not None:
            continue
        _insert(conn, rule, MARK, INTERVAL_ANCHOR.replace(tzinfo=dt.timezone.utc), now, status=FIRED)
        table = store.tables.table(store.form(rule.form).name)
        column = table.c[timer.path[0]]
        q = sa.select(table).where(column.is_not(None))
        for row in conn.execute(q).mappings():
            due = relative_due(timer, path_value(conn, store, rule.form, dict(row), timer.path))
            if due is not None and due > now:
                _insert(conn, rule, int(row["id"]), due, now)
                placed += 1
    return placed


class TimerScheduler:
    """EventBus handler: keeps the date-relative timer rows of each written record in step.

    Created / updated: ``due = record[field] + offset``; the row is placed, moved when the
    date changes, removed when the date is cleared. Deleted: the record's rows go. Costs one
    dict lookup for forms without date-relative rules.
    """

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._ruleset: Optional[RuleSet] = None
        self._by_form: dict[str, tuple[RuleSpec, ...]] = {}

    def rules_for(self, form: str) -> tuple[RuleSpec, ...]:
        ruleset = self.engine.rules()
        if ruleset is not self._ruleset:
            by_form: dict[str, list[RuleSpec]] = {}
            for rule in relative_rules(ruleset):
                by_form.setdefault(rule.form, []).append(rule)
            self._by_form = {k: tuple(v) for k, v in by_form.items()}
            self._ruleset = ruleset
        return self._by_form.get(form, ())

    def __call__(self, conn: Connection, event: RecordEvent) -> None:
        rules = self.rules_for(event.form)
        if not rules:
            return
        now = event.ctx.now()
        if event.kind == "deleted":
            remove(conn, rules, event.record_id, now)
            return
        new, old = event.new or {}, event.old or {}
        store = self.engine.store()
        for rule in rules:
            timer = rule.trigger.timer
            assert timer is not None
            head = timer.path[0]
            if (event.kind == "updated" and len(timer.path) == 1 and head not in event.changed
                    and new.get(head) == old.get(head)):
                continue
            value = path_value(conn, store, rule.form, new, timer.path)
            place(conn, rule, event.record_id, relative_due(timer, value), now)


def remove(conn: Connection, rules: Iterable[RuleSpec], record_id: int, now: dt.datetime) -> None:
    """Drop the pending timers of ``record_id`` for ``rules`` (the record was deleted)."""
    for rule in rules:
        place(conn, rule, record_id, None, now)


def pending(conn: Connection, rule: Optional[str] = None, record_id: Optional[int] = None) -> list[dict[str, Any]]:
    """Pending rows (for tests, admin screens and ``run.py``), soonest first."""
    t = timers.c
    q = sa.select(timers).where(t.status == PENDING).order_by(t.due_at, t.id)
    if rule is not None:
        q = q.where(t.rule == rule)
    if record_id is not None:
        q = q.where(t.record_id == record_id)
    return [dict(r) for r in conn.execute(q).mappings()]
