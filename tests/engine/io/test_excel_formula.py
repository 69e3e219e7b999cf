"""Excel formulas -> expressions: each case translated and then compiled by the expression language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from engine.expr import ExprType, FieldInfo, Scope, compile_expression
from engine.io.excel_formula import Row, Total, Untranslatable, column_total, translate

# row 3 of a sheet whose columns A..F are these fields; the formula stands in column G
NAMES = {1: "order_no", 2: "status", 3: "qty", 4: "unit_price", 5: "discount", 6: "due"}
WHERE = Row(3, 7, NAMES, "订单", barred={8: "remark"})
SCOPE = Scope(
    "t",
    {
        "order_no": FieldInfo("order_no", ExprType.STRING),
        "status": FieldInfo("status", ExprType.STRING),
        "qty": FieldInfo("qty", ExprType.INTEGER),
        "unit_price": FieldInfo("unit_price", ExprType.DECIMAL),
        "discount": FieldInfo("discount", ExprType.DECIMAL),
        "due": FieldInfo("due", ExprType.DATE),
    },
    version="1",
)
RECORD = {
    "order_no": "SO-1",
    "status": "是",
    "qty": 4,
    "unit_price": Decimal("2.5"),
    "discount": Decimal("0.1"),
    "due": dt.date(2026, 11, 8),
}

CASES = [  # Excel, expression, its value on RECORD
    ("=C3*D3", "qty * unit_price", Decimal("10.0")),
    ("=ROUND(C3*D3*(1-E3),2)", "round(qty * unit_price * (1 - discount), 2)", Decimal("9.00")),
    ("=ROUND(C3/3,0)", "round(qty / 3)", Decimal("1")),
    ("=SUM(C3:E3)", "qty + unit_price + discount", Decimal("6.6")),
    ("=SUM(C3:D3)*2", "(qty + unit_price) * 2", Decimal("13.0")),
    ("=SUM(C3,D3,1)", "qty + unit_price + 1", Decimal("7.5")),
    ("=C3-(D3-E3)", "qty - (unit_price - discount)", Decimal("1.6")),
    ("=C3-D3-E3", "qty - unit_price - discount", Decimal("1.4")),
    ("=C3/(D3*E3)", "qty / (unit_price * discount)", Decimal("16")),
    ("=-C3*D3", "-qty * unit_price", Decimal("-10.0")),
    ("=5%*C3", "0.05 * qty", Decimal("0.20")),
    ("=C3*(1+E3%)", "qty * (1 + discount / 100)", Decimal("4.004")),
    ("=$C$3*D$3", "qty * unit_price", Decimal("10.0")),
    ("=1.5E2+C3", "150 + qty", 154),
    ('=IF(B3="是",C3,0)', 'if(status == "是", qty, 0)', 4),
    ('=IF(C3>10,"大")', 'if(qty > 10, "大", null)', None),
    ("=IF(AND(C3>1,D3<3),1,2)", "if(qty > 1 and unit_price < 3, 1, 2)", 1),
    ("=IF(OR(C3>9,NOT(D3<3)),1,2)", "if(qty > 9 or not unit_price < 3, 1, 2)", 2),
    ("=C3<>D3", "qty != unit_price", True),
    ("=MIN(C3:D3)", "min(qty, unit_price)", Decimal("2.5")),
    ("=MAX(C3,D3*2)", "max(qty, unit_price * 2)", Decimal("5.0")),
    ("=MAX(C3)", "qty", 4),
    ("=ABS(D3-C3)", "abs(unit_price - qty)", Decimal("1.5")),
    ("=IFERROR(C3/(D3-2.5),0)", "coalesce(qty / (unit_price - 2.5), 0)", 0),
    ('=A3&"-"&B3', 'concat(order_no, "-", status)', "SO-1-是"),
    ('=CONCATENATE(A3,"/",C3)', 'concat(order_no, "/", qty)', "SO-1/4"),
    ('="say ""hi"""', '"say \\"hi\\""', 'say "hi"'),
    ("=LEN(A3)", "len(order_no)", 4),
    ("=UPPER(TRIM(A3))", "upper(trim(order_no))", "SO-1"),
    ('=DATEDIF(F3,F3,"d")', "days_between(due, due)", 0),
    ("=_xlfn.CONCAT(A3,B3)", "concat(order_no, status)", "SO-1是"),
    ("=TRUE", "true", True),
]


@pytest.mark.parametrize("excel, expected, value", CASES)
def test_translated_formulas_compile_and_compute(excel, expected, value):
    text = translate(excel, WHERE)
    assert text == expected
    assert compile_expression(text, SCOPE).evaluate(RECORD) == value


@pytest.mark.parametrize(
    "excel, reason, params",
    [
        ("=VLOOKUP(A3,字典!C:D,2,FALSE)", "function", {"name": "VLOOKUP"}),
        ("=C3^2", "operator", {"op": "^"}),
        ("=C4*D3", "other_row", {"ref": "C4", "row": "3"}),
        ("=字典!A3", "other_sheet", {"ref": "字典!A3"}),
        ("=G3+1", "itself", {"ref": "G3"}),
        ("=Z3", "no_column", {"ref": "Z3"}),
        ("=H3", "line_columns", {"ref": "H3"}),
        ("=SUM(C3:C9)", "range_rows", {"ref": "C3:C9"}),
        ("=C3:D3", "range_value", {"ref": "C3:D3"}),
        ("=TaxRate*C3", "defined_name", {"name": "TaxRate"}),
        ("=#N/A", "error_value", {"value": "#N/A"}),
        ("=ROUND()", "arguments", {"name": "ROUND"}),
        ('=DATEDIF(F3,F3,"m")', "function", {"name": "DATEDIF"}),
        ("=(C3", "syntax", {}),
    ],
)
def test_what_is_not_translated_says_why(excel, reason, params):
    with pytest.raises(Untranslatable) as caught:
        translate(excel, WHERE)
    assert (caught.value.reason, caught.value.params) == (reason, params)


def test_a_sheet_named_in_a_reference_may_be_the_formulas_own():
    assert translate("='订单'!C3*订单!D3", WHERE) == "qty * unit_price"


def test_column_totals():
    assert column_total("=SUM(K3:K9)") == Total("sum", 11, 3, 9, "=SUM(K3:K9)")
    assert column_total("=SUBTOTAL(109,$K$3:$K$9)") == Total("sum", 11, 3, 9, "=SUBTOTAL(109,$K$3:$K$9)")
    assert column_total("AVERAGE(H3:H20)").fn == "avg"
    for not_a_total in ("=SUM(H3:K3)", "=SUM(H3:H9)*2", "=SUM(H3:H9,K3:K9)", "=COUNT(H3:H9)", "=SUM(字典!A1:A9)", "=("):
        assert column_total(not_a_total) is None, not_a_total
