"""Run the Python example under a heading of a docs page; it must print what its ``# ...`` line says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def check_example(page: str, heading: str) -> None:
    """The first ```python block after ``## heading`` in ``docs/page`` prints its first ``# `` comment."""
    section = (DOCS / page).read_text(encoding="utf-8").split(f"## {heading}", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, f"docs/{page}: no python example under '## {heading}'"
    expected = re.search(r"^# (.*)$", code.group(1), re.M)
    assert expected is not None, f"docs/{page}: the example does not say what it prints"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), f"docs/{page}", "exec"), {})  # noqa: S102  our own docs
    assert out.getvalue().strip() == expected.group(1)
