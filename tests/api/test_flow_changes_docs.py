"""The example of docs/flow_changes.md runs and prints what it says."""

from __future__ import annotations

from tests.docs_example import check_example


def test_the_change_request_example_runs() -> None:
    check_example("flow_changes.md", "An example 示例")
