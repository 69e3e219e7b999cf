"""Durations as flows write them: ``30m``, ``2h``, ``3d``, ``1d12h``, ``1w`` (and ``45s``)."""

from __future__ import annotations

import re

_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+)([wdhms])")
#: a duration: whole numbers with units, largest first, each unit at most once
PATTERN = r"^(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?$"
_WHOLE = re.compile(PATTERN)


def parse_duration(text: str) -> int | None:
    """The number of seconds ``text`` stands for; None when it is not a duration (or zero)."""
    text = text.strip()
    if not text or not _WHOLE.fullmatch(text):
        return None
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(text))
    return seconds or None


def format_duration(seconds: int) -> str:
    """``129600`` -> ``1d12h``: the shortest text that :func:`parse_duration` reads back."""
    out = ""
    for unit, size in _UNIT_SECONDS.items():
        if unit == "w" and seconds % size:
            continue  # 10d reads better than 1w3d
        n, seconds = divmod(seconds, size)
        if n:
            out += f"{n}{unit}"
    return out or "0s"
