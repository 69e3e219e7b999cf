"""The worker-kill case: ``run.py worker`` in a real process fires many due flow timers
(``flow.timer``: timer nodes; ``flow.due``: escalation steps), is killed with SIGKILL in the
middle of its batch, and is started again (after the dead worker's lease): every timer fired
exactly once in effect, each instance moved once, no history event, task or notification
twice (a SQLite file, and PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

import collections
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from typing import Iterator

import pytest
import sqlalchemy as sa

from engine.context import FixedClock
from engine.flows.tables import events, instances, tasks
from engine.platform import Platform
from engine.store.db import Database
from engine.store.outbox import outbox
from engine.store.timers import timers

from .runtime_kit import PACK, USERS, Flows

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
N = 150  # records of each form: N timer nodes, 2 N escalation steps

WAIT = """
name: wait
label: {zh-CN: 冷静期, en: Cooling off}
form: request
start: {on: create}
nodes:
  - {id: start, kind: start}
  - {id: cool, kind: timer, wait: 30m}
  - {id: check, kind: approval, assignee: {user: mgr1}}
  - {id: done, kind: end}
edges:
  - {from: start, to: cool}
  - {from: cool, to: check}
  - {from: check, to: done}
"""

CHASE = """
name: chase
label: {zh-CN: 催办, en: Chase}
form: part
start: {on: create}
nodes:
  - {id: start, kind: start}
  - id: approve
    kind: approval
    label: {zh-CN: 审批, en: Approve}
    assignee: {user: mgr1}
    escalation:
      - {after: 10m, remind: true}
      - {after: 20m, notify: {role: director}, reassign: {user: mgr2}}
  - {id: done, kind: end}
edges:
  - {from: start, to: approve}
  - {from: approve, to: done}
"""


@pytest.fixture
def due(db_url: str) -> Iterator[tuple[str, Platform]]:
    """N waiting timer nodes and N tasks with two escalation steps, all due two hours ago."""
    if db_url.startswith("sqlite:///"):
        assert os.path.isabs(db_url[len("sqlite:///") :])  # a file the worker process opens too
    then = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
    p = Platform(Database(db_url), FixedClock(then), reload_seconds=0)
    p.publish(PACK)
    with p.db.begin() as conn:
        for name, roles in USERS.items():
            p.users.add(conn, name, name + "-pw", roles)
    flows = Flows(p, p.clock)  # type: ignore[arg-type]
    flows.publish(wait=WAIT, chase=CHASE)
    for n in range(N):
        flows.create(title=f"R{n}", amount=Decimal(n + 1))
        flows.records.create(flows.ctx("staff1"), "part", {"name": f"P{n}"})
    yield db_url, p
    p.db.dispose()


def _counts(p: Platform) -> dict[str, int]:
    t = timers.c
    with p.db.connect() as conn:
        rows = conn.execute(
            sa.select(t.status, (t.locked_by.is_not(None)).label("leased"), sa.func.count())
            .where(t.kind.like("flow.%"))
            .group_by(t.status, t.locked_by.is_not(None))
        ).all()
    out: dict[str, int] = collections.Counter()
    for status, leased, n in rows:
        out[status] += n
        if status == "pending" and leased:
            out["leased"] += n
    return out


def _worker(url: str, *entry: str, ahead: float = 0) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": ROOT, "LOWCODE_TEST_AHEAD": str(ahead)}
    cmd = [sys.executable, *entry, "worker", "--poll", "0.05"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_worker_killed_mid_batch_loses_nothing_and_fires_nothing_twice(due: tuple[str, Platform]) -> None:
    url, p = due
    total = 3 * N
    assert _counts(p) == {"pending": total}
    first = _worker(url, "run.py")
    killed_at: dict[str, int] = {}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            c = _counts(p)
            if c["fired"] >= 60:
                os.kill(first.pid, signal.SIGKILL)
                first.wait(10)
                killed_at = dict(_counts(p))
                break
            assert first.poll() is None, first.stderr.read().decode() if first.stderr else ""
            time.sleep(0.01)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
    assert killed_at, "the worker fired nothing in two minutes"
    assert 60 <= killed_at["fired"] < total, killed_at  # killed in the middle
    assert killed_at["leased"] > 0, killed_at  # rows it had claimed and not fired: its lease holds them
    # restarted (after the dead worker's five-minute lease): the same command, the clock ahead
    second = _worker(url, os.path.join("tests", "engine", "flows", "worker_after_lease.py"), ahead=301)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and _counts(p).get("fired", 0) < total:
            assert second.poll() is None, second.stderr.read().decode() if second.stderr else ""
            time.sleep(0.05)
    finally:
        second.send_signal(signal.SIGINT)
        try:
            second.wait(10)
        except subprocess.TimeoutExpired:
            second.kill()
            second.wait(10)
    assert _counts(p) == {"fired": total}, _counts(p)
    _each_moved_once(p)


def _each_moved_once(p: Platform) -> None:
    i, e, t = instances.c, events.c, tasks.c
    with p.db.connect() as conn:
        insts = {r.id: r.flow for r in conn.execute(sa.select(i.id, i.flow))}
        assert collections.Counter(insts.values()) == {"wait": N, "chase": N}
        history = collections.Counter(
            (insts[r.instance_id], r.action, r.node, r.comment)
            for r in conn.execute(sa.select(e.instance_id, e.action, e.node, e.comment))
        )
        per_instance = collections.Counter(
            (r.instance_id, r.action, r.node, r.comment)
            for r in conn.execute(sa.select(e.instance_id, e.action, e.node, e.comment))
        )
        task_rows = list(conn.execute(sa.select(t.instance_id, t.node, t.status, t.assignee_id)))
        notes = conn.execute(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.kind == "notify")).scalar()
        waiting = {r.id: r.state["w"] for r in conn.execute(sa.select(i.id, i.state))}
    assert max(per_instance.values()) == 1, [k for k, v in per_instance.items() if v > 1][:5]
    assert history[("wait", "timer", "cool", None)] == N  # each timer node once
    assert history[("wait", "entered", "check", None)] == N
    assert history[("chase", "reminded", "approve", "escalation 1")] == N
    assert history[("chase", "escalated", "approve", "escalation 2: notified")] == N
    assert history[("chase", "escalated", "approve", "escalation 2: reassigned")] == N
    by_node = collections.Counter((r.node, r.status, r.assignee_id) for r in task_rows)
    mgr1, mgr2 = _uid(p, "mgr1"), _uid(p, "mgr2")
    assert by_node == {("check", "open", mgr1): N, ("approve", "open", mgr2): N}  # one task each, reassigned once
    assert notes == 2 * N  # one reminder and one note to the director per escalated task
    assert all(list(w) in (["check"], ["approve"]) for w in waiting.values())


def _uid(p: Platform, name: str) -> int:
    uid = p.user_context(name).user_id
    assert uid is not None
    return uid
