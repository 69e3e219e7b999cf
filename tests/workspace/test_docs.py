"""The runnable example of docs/workspace.md prints what it says."""

from __future__ import annotations

from tests.docs_example import check_example


def test_the_workspace_example_runs() -> None:
    check_example("workspace.md", "A runnable example")
