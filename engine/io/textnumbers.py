"""Numbers kept as text in spreadsheets, as people type and shops' systems export them.

Money: ``¥1,234.50``, ``￥1,234.50``, ``1,234.50元``, ``RMB 1234.5``, ``$1,234.50``, ``US$ 12``,
``1234.50 EUR``, ``-¥5``, ``(1,234.50)`` (accounting's negative); percents: ``12%``, ``12.5 %``
(the fraction, 0.125). Full-width forms (``１２％``, ``￥``) read as their ASCII ones.

The currency is a mark of money, not a conversion: ``$1,234.50`` is 1234.50 whatever the
field's ``currency``. Thousands separators must group by three (``1,234``): ``1,23`` could be
a decimal comma and is no number here.
"""

from __future__ import annotations

import re
import string
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

_SYMBOL = r"(?:[A-Z]{1,3}[$¥€£]|[$¥€£₩₹])"  # US$, HK$, CN¥, ¥, $ ...
_CODE = r"(?:RMB|CNY|USD|EUR|GBP|HKD|JPY|TWD|SGD|AUD|CAD|CHF|KRW|MOP)"
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_AMOUNT = re.compile(
    rf"(?P<s1>[-+])?\s*(?:(?P<pre>{_SYMBOL}|{_CODE})\s*)?(?P<s2>[-+])?\s*(?P<num>{_DIGITS})"
    rf"\s*(?P<post>{_SYMBOL}|{_CODE}|元|圆|%)?"
)
_LONGEST = 40  # longer texts are no amounts (and are not worth a regular expression)
#: how an amount may start (anything else is text, told at its first character)
_START = frozenset("0123456789+-(.$¥€£₩₹" + string.ascii_letters + "０１２３４５６７８９￥＄（－＋．")


def text_number(value: Any, percent: bool = False) -> Optional[Decimal]:
    """The number a text shows, or None when it shows none.

    ``percent``: a trailing ``%`` divides by 100 (``12.5%`` -> 0.125) and no currency is
    allowed; without it a ``%`` makes the text no number (a money column does not take ``12%``).
    A plain number (``0.125``, ``1,234.50``) is read either way.
    """
    if type(value) is not str or not value or len(value) > _LONGEST:
        return None
    text = value.strip()
    if not text or text[0] not in _START:
        return None
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).replace("\u3000", " ").strip()
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1].strip()
    m = _AMOUNT.fullmatch(text.upper())
    if m is None or (m["s1"] and m["s2"]) or (m["pre"] and m["post"]):
        return None
    is_percent = m["post"] == "%"
    if is_percent != percent and (m["pre"] or m["post"]):
        return None  # a percent in a money column, a currency in a percent column
    sign = m["s1"] or m["s2"]
    if negative and sign:
        return None
    try:
        number = Decimal(m["num"].replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
        return None
    if negative or sign == "-":
        number = -number
    return number.scaleb(-2) if is_percent else number
