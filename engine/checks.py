"""Checking a pack folder before it is published: what ``run.py check`` and ``run.py rules
check`` report (the service layer: it loads and compiles, the rule tools warn)."""

from __future__ import annotations

import os
from typing import Optional

from engine.definitions import check_pack, load_pack
from engine.definitions.loader import load_pack_files, read_pack_files
from engine.errors import DefinitionError, DefinitionErrors, NotFound
from engine.rules.tools import check_warnings
from engine.runtime import Definitions, compile_definitions


def check_folder(path: str) -> tuple[list[DefinitionError], list[DefinitionError]]:
    """``(errors, warnings)`` of a pack folder: its files, then (when they load) its rules and
    permissions compiled, trigger cycles and decision-table gaps and overlaps."""
    errors = check_pack(path)
    if errors:
        return list(errors), []
    try:
        return [], check_warnings(compile_definitions([load_pack(path)]))
    except DefinitionErrors as exc:
        return list(exc.errors), []


def load_for_check(target: str) -> tuple[Optional[Definitions], list[DefinitionError]]:
    """Compile a pack folder, or one ``.rules`` file against the pack around it."""
    if os.path.isdir(target):
        path, override = target, None
    else:
        path = os.path.dirname(os.path.dirname(os.path.abspath(target)))
        override = (os.path.relpath(os.path.abspath(target), path).replace(os.sep, "/"), _read(target))
    if not os.path.exists(os.path.join(path, "pack.yaml")):
        raise NotFound(f"{target}: no pack.yaml found (give a pack folder or a file in its rules/ folder)")
    files = read_pack_files(path)
    if override is not None:
        files = {k: v for k, v in files.items() if not k.endswith(".rules")}
        files[override[0]] = override[1]
    try:
        spec = load_pack_files(files, root=path.rstrip("/"))
        return compile_definitions([spec]), []
    except DefinitionErrors as exc:
        return None, list(exc.errors)


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()
