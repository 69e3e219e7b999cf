"""The runnable example in docs/roles.md runs and prints what the page says."""

from __future__ import annotations

from tests.docs_example import check_example


def test_roles_md_example_runs() -> None:
    check_example("roles.md", "A runnable example")
