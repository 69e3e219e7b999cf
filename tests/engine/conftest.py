"""Fixtures shared by the engine's tests: a fake distribution that declares entry points."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Callable, Iterator

import pytest

from engine import registry


@pytest.fixture
def fake_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Install a fake distribution (dist-info + modules) on sys.path for one test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    modules: list[str] = []
    registry.clear_cache()

    def make(name: str, entry_points: str, **sources: str) -> None:
        info = tmp_path / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
        for module, source in sources.items():
            (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
            modules.append(module)

    yield make
    registry.clear_cache()
    for module in modules:
        sys.modules.pop(module, None)
