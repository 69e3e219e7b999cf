"""The shared escape attempts, through every place of a decision table: all refused at load time."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import DefinitionErrors
from engine.expr import FieldInfo, Scope
from engine.expr.types import ExprType as T
from engine.rules.decision import compile_decision_table

ESCAPES = [
    line
    for line in (Path(__file__).resolve().parents[1] / "expr" / "escapes.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
SCOPE = Scope("sales_order", {f.name: f for f in [FieldInfo("amount", T.DECIMAL), FieldInfo("tier", T.STRING)]}, "1")


def node(input_cell: object = "-", output_cell: object = "1", input_expr: str = "amount") -> dict[str, object]:
    return {
        "form": "sales_order",
        "inputs": [{"name": "x", "expr": input_expr}],
        "outputs": [{"name": "y", "type": "integer"}],
        "rows": [[input_cell, output_cell]],
    }


@pytest.mark.parametrize("attempt", ESCAPES)
def test_escape_refused_in_input_cell_output_cell_and_input(attempt: str) -> None:
    for bad in (
        node(input_cell=attempt),
        node(output_cell=attempt),
        node(input_expr=attempt),
        node(input_cell=f"? == ({attempt})"),
    ):
        with pytest.raises(DefinitionErrors):
            compile_decision_table(bad, SCOPE, file="escape.yaml")


def test_bare_words_stay_text() -> None:
    t = compile_decision_table(
        {"form": "sales_order", "inputs": ["tier"], "outputs": ["y"], "rows": [["__import__", "open"]]}, SCOPE
    )
    assert t.evaluate({"tier": "__import__"}) == {"y": "open"}
    assert "__import__'" in t.python_source and "import(" not in t.python_source
