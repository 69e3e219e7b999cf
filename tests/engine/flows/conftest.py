"""Fixtures for flow definition tests: the OMS pack with one more flow file, and its errors."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

import pytest

import engine.flows  # noqa: F401  (registers the flows' pack check)
from engine.definitions import load_pack_files, read_pack_files
from engine.definitions.model import PackSpec
from engine.errors import DefinitionError, DefinitionErrors

OMS = Path(__file__).resolve().parents[3] / "definitions" / "oms"
FlowErrors = Callable[..., list[DefinitionError]]


def oms_with(flows: dict[str, str]) -> dict[str, str]:
    """The OMS pack's files with ``flows`` ({name: yaml text}) added as flows/<name>.yaml."""
    files = read_pack_files(OMS)
    for name, text in flows.items():
        files[f"flows/{name}.yaml"] = textwrap.dedent(text).lstrip("\n")
    return files


def load_with(flows: dict[str, str]) -> PackSpec:
    return load_pack_files(oms_with(flows), "oms")


@pytest.fixture
def flow_errors() -> FlowErrors:
    """``flow_errors(text, name="t")``: every error of the OMS pack with flows/<name>.yaml added."""

    def errors(text: str, name: str = "t", **more: str) -> list[DefinitionError]:
        try:
            load_with({name: text, **more})
        except DefinitionErrors as exc:
            return list(exc.errors)
        return []

    return errors


def lines(errors: list[DefinitionError]) -> list[str]:
    """``file:line:col: message (hint)`` of each error."""
    return [str(e).split("\n")[0] for e in errors]
