"""Every ``rules`` block of docs/rules.md compiles against the stock test pack."""

from __future__ import annotations

import re
from pathlib import Path

from engine.definitions.loader import load_pack_files, read_pack_files
from engine.runtime import compile_definitions
from tests.engine.rules.conftest import PACK

DOC = Path(__file__).resolve().parents[3] / "docs" / "rules.md"


def test_doc_rule_blocks_compile():
    blocks = re.findall(r"```rules\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 3
    for text in blocks:
        files = read_pack_files(PACK)
        files["rules/stock.rules"] = text
        compile_definitions([load_pack_files(files, root="stock")])
