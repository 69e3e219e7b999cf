"""``run.py flows migrate FLOW --to N [--map old=new] [--dry-run]``: waiting instances move to
another revision of their pack by a node mapping, checked first (every problem reported,
nothing changed on error); their tasks follow; the task is then acted on in the new revision
(SQLite, and PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from .runtime_kit import Flows, clock_fixture, flows_fixture  # noqa: F401  (fixtures)
from .yaml_flows import APPROVAL

#: revision 2 of the flow: the manager's node is now 'boss', and a check comes after finance
RENAMED = (
    APPROVAL.replace("  - id: manager\n", "  - id: boss\n")
    .replace("to: manager, default: true", "to: boss, default: true")
    .replace("{from: manager, to: finance}", "{from: boss, to: finance}")
    .replace("{from: finance, to: done}", "{from: finance, to: audit}\n  - {from: audit, to: done}")
    .replace(
        "  - {id: done, kind: end}", "  - {id: audit, kind: task, assignee: {role: planner}}\n  - {id: done, kind: end}"
    )
)


@pytest.fixture
def two(flows: Flows) -> tuple[Flows, int, int, dict[str, Any], dict[str, Any]]:
    """Revision 1 with a record waiting at the manager and one at the director; revision 2 published."""
    flows.publish(approval=APPROVAL)
    first = flows.platform.definitions().revision("flowtest")
    small = flows.create(title="小", amount=Decimal("10"))
    big = flows.create(title="大", amount=Decimal("60000"))
    flows.publish(approval=RENAMED)
    second = flows.platform.definitions().revision("flowtest")
    assert first is not None and second == first + 1
    return flows, first, second, small, big


def _pins(flows: Flows, *records: dict[str, Any]) -> list[tuple[int, list[str]]]:
    return [(flows.instance(r["id"])["revision"], flows.instance(r["id"])["waiting"]) for r in records]


def test_a_migration_without_the_mapping_is_refused_and_changes_nothing(two: Any, cli: Any) -> None:
    flows, first, second, small, big = two
    code, out, err = cli("flows", "migrate", "approval", "--to", str(second), "--lang", "en")
    assert code == 1
    assert f"waits at 'manager', which revision {second} does not have" in err and "--map manager=NEW" in err
    assert "nothing was migrated" in err
    code, _out, err = cli(
        "flows",
        "migrate",
        "approval",
        "--to",
        str(second),
        "--map",
        "manager=finance",
        "--map",
        "nope=boss",
        "--lang",
        "en",
    )
    assert code == 1
    assert "'manager' (approval/one) maps to 'finance', a task node" in err
    assert "--map nope=boss: 'nope' is no node of 'approval'" in err and "2 problem(s)" in err
    code, _out, err = cli("flows", "migrate", "approval", "--to", "99", "--map", "manager=boss", "--lang", "en")
    assert code == 1 and "has no revision 99" in err
    code, _out, err = cli("flows", "migrate", "approval", "--to", str(second), "--map", "manager")
    assert code == 1 and "--map 的格式是 旧=新" in err
    code, _out, err = cli("flows", "migrate", "approval", "--to", str(second), "--lang", "zh-CN")
    assert code == 1 and "实例" in err and "没有这个节点" in err
    assert _pins(flows, small, big) == [(first, ["manager"]), (first, ["director"])]


def test_dry_run_then_migrate_and_act_in_the_new_revision(two: Any, cli: Any) -> None:
    flows, first, second, small, big = two
    task = flows.task_of(small["id"], "manager")
    code, out, err = cli("flows", "migrate", "approval", "--to", str(second), "--map", "manager=boss", "--dry-run")
    assert code == 0, err
    assert f"would move 2 instance(s) of approval from revision(s) {first} to {second}" in out
    assert f"revision {first} -> {second}; manager -> boss; waits at boss; tasks {task['id']}" in out
    assert _pins(flows, small, big) == [(first, ["manager"]), (first, ["director"])]
    code, out, err = cli("flows", "migrate", "approval", "--to", str(second), "--map", "manager=boss")
    assert code == 0, err and "moved 2 instance(s)" in out
    assert _pins(flows, small, big) == [(second, ["boss"]), (second, ["director"])]
    moved = flows.task_of(small["id"], "boss")
    assert moved["id"] == task["id"] and moved["assignee_role"] == "manager"
    view = flows.inbox.task(flows.ctx("mgr1"), moved["id"])
    assert view["node"] == "boss" and view["editable"] == ["discount", "remark"]
    event = [e for e in flows.instance(small["id"])["history"] if e["action"] == "migrated"]
    assert len(event) == 1 and event[0]["changes"] == {"revision": [first, second], "node:manager": ["manager", "boss"]}
    flows.act("mgr1", moved["id"], "approve")
    flows.act("fin1", flows.task_of(small["id"], "finance")["id"], "submit")
    audit = flows.task_of(small["id"], "audit")  # a node only revision 2 has
    flows.act("plan1", audit["id"], "submit")
    assert flows.instance(small["id"])["status"] == "completed"
    code, out, _err = cli("flows", "migrate", "approval", "--to", str(second))
    assert code == 0 and "moved 0 instance(s)" in out  # the pinned ones are all there
