"""The rule trigger ``when flow X ended [completed|rejected|withdrawn|cancelled]``: a rule of a
test pack sets fields of the record when its flow ends, reading the outcome as
``flow_outcome``; ``on flow X enter NODE`` beside it; errors at load with file:line:col
(SQLite, and PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.definitions.loader import read_pack_files
from engine.errors import DefinitionErrors
from engine.rules.syntax import parse_rules

from .runtime_kit import PACK, Flows, clock_fixture, flows_fixture  # noqa: F401  (fixtures)
from .yaml_flows import APPROVAL

RULES = """on request

rule "结束时记下结果"
  when flow approval ended
  then set remark = "ended: " + flow_outcome

rule "驳回时清零折扣"
  when flow approval ended rejected
  if amount > 5
  then set discount = 0, tier = flow_outcome

rule "进入经理审批"
  when flow approval enter manager
  then set tier = "M"
"""


def _publish(flows: Flows, rules: str) -> None:
    files = read_pack_files(PACK)
    files["flows/approval.yaml"] = APPROVAL.replace("withdraw: before_first_approval", "withdraw: before_end")
    files["rules/ended.rules"] = rules
    flows.platform.publish(PACK, files)


@pytest.fixture
def ended(flows: Flows) -> Flows:
    _publish(flows, RULES)
    return flows


def test_completed_sets_the_outcome_and_enter_runs_on_the_way(ended: Flows) -> None:
    r = ended.create(title="A", amount=Decimal("10"))
    assert ended.record(r["id"])["tier"] == "M"  # on flow approval enter manager
    ended.act("mgr1", ended.task_of(r["id"], "manager")["id"], "approve")
    assert ended.record(r["id"])["remark"] is None  # not ended yet
    ended.act("fin1", ended.task_of(r["id"], "finance")["id"], "submit")
    record = ended.record(r["id"])
    assert ended.instance(r["id"])["status"] == "completed"
    assert record["remark"] == "ended: completed" and record["tier"] == "M"  # the rejected-only rule did not run


def test_rejected_runs_both_rules_and_withdrawn_only_the_general_one(ended: Flows) -> None:
    r = ended.create(title="B", amount=Decimal("10"), discount=Decimal("0.1"))
    ended.act("mgr1", ended.task_of(r["id"], "manager")["id"], "reject", comment="不行")
    record = ended.record(r["id"])
    assert ended.instance(r["id"])["status"] == "rejected"
    assert record["remark"] == "ended: rejected" and record["tier"] == "rejected" and record["discount"] == "0.0000"
    small = ended.create(title="C", amount=Decimal("3"), discount=Decimal("0.1"))  # the condition holds not
    ended.act("mgr1", ended.task_of(small["id"], "manager")["id"], "reject", comment="不行")
    assert ended.record(small["id"])["discount"] == "0.1000"
    w = ended.create(title="D", amount=Decimal("10"))
    ended.inbox.withdraw(ended.ctx("staff1"), "request", w["id"], "算了")
    record = ended.record(w["id"])
    assert record["remark"] == "ended: withdrawn" and record["tier"] == "M"


def test_the_trigger_and_the_outcome_are_checked_at_load(flows: Flows) -> None:
    items, errors = parse_rules('on request\nrule "x"\n  when flow approval ended finished\n  then set remark = "x"\n')
    assert errors and "completed, rejected, withdrawn or cancelled" in str(errors[0])
    with pytest.raises(DefinitionErrors) as bad:
        _publish(
            flows,
            'on request\nrule "y"\n  when flow approval ended\n  if flow_outcome == "done"\n  then set remark = "x"\n',
        )
    assert "flowtest/rules/ended.rules:4" in str(bad.value)
    with pytest.raises(DefinitionErrors) as outside:  # flow_outcome is only for an ended trigger
        _publish(flows, 'on request\nrule "z"\n  when created\n  then set remark = flow_outcome\n')
    assert "flow_outcome" in str(outside.value)
