"""ExprError: a definition error located inside an expression, mapped to its definition file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from engine.errors import DefinitionError, Position


@dataclass
class ExprError(DefinitionError):
    """A syntax, name or type error in an expression (prints ``file:line:col: message``)."""


@dataclass(frozen=True)
class Origin:
    """Where the expression text starts inside its definition file."""

    source: str
    file: str = "<expr>"
    line: int = 1
    column: int = 1

    def position(self, line: int, column: int) -> Position:
        """Map a 1-based (line, column) inside the expression to the definition file.

        The source line shown under the message is the expression's own line; on the first
        line it is indented by the column offset so that the caret stays under the culprit.
        """
        lines = self.source.splitlines() or [""]
        line = max(1, min(line, len(lines)))
        text = lines[line - 1]
        if line == 1:
            return Position(self.file, self.line, self.column + column - 1, " " * (self.column - 1) + text)
        return Position(self.file, self.line + line - 1, column, text)

    def error(self, message: str, line: int, column: int, hint: Optional[str] = None) -> ExprError:
        return ExprError(message, self.position(line, column), hint)
