"""Numbers and money as a person reads them: ``¥12,345.60`` and ``1,234.5`` (exact: the
stored decimal text is regrouped, never turned into a float).

A money field's currency is its ``currency`` (ISO 4217), else the pack's: the currency of
the pack's ``locale`` (zh-CN: CNY). The symbol and separators follow the reader's language.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from engine.definitions.model import FieldSpec
from engine.forms import FIELD_TYPES

#: a pack's locale -> the currency its money fields are in when they do not say
PACK_CURRENCY = {
    "zh-CN": "CNY",
    "zh-HK": "HKD",
    "zh-TW": "TWD",
    "en-US": "USD",
    "en-GB": "GBP",
    "ja-JP": "JPY",
    "de-DE": "EUR",
    "fr-FR": "EUR",
}
#: the reader's language -> (thousands separator, decimal point)
SEPARATORS = {"zh-CN": (",", "."), "en": (",", ".")}
#: the reader's language -> currency symbols (as CLDR writes them); other codes are written out: ``CHF 12.00``
SYMBOLS = {
    "zh-CN": {"CNY": "¥", "USD": "US$", "EUR": "€", "GBP": "£", "HKD": "HK$", "JPY": "JP¥", "TWD": "NT$"},
    "en": {"CNY": "CN¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "JPY": "¥", "TWD": "NT$"},
}
PLAIN = re.compile(r"^-?\d+(\.\d+)?$")


def number_kind(spec: FieldSpec) -> Optional[str]:
    """``"money"``, ``"decimal"`` (grouped in thousands) or None, by the field's (result) type."""
    ftype = FIELD_TYPES.get(spec.type)
    result = getattr(ftype, "result", None)
    if result is not None:
        ftype = result(spec)
    name = getattr(ftype, "name", "")
    if name == "money":
        return "money"
    return "decimal" if name in ("decimal", "number") else None


def currency_of(spec: FieldSpec, pack_locale: str) -> Optional[str]:
    """The ISO code of a money field's currency: its own, else the pack's."""
    return str(spec.prop("currency") or "") or PACK_CURRENCY.get(pack_locale)


def symbol(code: Optional[str], locale: str) -> str:
    """``¥`` for CNY in zh-CN, ``CN¥`` in English; an unknown code as ``CHF `` (with a space)."""
    if not code:
        return ""
    return SYMBOLS.get(locale, SYMBOLS["en"]).get(code) or code + "\u00a0"


def separators(locale: str) -> tuple[str, str]:
    """(thousands separator, decimal point) in ``locale``."""
    return SEPARATORS.get(locale, SEPARATORS["en"])


def grouped(value: Any, locale: str) -> str:
    """``12345.6`` -> ``12,345.6`` in ``locale``; what is not a plain number comes back as text."""
    text = "" if value is None else str(value)
    if not PLAIN.match(text):
        return text
    thousands, point = separators(locale)
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, fraction = digits.partition(".")
    head = len(whole) % 3 or 3
    parts = [whole[:head]] + [whole[i : i + 3] for i in range(head, len(whole), 3)]
    return sign + thousands.join(parts) + (point + fraction if fraction else "")


def money(value: Any, currency_symbol: str, locale: str) -> str:
    """``-12345.6`` -> ``-¥12,345.6`` (the sign before the symbol, as CLDR writes it)."""
    text = grouped(value, locale)
    if not PLAIN.match("" if value is None else str(value)):
        return text
    if text.startswith("-"):
        return "-" + currency_symbol + text[1:]
    return currency_symbol + text
