"""One error hierarchy for the platform; definition errors print themselves with a caret."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, TypeVar

E = TypeVar("E", bound="LowcodeError")


@dataclass(frozen=True)
class Position:
    """Where something stands in a source file: 1-based line and column."""

    file: str = ""
    line: int = 0
    column: int = 0
    source_line: str | None = None

    def __str__(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


class LowcodeError(Exception):
    """Base of every error the platform raises on purpose.

    An error made by :meth:`said` carries a key of :mod:`engine.error_texts` and its values,
    so that each caller reads it in their own language (:meth:`text`); ``str()`` is English."""

    key: str | None = None
    params: dict[str, Any] = {}

    @classmethod
    def said(cls: type[E], key: str, /, fields: dict[str, list[str]] | None = None, **params: Any) -> E:
        """The error whose message is ``key`` of the catalogue, filled with ``params``."""
        from engine.error_texts import render

        exc = cls(render(key, "en", **params), fields) if fields is not None else cls(render(key, "en", **params))
        exc.key, exc.params = key, params
        return exc

    def text(self, locale: str) -> str:
        """The message in ``locale`` (English when the error was not made by :meth:`said`)."""
        if self.key is None:
            return str(self)
        from engine.error_texts import render

        return render(self.key, locale, **self.params)


@dataclass
class DefinitionError(LowcodeError):
    """A problem in a definition (form, roles, rule, ...) at a known place."""

    message: str
    position: Position = field(default_factory=Position)
    hint: str | None = None
    path: str | None = None  # field path inside the definition, e.g. "fields[2].type"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        head = f"{self.position}: {self.message}" if str(self.position) else self.message
        if self.hint:
            head += f" ({self.hint})"
        src = self.position.source_line
        if src is not None and self.position.column:
            caret = " " * (self.position.column - 1) + "^"
            head += f"\n    {src.rstrip()}\n    {caret}"
        return head

    def to_dict(self) -> dict[str, Any]:
        """Structured form, for the API and the builder."""
        return {
            "file": self.position.file,
            "line": self.position.line,
            "column": self.position.column,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


class DefinitionErrors(LowcodeError):
    """All errors found in one load or check, reported at once."""

    def __init__(self, errors: Iterable[DefinitionError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.position.file, e.position.line, e.position.column))
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class ValidationError(LowcodeError):
    """Invalid record data: messages by field path (``lines[3].qty``)."""

    def __init__(self, fields: dict[str, list[str]], message: str = "invalid data") -> None:
        self.fields = fields
        super().__init__(message)


class NotFound(LowcodeError):
    """A record, form or user that does not exist (or that the caller may not see)."""


class Conflict(LowcodeError):
    """A stale version or a duplicate unique key."""

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        self.fields = fields or {}
        super().__init__(message)


class StaleVersion(Conflict):
    """The record changed since the version the caller sent (HTTP 409; 412 for ``If-Match``)."""


class Duplicate(Conflict):
    """A unique key another record holds: ``unique`` names its fields (the message, their labels)."""

    def __init__(self, message: str, fields: dict[str, list[str]], unique: tuple[str, ...]) -> None:
        super().__init__(message, fields)
        self.unique = unique


class PermissionDenied(LowcodeError):
    """The caller lacks a form, field or row permission."""

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        self.fields = fields or {}
        super().__init__(message)


class AuthError(LowcodeError):
    """Missing or bad credentials."""


class Throttled(LowcodeError):
    """Too many failed attempts for a user name or from an address: refused unchecked (HTTP 429)."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after  # whole seconds until an attempt is checked again
        super().__init__(f"too many failed attempts; try again in {retry_after} s")


class SchemaChangeRefused(LowcodeError):
    """A publish would drop or retype a column that holds data."""


class QueryError(LowcodeError):
    """A malformed request: a bad filter, sort or parameter (HTTP 400)."""

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        self.fields = fields or {}
        super().__init__(message)
