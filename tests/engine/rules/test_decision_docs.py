"""docs/decision-tables.md: the runnable example prints what the page says; the format example loads."""

from __future__ import annotations

import re
from pathlib import Path

from engine.expr import FieldInfo, Scope
from engine.expr.types import ExprType as T
from engine.rules.decision_files import load_decision_yaml
from tests.docs_example import check_example

DOC = (Path(__file__).resolve().parents[3] / "docs" / "decision-tables.md").read_text(encoding="utf-8")


def test_runnable_example() -> None:
    check_example("decision-tables.md", "A runnable example")


def test_format_example_loads() -> None:
    text = re.search(r"```yaml\n(.*?)```", DOC, re.S)
    assert text is not None
    forms: dict[str, Scope] = {}
    forms["customer"] = Scope("customer", {"tier": FieldInfo("tier", T.STRING)}, "1", forms)
    forms["sales_order"] = Scope(
        "sales_order",
        {
            f.name: f
            for f in [
                FieldInfo("amount", T.DECIMAL, ("金额",)),
                FieldInfo("channel", T.STRING),
                FieldInfo("customer", T.RECORD, link_form="customer"),
            ]
        },
        "1",
        forms,
    )
    table = load_decision_yaml(text.group(1), "rules/approval.decision.yaml", forms)
    assert table.name == "approval_route" and [i.name for i in table.inputs] == ["tier", "amount", "channel"]
    assert "rows:\n  - [A, '< 50000'," in text.group(1)
