"""Dates kept as text in spreadsheets: ``2026-11-08``, ``2026/11/8``, ``2026.11.08``, ``2026年11月8日``,
optionally with a time (``2026-11-08 14:30``, ``2026年11月8日 14时30分``)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Optional, Union

_DATE = re.compile(
    r"^(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?"
    r"(?:(?:\s+|T)(\d{1,2})\s*[:：时]\s*(\d{1,2})\s*(?:[:：分]\s*(\d{1,2})\s*秒?|分)?)?$"
)


def text_date(value: Any) -> Optional[Union[dt.date, dt.datetime]]:
    """The date (or naive date-time, when a time is written) a text stands for, or None."""
    if not isinstance(value, str):
        return None
    m = _DATE.match(value.strip())
    if not m:
        return None
    try:
        day = dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m[4] is None:
            return day
        return dt.datetime.combine(day, dt.time(int(m[4]), int(m[5]), int(m[6] or 0)))
    except ValueError:
        return None
