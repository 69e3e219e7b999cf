"""Definition packs: load YAML/JSON files into checked, immutable specs.

The loader is imported lazily (``engine.forms`` imports ``engine.definitions.model``, and
the loader imports ``engine.forms``), so ``from engine.definitions import load_pack`` works
whichever package is imported first.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.definitions.model import (
    ACTIONS, FIELD_ACCESS, SYSTEM_FIELDS, Check, FieldSpec, FormGrant, FormSpec, Labels, Option,
    PackSpec, RoleSpec,
)

if TYPE_CHECKING:  # pragma: no cover
    from engine.definitions.loader import (
        check_pack, check_pack_files, load_pack, load_pack_files, pack_checksum, read_pack_files,
    )
    from engine.definitions.scopes import build_scopes

_LAZY = {
    "load_pack": "engine.definitions.loader",
    "load_pack_files": "engine.definitions.loader",
    "check_pack": "engine.definitions.loader",
    "check_pack_files": "engine.definitions.loader",
    "pack_checksum": "engine.definitions.loader",
    "read_pack_files": "engine.definitions.loader",
    "build_scopes": "engine.definitions.scopes",
}

__all__ = [
    "ACTIONS", "FIELD_ACCESS", "SYSTEM_FIELDS", "Check", "FieldSpec", "FormGrant", "FormSpec",
    "Labels", "Option", "PackSpec", "RoleSpec", *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.definitions' has no attribute '{name}'")
    import importlib
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
