"""Stored files: attachments, images and signatures (values are lists of file ids).

Whether the files exist and fit the field's ``max_size`` / ``accept`` limits is checked at
write time, inside the transaction (:mod:`engine.forms.compute`), against ``lc_file``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from engine.definitions.model import FieldSpec
from engine.expr.types import ExprType
from engine.field_errors import FieldError
from engine.forms.fieldtype import FieldType, register

_FILE_PROPS = {
    "max_size": {"type": "integer", "minimum": 1},
    "accept": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+/[a-z0-9.+*-]+$"}},
    "max_items": {"type": "integer", "minimum": 1},
}
PNG_PREFIX = "data:image/png;base64,"


@dataclass(frozen=True)
class PendingFile:
    """File content given inline (a signature's data URL), saved at write time."""

    name: str
    content_type: str
    data: bytes


def _file_id(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, dict) and "id" in value:
        value = value["id"]
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise FieldError("not_file")
    return value


@register
class Attachment(FieldType):
    """Files uploaded with ``POST /api/v1/files``; the value is a list of their ids."""

    name = "attachment"
    widget = "files"
    expr_type = ExprType.LIST
    element_type = ExprType.INTEGER
    props_schema = _FILE_PROPS
    files = True

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.JSON()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, (int, str, dict)) and not isinstance(value, bool):
            value = (
                [p for p in str(value).replace("，", ",").split(",") if p.strip()]
                if isinstance(value, str)
                else [value]
            )
        if not isinstance(value, list):
            raise FieldError("not_file")
        ids = list(dict.fromkeys(_file_id(v) for v in value))
        hi = spec.prop("max_items")
        if hi is not None and len(ids) > hi:
            raise FieldError("too_many", max=hi)
        return ids

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "integer", "minimum": 1}}


@register
class Image(Attachment):
    """Like attachment; ``accept`` defaults to common image types."""

    name = "image"
    widget = "images"
    default_accept = ("image/png", "image/jpeg", "image/gif", "image/webp")


@register
class Signature(FieldType):
    """A hand-written signature: a PNG data URL on input, kept as a stored file (its id)."""

    name = "signature"
    widget = "signature"
    expr_type = ExprType.INTEGER
    props_schema = {"max_size": {"type": "integer", "minimum": 1}}
    files = True

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.Integer()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(PNG_PREFIX):
            try:
                data = base64.b64decode(value[len(PNG_PREFIX) :], validate=True)
            except (binascii.Error, ValueError):
                raise FieldError("not_signature") from None
            if not data.startswith(b"\x89PNG\r\n\x1a\n"):
                raise FieldError("not_signature")
            hi = spec.prop("max_size", 512 * 1024)
            if len(data) > hi:
                raise FieldError("file_too_large", name="signature.png", max=hi)
            return PendingFile("signature.png", "image/png", data)
        try:
            return _file_id(value)
        except FieldError:
            raise FieldError("not_signature") from None

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": ["integer", "string"]}
