"""The value types the expression language knows (what a field is, to an expression)."""

from __future__ import annotations

from enum import Enum


class ExprType(Enum):
    """A static type of an expression or a field."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"  # exact: money, quantities with a scale (Python Decimal, SQL NUMERIC)
    FLOAT = "float"  # approximate numbers (rare: ratings, coordinates)
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    DURATION = "duration"
    LIST = "list"  # multi-select, tags, list literals
    RECORD = "record"  # a link to a record of another form (value: its integer id)
    TABLE = "table"  # a sub-table: a list of child rows
    JSON = "json"
    NULL = "null"
    ANY = "any"

    @property
    def numeric(self) -> bool:
        return self in (ExprType.INTEGER, ExprType.DECIMAL, ExprType.FLOAT)
