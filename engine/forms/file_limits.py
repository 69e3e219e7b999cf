"""What a file field accepts: its largest size and its content types (checked on upload and save)."""

from __future__ import annotations

from typing import Optional, Sequence

from engine.definitions.model import FieldSpec
from engine.field_errors import FieldError
from engine.forms.fieldtype import FIELD_TYPES

#: the largest upload accepted when the field says nothing (20 MB)
DEFAULT_MAX_SIZE = 20 * 1024 * 1024


def accepts(accept: Sequence[str], content_type: str) -> bool:
    """``image/*`` style matching of a content type against an allow-list."""
    major = content_type.split("/")[0]
    return any(a == content_type or a == f"{major}/*" for a in accept)


def check_limits(
    name: str, content_type: str, size: int, max_size: Optional[int], accept: Optional[Sequence[str]]
) -> None:
    """Raise :class:`FieldError` when a file is too large or of a type not accepted."""
    limit = max_size or DEFAULT_MAX_SIZE
    if size > limit:
        raise FieldError("file_too_large", name=name, max=limit)
    if accept and not accepts(accept, content_type):
        raise FieldError("file_type", name=name, type=content_type, accept=", ".join(accept))


def field_limits(spec: FieldSpec) -> tuple[Optional[int], Optional[Sequence[str]]]:
    """(max_size, accept) of an attachment / image / signature field."""
    accept = spec.prop("accept")
    if accept is None:
        accept = getattr(FIELD_TYPES[spec.type], "default_accept", None)
    if spec.type == "signature":
        accept = ("image/png",)
    return spec.prop("max_size"), accept
