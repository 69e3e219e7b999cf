"""Rule timers: schedules and date-relative rule triggers on the store's generic timers.

The rows are :mod:`engine.store.timers` rows of kind ``rule``, one per (rule, record or
none, due time), keyed ``<rule key>#<record id>`` with the rule, form, record and trigger
text in the payload. Two kinds of rules put rows there:

* **schedules** (``every day at 08:00``, ``every 30m``): :func:`ensure_schedules` keeps one
  pending row per rule for its next slot (``record_id = 0``);
* **date-relative** (``72h before due_date``): :class:`TimerScheduler`, subscribed to the
  store's EventBus, places, moves or removes a record's row inside the writing transaction.

What firing one means is :class:`engine.rules.timers_fire.RuleTimers`, the handler the rules
register for kind ``rule``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping, Optional, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.definitions.model import FormSpec
from engine.expr.scope import SqlTables
from engine.rules.spec import RuleSet, RuleSpec, TimerTrigger
from engine.store import timers as store_timers
from engine.store.events import RecordEvent
from engine.store.timers import DROPPED, FAILED, FIRED, PENDING, timers

KIND = "rule"  # the timer kind the rules handle
NO_RECORD = 0  # record_id of schedule rows


class RecordReader(Protocol):
    """What rule timers read of records: a form's spec, a record, the tables."""

    @property
    def tables(self) -> SqlTables: ...

    def form(self, name: str) -> FormSpec: ...

    def get(self, conn: Connection, form: str, record_id: int) -> Optional[dict[str, Any]]: ...


class WritingRules(Protocol):
    """What the scheduler asks of the rule engine: the rules and the store a write runs by."""

    def rules(self) -> RuleSet: ...

    def store(self) -> RecordReader: ...


def key_of(rule: RuleSpec, record_id: int) -> str:
    return f"{rule.key}#{record_id}"


def payload_of(rule: RuleSpec, record_id: int) -> dict[str, Any]:
    return {"rule": rule.key, "form": rule.form, "record_id": record_id, "trigger": trigger_text(rule)}


def trigger_text(rule: RuleSpec) -> str:
    return rule.trigger.describe()[:200]


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


def path_value(
    conn: Connection, store: RecordReader, form: str, record: Mapping[str, Any], path: tuple[str, ...]
) -> Any:
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


def place(conn: Connection, rule: RuleSpec, record_id: int, due: Optional[dt.datetime], now: dt.datetime) -> None:
    """Make ``due`` the record's one pending timer for ``rule`` (``None``: no timer)."""
    store_timers.schedule(conn, KIND, key_of(rule, record_id), due, now=now, payload=payload_of(rule, record_id))


def add_slot(conn: Connection, rule: RuleSpec, record_id: int, due: dt.datetime, now: dt.datetime) -> None:
    store_timers.add(conn, KIND, key_of(rule, record_id), due, now=now, payload=payload_of(rule, record_id))


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
    wanted = {key_of(r, NO_RECORD): r for r in rules}
    rows = conn.execute(
        sa.select(t.id, t.key, t.payload).where(t.kind == KIND, t.key.in_(sorted(wanted)), t.status == PENDING)
    ).all()
    have: set[str] = set()
    for row in rows:
        if (row.payload or {}).get("trigger") == trigger_text(wanted[row.key]):
            have.add(row.key)
        else:
            conn.execute(sa.delete(timers).where(t.id == row.id, t.status == PENDING))
    added = 0
    for key, rule in wanted.items():
        if key not in have:
            assert rule.trigger.timer is not None
            add_slot(conn, rule, NO_RECORD, slot_after(rule.trigger.timer, now), now)
            added += 1
    return added


def backfill(conn: Connection, store: RecordReader, ruleset: RuleSet, now: dt.datetime) -> int:
    """Place timers for the records that existed before a date-relative rule was published.

    Done once per rule and trigger text (noted with :func:`engine.store.timers.note`); only
    due times still in the future are placed, so publishing a reminder rule does not fire it
    for every old record at once. Returns the rows placed.
    """
    placed = 0
    for rule in relative_rules(ruleset):
        timer = rule.trigger.timer
        assert timer is not None
        if not store_timers.note(conn, KIND, f"backfilled:{rule.key}", {"trigger": trigger_text(rule)}, now=now):
            continue
        table = store.tables.table(store.form(rule.form).name)
        column = table.c[timer.path[0]]
        q = sa.select(table).where(column.is_not(None))
        for row in conn.execute(q).mappings():
            due = relative_due(timer, path_value(conn, store, rule.form, dict(row), timer.path))
            if due is not None and due > now:
                add_slot(conn, rule, int(row["id"]), due, now)
                placed += 1
    return placed


class TimerScheduler:
    """EventBus handler: keeps the date-relative timer rows of each written record in step.

    Created / updated: ``due = record[field] + offset``; the row is placed, moved when the
    date changes, removed when the date is cleared. Deleted: the record's rows go. Costs one
    dict lookup for forms without date-relative rules.
    """

    def __init__(self, engine: WritingRules) -> None:
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
            if (
                event.kind == "updated"
                and len(timer.path) == 1
                and head not in event.changed
                and new.get(head) == old.get(head)
            ):
                continue
            value = path_value(conn, store, rule.form, new, timer.path)
            place(conn, rule, event.record_id, relative_due(timer, value), now)


def remove(conn: Connection, rules: Iterable[RuleSpec], record_id: int, now: dt.datetime) -> None:
    """Drop the pending timers of ``record_id`` for ``rules`` (the record was deleted)."""
    for rule in rules:
        place(conn, rule, record_id, None, now)


def pending(conn: Connection, rule: Optional[str] = None, record_id: Optional[int] = None) -> list[dict[str, Any]]:
    """Pending rule timers (tests, admin screens, ``run.py``), soonest first; each row with
    its payload's ``rule`` and ``record_id``."""
    out = []
    for row in store_timers.pending(conn, KIND):
        p = row["payload"] or {}
        if (rule is None or p.get("rule") == rule) and (record_id is None or p.get("record_id") == record_id):
            out.append({**row, "rule": p.get("rule"), "record_id": p.get("record_id")})
    return out


__all__ = [
    "DROPPED",
    "FAILED",
    "FIRED",
    "KIND",
    "NO_RECORD",
    "PENDING",
    "TimerScheduler",
    "backfill",
    "ensure_schedules",
    "pending",
    "place",
    "relative_due",
    "slot_after",
    "timers",
]
