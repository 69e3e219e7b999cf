"""Fixtures for definition tests: a writable copy of the OMS pack and error helpers."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import pytest

from engine.definitions import load_pack_files, read_pack_files
from engine.errors import DefinitionErrors

OMS = Path(__file__).resolve().parents[3] / "definitions" / "oms"


class Pack:
    """A copy of the OMS pack in a temporary folder that a test may break."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def edit(self, rel: str, old: str, new: str, count: int = 1) -> None:
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        assert text.count(old) >= 1, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, count), encoding="utf-8")

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def errors(self) -> list[str]:
        """``file:line:col: message (hint)`` of every error, files named ``oms/...``."""
        try:
            load_pack_files(read_pack_files(self.root), "oms")
        except DefinitionErrors as exc:
            return [str(e).split("\n")[0] for e in exc.errors]
        return []


@pytest.fixture
def pack(tmp_path: Path) -> Pack:
    target = tmp_path / "oms"
    shutil.copytree(OMS, target)
    return Pack(target)


@pytest.fixture
def errors_of(pack: Pack) -> Callable[[], list[str]]:
    return pack.errors
