"""The runnable example in docs/forms.md runs and prints what the page says."""

from __future__ import annotations

from tests.docs_example import check_example


def test_forms_md_example_runs() -> None:
    check_example("forms.md", "A runnable example")
