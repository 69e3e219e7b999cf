"""docs/org.md: its runnable example prints what it says, and its commands are the CLI's."""

from __future__ import annotations

from apps.cli.main import parser
from tests.docs_example import DOCS, check_example


def test_the_runnable_example() -> None:
    check_example("org.md", "A runnable example")


def test_the_commands_the_page_names_parse() -> None:
    text = (DOCS / "org.md").read_text(encoding="utf-8")
    for line in (
        "org dept list",
        "org dept add east --zh 华东 --en East --parent sales --head sales2",
        "org dept set east --rename east2 --parent - --head -",
        "org user-dept sales2 sales",
        "org heads sales2 --levels 3",
        "delegate add sales1 sales2 --from 2026-12-01 --to 2026-12-05 --flow order_approval --flow refund",
        "delegate list --user sales1 --active",
        "delegate revoke 3",
    ):
        assert f"run.py {' '.join(line.split()[:2])}" in text, line
        assert parser().parse_args(line.split()).func is not None, line
