"""The runnable examples of docs/flows.md run and print what the page says."""

from __future__ import annotations

import pytest

import engine.flows  # noqa: F401  (the flows' pack check)
from tests.docs_example import check_example


@pytest.mark.parametrize("heading", ["A runnable example", "A check that fails", "Drawing"])
def test_flows_md_examples_run(heading: str) -> None:
    check_example("flows.md", heading)


def test_the_fixed_example_reports_the_missing_default() -> None:
    """What the page says the graph check reports once the role is fixed."""
    import re
    import textwrap

    from engine.definitions import load_pack_files, read_pack_files
    from engine.errors import DefinitionErrors
    from tests.docs_example import DOCS
    from tests.engine.flows.conftest import OMS

    page = (DOCS / "flows.md").read_text(encoding="utf-8")
    section = page.split("## A check that fails", 1)[1]
    yaml_text = re.search(r'textwrap.dedent\("""\\\n(.*?)"""\)', section, re.S)
    assert yaml_text is not None
    files = read_pack_files(OMS)
    files["flows/bad.yaml"] = textwrap.dedent(yaml_text.group(1)).replace("role: manger", "role: manager")
    with pytest.raises(DefinitionErrors) as info:
        load_pack_files(files, "oms")
    (err,) = info.value.errors
    said = re.search(r"Fix the role and the graph check speaks: `(.*?)`", section.replace("\n", " "), re.S)
    assert said is not None and str(err).splitlines()[0] == said.group(1)
