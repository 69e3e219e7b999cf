"""The runnable example in docs/forms.md runs and prints what the page says."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_forms_md_example_runs() -> None:
    text = (DOCS / "forms.md").read_text(encoding="utf-8")
    section = text.split("## A runnable example", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), "docs/forms.md", "exec"), {})  # noqa: S102  our own docs
    expected = re.search(r"^# (.*)$", code.group(1), re.M)
    assert expected is not None
    assert out.getvalue().strip() == expected.group(1)
