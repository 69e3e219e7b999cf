"""One shop's order template, as each producer saves it (see workbooks.py for how they differ).

Sheet 订单: a merged title row, the header, five orders over seven rows (order columns
repeated on each line), a money column, a percent column, dates as date cells and as text,
three drop-down lists (a literal one; 颜色 through the defined name ColorList; 规格 straight
from the hidden sheet 字典), 金额 filled by ``=ROUND(H3*I3*(1-J3),2)`` and 单位 by a VLOOKUP
into 字典.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.engine.io.workbooks import Book, F, N, Sheet

HEADER = [
    "订单号",
    "客户名称",
    "下单日期",
    "交货日期",
    "付款方式",
    "产品名称",
    "颜色",
    "数量",
    "单价",
    "折扣",
    "金额",
    "单位",
    "规格",
]
LINES = [  # order, customer, ordered, due (text), payment, product, colour, qty, price, discount, spec
    ("SO-001", "杭州恒达", dt.date(2026, 11, 2), "2026-11-08", "月结", "不锈钢合页", "红", 10, 12.5, 0.1, "标准"),
    ("SO-001", "杭州恒达", dt.date(2026, 11, 2), "2026-11-08", "月结", "铜把手", "蓝", 2, 30, 0, "加厚"),
    ("SO-002", "宁波精工", dt.date(2026, 11, 3), "2026.11.09", "现结", "不锈钢合页", "红", 5, 12.5, 0.05, "标准"),
    ("SO-003", "深圳明亮", dt.date(2026, 11, 4), "2026年11月10日", "月结", "门吸", "蓝", 100, 3.2, 0, "标准"),
    ("SO-003", "深圳明亮", dt.date(2026, 11, 4), "2026年11月10日", "月结", "铜把手", "红", 1, 30, 0.2, "加厚"),
    ("SO-004", "温州永固", dt.date(2026, 11, 5), "2026/11/12", "预付", "门吸", "红", 20, 3.2, 0, "标准"),
    ("SO-005", "杭州恒达", dt.date(2026, 11, 6), "2026/11/13", "月结", "不锈钢合页", "蓝", 8, 12.5, 0, "加厚"),
]
UNITS = {"不锈钢合页": "个", "铜把手": "个", "门吸": "套"}
COLOURS = ["红", "橙", "黄", "绿", "蓝"]
SPECS = ["标准", "加厚", "加长"]
#: 金额 as Excel computes and caches it: ROUND(qty * price * (1 - discount), 2)
AMOUNTS = [112.5, 60, 59.38, 320, 24, 64, 100]
FORMATS = {  # producer -> (date cell format, money format)
    "excel": ("yyyy/m/d", '"¥"#,##0.00'),
    "wps": (31, '"¥"#,##0.00'),
    "libreoffice": ("YYYY\\-MM\\-DD", "[$¥-804]#,##0.00"),
}


def order_template(producer: str, path: Any, *, totals: bool = False) -> str:
    """The template as ``producer`` saves it; ``totals`` adds a 合计 row under the lines."""
    date_fmt, money = FORMATS[producer]
    rows: list[list[Any]] = [["宁波海曙五金有限公司销售订单"], list(HEADER)]
    for i, (order, customer, ordered, due, pay, product, colour, qty, price, off, spec) in enumerate(LINES):
        r = i + 3
        rows.append(
            [
                order,
                customer,
                N(ordered, date_fmt),
                due,
                pay,
                product,
                colour,
                qty,
                N(price, money),
                N(off, "0%"),
                F(f"ROUND(H{r}*I{r}*(1-J{r}),2)", AMOUNTS[i], money),
                F(f"VLOOKUP(F{r},字典!$C$2:$D$4,2,FALSE)", UNITS[product]),
                spec,
            ]
        )
    if totals:
        last = len(LINES) + 2
        rows.append(
            [
                "合计",
                None,
                None,
                None,
                None,
                None,
                None,
                F(f"SUM(H3:H{last})", sum(x[7] for x in LINES)),
                None,
                None,
                F(f"SUM(K3:K{last})", round(sum(AMOUNTS), 2), money),
            ]
        )
    colours = "OFFSET(字典!$A$2,0,0,COUNTA(字典!$A:$A)-1,1)" if producer == "wps" else "字典!$A$2:$A$6"
    dictionary = [["颜色", "规格", "产品", "单位"]]
    for i in range(max(len(COLOURS), len(SPECS), len(UNITS))):
        products = list(UNITS.items())
        dictionary.append(
            [
                COLOURS[i] if i < len(COLOURS) else None,
                SPECS[i] if i < len(SPECS) else None,
                products[i][0] if i < len(products) else None,
                products[i][1] if i < len(products) else None,
            ]
        )
    book = Book(
        producer,
        [
            Sheet(
                "订单",
                rows,
                merged=["A1:M1"],
                lists=[("E3:E200", ["月结", "现结", "预付"]), ("G3:G200", "ColorList"), ("M3:M200", "字典!$B$2:$B$4")],
            ),
            Sheet("字典", dictionary, state="hidden"),
        ],
        names=[("ColorList", colours)],
    )
    return book.save(path)
