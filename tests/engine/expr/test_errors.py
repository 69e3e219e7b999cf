"""Error messages, verbatim: file:line:col, the source line with a caret, words not token names."""

from __future__ import annotations

import pytest

from engine.errors import DefinitionError
from engine.expr import ExprError, ExprType, compile_expression, parse

from .conftest import SCOPES

SO = SCOPES["sales_order"]


def err(source: str, **kw: object) -> str:
    with pytest.raises(ExprError) as info:
        compile_expression(source, SO, **kw)  # type: ignore[arg-type]
    return str(info.value)


def test_is_a_definition_error_with_position() -> None:
    with pytest.raises(DefinitionError) as info:
        compile_expression("stok < 20", SO, file="rules/stock.rules", line=4, column=9)
    e = info.value
    assert (e.position.file, e.position.line, e.position.column) == ("rules/stock.rules", 4, 9)
    assert e.to_dict()["message"] == "unknown field 'stok' in sales_order"
    assert e.hint == "did you mean 'stock'?"


def test_unknown_field_did_you_mean() -> None:
    assert err("stok < 20") == (
        "<expr>:1:1: unknown field 'stok' in sales_order (did you mean 'stock'?)\n    stok < 20\n    ^"
    )


def test_position_offset_inside_a_definition_file() -> None:
    # the expression starts at line 12, column 15 of the YAML file
    assert err("qty > 1 and stok < 20", file="forms/order.yaml", line=12, column=15) == (
        "forms/order.yaml:12:27: unknown field 'stok' in sales_order (did you mean 'stock'?)\n"
        "                  qty > 1 and stok < 20\n"
        "                              ^"
    )


def test_line_offset_on_later_lines_has_no_column_offset() -> None:
    assert err("qty > 1\n  and stok < 20", file="forms/order.yaml", line=12, column=15) == (
        "forms/order.yaml:13:7: unknown field 'stok' in sales_order (did you mean 'stock'?)\n"
        "      and stok < 20\n"
        "          ^"
    )


def test_did_you_mean_labels_and_links() -> None:
    assert err("库 < 1").startswith("<expr>:1:1: unknown field '库' in sales_order")
    assert err('customer.tierr == "gold"').startswith(
        "<expr>:1:1: unknown field 'tierr' in customer (did you mean 'tier'?)"
    )


def test_type_error_at_its_position() -> None:
    assert err('qty > 1 and "abc" < 3') == (
        '<expr>:1:13: cannot compare string < integer\n    qty > 1 and "abc" < 3\n                ^'
    )


def test_date_compared_with_string_gets_a_hint() -> None:
    assert err('due < "2026-01-01"').splitlines()[0] == (
        "<expr>:1:1: cannot compare date < string (write dates without quotes, e.g. 2026-11-21)"
    )


def test_expect_boolean() -> None:
    assert err("total * 2", expect=ExprType.BOOLEAN).splitlines()[0] == (
        "<expr>:1:1: expected a boolean expression, got decimal"
    )


def test_expect_value_types() -> None:
    assert compile_expression("qty * 2", SO, expect=ExprType.DECIMAL).type == ExprType.INTEGER
    assert err("total * 2", expect=ExprType.INTEGER).splitlines()[0] == (
        "<expr>:1:1: expected an integer expression, got decimal"
    )
    assert err("due + 1d", expect=ExprType.DATETIME).splitlines()[0] == (
        "<expr>:1:1: expected a datetime expression, got date"
    )


def test_condition_operands() -> None:
    assert err("status and qty > 1").splitlines()[0] == ("<expr>:1:1: expected a condition (true/false), got string")


def test_arity() -> None:
    assert err("round()").splitlines()[0] == "<expr>:1:1: round takes 1 to 2 arguments, got 0"
    assert err("lower(note, note)").splitlines()[0] == "<expr>:1:1: lower takes 1 argument, got 2"
    assert err("if(approved, 1)").splitlines()[0] == ("<expr>:1:1: if takes 3 arguments (condition, then, else), got 2")


def test_unknown_function_did_you_mean() -> None:
    assert err("lowr(note) == 'a'").splitlines()[0] == ("<expr>:1:1: unknown function 'lowr' (did you mean 'lower'?)")


def test_sub_table_needs_an_aggregate() -> None:
    assert err("lines.qty > 1").splitlines()[0] == (
        "<expr>:1:1: 'lines' is a sub-table: use an aggregate such as count(lines) or sum(lines.<field>)"
    )


def test_syntax_error_expected_words() -> None:
    assert err("stock <", file="f.yaml", line=3, column=5) == (
        "f.yaml:3:12: unexpected end of expression; expected one of: (, -, [, false, null, true, "
        "a date, a date-time, a duration, a name, a number, a string, a time\n"
        "        stock <\n"
        "               ^"
    )


def test_syntax_error_missing_parenthesis() -> None:
    assert err("(stock < 1").splitlines()[0] == ("<expr>:1:11: unexpected end of expression; expected one of: )")


def test_syntax_error_between_needs_and() -> None:
    assert err("qty between 1 4").splitlines()[0] == (
        "<expr>:1:15: unexpected '4'; expected one of: * / or %, + or -, and"
    )


def test_syntax_error_unexpected_token() -> None:
    assert err("stock < < 1").splitlines()[0].startswith("<expr>:1:9: unexpected '<'; expected one of: (, -, [")


def test_keywords_are_reserved_so_the_error_points_at_the_misplaced_one() -> None:
    assert err("total > 50000 and and x").splitlines() == [
        "<expr>:1:19: unexpected 'and'; expected one of: (, -, [, false, not, null, true, a date, a date-time, "
        "a duration, a name, a number, a string, a time ('and' is a keyword, not a name)",
        "    total > 50000 and and x",
        "                      ^",
    ]
    assert err("qty in in [1]").splitlines()[0].startswith("<expr>:1:8: unexpected 'in'; expected one of: (")
    assert err("NOT or qty > 1").splitlines()[0].startswith("<expr>:1:5: unexpected 'or';")
    assert err("where > 1").splitlines()[0].startswith("<expr>:1:1: unexpected 'where';")
    # a name may start or end with a keyword
    assert parse("andrew > 1 and in_stock or order_is or empty_ok").__class__.__name__ == "Logic"


def test_bad_characters_and_strings() -> None:
    assert err("stock $ 1").splitlines()[0] == "<expr>:1:7: unexpected character '$'"
    assert err('note == "abc').splitlines()[0] == "<expr>:1:9: unterminated string"
    assert err("due == 2026-13-45").splitlines()[0] == "<expr>:1:8: invalid date 2026-13-45"
    assert err("   ").splitlines()[0] == "<expr>:1:1: empty expression"


def test_parse_alone_reports_syntax_only() -> None:
    parse("no_such_field > 1")
    with pytest.raises(ExprError):
        parse("1 +")


def test_hints_for_other_languages_habits() -> None:
    assert err("stock = 1").splitlines()[0] == "<expr>:1:7: unexpected character '=' (use == to compare)"
    assert err("approved && stock > 1").splitlines()[0] == "<expr>:1:10: unexpected character '&' (use and)"
