"""Decision-table errors: every one at the file:line:col of its cell, messages asserted verbatim."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import DefinitionErrors
from engine.expr import FieldInfo, Scope
from engine.expr.types import ExprType as T
from engine.rules.decision_files import load_decision_yaml

SCOPE = Scope(
    "sales_order",
    {
        f.name: f
        for f in [
            FieldInfo("amount", T.DECIMAL, ("金额",)),
            FieldInfo("tier", T.STRING),
            FieldInfo("channel", T.STRING),
        ]
    },
    "1",
)
FORMS = {"sales_order": SCOPE}
GOOD = (Path(__file__).with_name("decision_data") / "approval.decision.yaml").read_text(encoding="utf-8")
FILE = "rules/approval.decision.yaml"


def errors(text: str) -> str:
    with pytest.raises(DefinitionErrors) as info:
        load_decision_yaml(text, FILE, FORMS)
    return str(info.value)


def test_good_table_loads() -> None:
    assert load_decision_yaml(GOOD, FILE, FORMS).warnings == ()


def test_unknown_input_field_with_did_you_mean() -> None:
    assert errors(GOOD.replace("{name: amount,", "{name: amout,")) == (
        "rules/approval.decision.yaml:8:12: unknown field 'amout' in sales_order (did you mean 'amount'?)\n"
        "      - {name: amout, label: 金额}\n"
        "               ^"
    )


def test_bad_cell_syntax_points_into_the_cell() -> None:
    assert errors(GOOD.replace("'< 50000'", "'< 5000o'")) == (
        "rules/approval.decision.yaml:13:16: unexpected 'o'; expected one of: * / or %, + or -, and, or, "
        "the end of the expression\n"
        "      - [A, '< 5000o', -, auto]\n"
        "                   ^"
    )


def test_cell_type_error_and_unknown_name_in_a_condition() -> None:
    text = GOOD.replace("'< 50000'", "'< \"many\"'").replace("'< 10000'", "'? < 10000 and ? > amout'")
    assert errors(text) == (
        "rules/approval.decision.yaml:13:10: cannot compare decimal < string\n"
        "      - [A, '< \"many\"', -, auto]\n"
        "             ^\n"
        "rules/approval.decision.yaml:15:28: unknown field 'amout' in sales_order (did you mean 'amount'?)\n"
        "      - [-, '? < 10000 and ? > amout', 'web, api', auto]\n"
        "                               ^"
    )


def test_range_bound_error_maps_to_the_bound() -> None:
    assert errors(GOOD.replace("'< 10000'", "'[10..1o0)'")).startswith(
        "rules/approval.decision.yaml:15:16: unexpected 'o0'"
    )


def test_unreachable_row_under_first() -> None:
    text = GOOD.replace("  - [-, -, -, manager]\n", "  - [-, -, -, manager]\n  - [B, '< 100', -, auto]\n")
    assert errors(text) == (
        "rules/approval.decision.yaml:17:5: row 5 can never fire: row 4 above it matches every record it "
        "matches (hit policy 'first') (move row 5 above row 4, narrow row 4, or remove row 5)\n"
        "      - [B, '< 100', -, auto]\n"
        "        ^"
    )


@pytest.mark.parametrize(
    "earlier, later, shadowed",
    [
        ("'< 50000'", "'< 100'", True),
        ("'< 50000'", "'[10..20]'", True),
        ("'< 50000'", "'<= 50000'", False),
        ("'[0..100]'", "'between 0 and 100'", True),
        ("'>= 0'", "'5, 6'", True),
        ("'5, 6, 7'", "'6, 5'", True),
        ("'5, 6'", "'[5..6]'", False),
        ("'[5..5]'", "5", True),
        ("'? > 3 and ? < 9'", "'? > 3 and ? < 9'", True),
        ("'? > 3 and ? < 9'", "'[4..5]'", True),
        ("'!= 5'", "'!= 5'", True),
        ("'!= 5'", "6", False),
        ("-", "'< 1'", True),
        ("'< 1'", "-", False),
    ],
)
def test_subsumption(earlier: str, later: str, shadowed: bool) -> None:
    text = f"form: sales_order\ninputs: [amount]\noutputs: [route]\nrows:\n  - [{earlier}, a]\n  - [{later}, b]\n"
    if shadowed:
        assert "row 2 can never fire: row 1 above it" in errors(text)
        collect = text.replace("form:", "hit: collect\nform:")
        assert load_decision_yaml(collect, FILE, FORMS).hit == "collect"  # overlaps are fine under collect
    else:
        load_decision_yaml(text, FILE, FORMS)


def test_a_cell_that_matches_nothing() -> None:
    assert errors(GOOD.replace("'< 10000'", "'[5000..10)'")) == (
        "rules/approval.decision.yaml:15:10: row 3 can never fire: this cell matches no value "
        "(check the bounds of the range)\n"
        "      - [-, '[5000..10)', 'web, api', auto]\n"
        "             ^"
    )


def test_structure_errors() -> None:
    assert errors(GOOD.replace("hit: first", "hit: firts")) == (
        "rules/approval.decision.yaml:5:6: unknown hit policy 'firts': use first or collect (did you mean 'first'?)\n"
        "    hit: firts\n"
        "         ^"
    )
    assert errors(GOOD.replace("form: sales_order", "form: sales_ordr")).startswith(
        "rules/approval.decision.yaml:4:7: unknown form 'sales_ordr' (did you mean 'sales_order'?)"
    )
    assert errors(GOOD.replace("[A, '< 50000', -, auto]", "[A, '< 50000', auto]")).startswith(
        "rules/approval.decision.yaml:13:5: row 1 has 3 cells, expected 4 (3 inputs and 1 outputs)"
    )
    assert errors(GOOD.replace("type: string", "type: strng")).startswith(
        "rules/approval.decision.yaml:11:25: unknown output type 'strng' (did you mean 'string'?)"
    )
    mapping_rows = "form: sales_order\ninputs: [amount]\noutputs: [route]\nrows:\n  - {amount: '< 5', rout: x}\n"
    assert errors(mapping_rows).startswith(
        "rules/approval.decision.yaml:5:21: row 1: unknown column 'rout' (did you mean 'route'?)"
    )
    assert errors("form: sales_order\ninputs: [amount]\nrows: []\n").startswith(
        "rules/approval.decision.yaml:1:1: a decision table needs 'outputs': a non-empty list"
    )


def test_output_type_is_checked() -> None:
    text = GOOD.replace("type: string", "type: integer").replace("[-, -, -, manager]", "[-, -, -, 1]")
    assert errors(text).startswith("rules/approval.decision.yaml:13:23: unknown field 'auto' in sales_order")


def test_gaps_are_warnings() -> None:
    table = load_decision_yaml(GOOD.replace("  - [-, -, -, manager]\n", ""), FILE, FORMS)
    assert [w.message for w in table.warnings] == [
        "no row covers: amount in [50000..200000)",
        'no row covers: tier in ["B", "C"], amount < 50000, channel not in ["api", "web"]',
        'no row covers: tier in ["B", "C"], amount in [10000..50000), channel in ["api", "web"]',
    ]
    assert str(table.warnings[0]).startswith("rules/approval.decision.yaml:12:1: no row covers:")


def test_crossing_rows_with_different_outputs_are_overlap_warnings() -> None:
    text = GOOD.replace("[-, '< 10000', 'web, api', auto]", "[-, '< 10000', 'web, api', manager]")
    (warning,) = load_decision_yaml(text, FILE, FORMS).warnings
    assert str(warning) == (
        'rules/approval.decision.yaml:15:5: rows 1 and 3 overlap (tier = "A", amount < 10000, channel in '
        '["api", "web"]) with different outputs; row 1 wins there (hit policy \'first\') '
        "(if row 3 should win, move it above row 1)\n"
        "      - [-, '< 10000', 'web, api', manager]\n"
        "        ^"
    )
    # the same rows with the same outputs, the last catch-all row, disjoint rows, collect: no warning
    assert load_decision_yaml(GOOD, FILE, FORMS).warnings == ()
    assert load_decision_yaml(text.replace("hit: first", "hit: collect"), FILE, FORMS).warnings == ()


def test_no_gap_warning_with_a_default_or_full_cover() -> None:
    text = GOOD.replace("  - [-, -, -, manager]\n", "default: {route: manager}\n")
    assert load_decision_yaml(text, FILE, FORMS).warnings == ()
    full = (
        "form: sales_order\ninputs: [{name: tier, options: [A, B]}, amount]\noutputs: [route]\nrows:\n"
        "  - [A, '< 0', x]\n  - [A, '>= 0', x]\n  - [B, -, y]\n"
    )
    assert load_decision_yaml(full, FILE, FORMS).warnings == ()
