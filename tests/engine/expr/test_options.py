"""A text compared with a choice field must be one of its options (a typo is an error, not false)."""

from __future__ import annotations

import pytest

from engine.definitions import load_pack_files
from engine.definitions.scopes import build_scopes
from engine.expr import ExprError, compile_expression

PACK = {
    "pack.yaml": 'name: shop\nversion: "1.0.0"\n',
    "forms/customer.yaml": "name: customer\nfields:\n  - {name: tier, type: select, options: [A, B, C]}\n",
    "forms/order.yaml": """\
name: order
fields:
  - {name: customer, type: link, form: customer}
  - name: status
    type: select
    options:
      - {value: draft, label: {zh-CN: 草稿, en: Draft}}
      - {value: approved, label: {zh-CN: 已审批, en: Approved}}
  - {name: finishes, type: multiselect, options: [matte, gloss]}
  - {name: note, type: text}
""",
}
SCOPE = build_scopes(load_pack_files(PACK, "shop"))["order"]


@pytest.mark.parametrize(
    "source",
    [
        'status == "approved"',
        '"draft" != status',
        'status in ["draft", "approved"]',
        'customer.tier == "B"',
        'finishes contains "gloss"',
        'note == "aproved"',
        "status == note",
    ],
)
def test_options_and_other_texts_pass(source: str) -> None:
    compile_expression(source, SCOPE)


@pytest.mark.parametrize(
    "source, column, message, hint",
    [
        (
            'status == "aproved"',
            11,
            '"aproved" is not an option of status (draft, approved)',
            "did you mean 'approved'?",
        ),
        ('status not in ["draft", "shiped"]', 25, '"shiped" is not an option of status (draft, approved)', None),
        ('customer.tier == "D"', 18, '"D" is not an option of tier (A, B, C)', None),
        ('finishes contains "glos"', 19, '"glos" is not an option of finishes (matte, gloss)', "did you mean 'gloss'?"),
        (
            'status == "已审批"',
            11,
            '"已审批" is not an option of status (draft, approved)',
            'write the option\'s value: "approved" ("已审批" is its label)',
        ),
    ],
)
def test_a_text_that_is_no_option_is_an_error_at_its_place(
    source: str, column: int, message: str, hint: str | None
) -> None:
    with pytest.raises(ExprError) as info:
        compile_expression(source, SCOPE, file="rules/orders.rules", line=3, column=1)
    e = info.value
    assert (e.position.line, e.position.column) == (3, column)
    assert e.to_dict()["message"] == message and e.hint == hint
