"""Definition packs: load YAML/JSON files into checked, immutable specs.

The loader finds field types by name in :data:`engine.registry.FIELD_TYPES` and runs the
checks the layers above registered (:mod:`engine.definitions.checks`); both are filled when
``engine.forms`` and ``engine.rules`` are imported, as the composition root does.
"""

from __future__ import annotations

from engine.definitions.loader import (
    check_pack,
    check_pack_files,
    load_pack,
    load_pack_files,
    pack_checksum,
    read_pack_files,
)
from engine.definitions.model import (
    ACTIONS,
    FIELD_ACCESS,
    SYSTEM_FIELDS,
    Check,
    FieldSpec,
    FormGrant,
    FormSpec,
    Labels,
    Option,
    PackSpec,
    RoleSpec,
)
from engine.definitions.scopes import build_scopes

__all__ = [
    "ACTIONS",
    "FIELD_ACCESS",
    "SYSTEM_FIELDS",
    "Check",
    "FieldSpec",
    "FormGrant",
    "FormSpec",
    "Labels",
    "Option",
    "PackSpec",
    "RoleSpec",
    "build_scopes",
    "check_pack",
    "check_pack_files",
    "load_pack",
    "load_pack_files",
    "pack_checksum",
    "read_pack_files",
]
