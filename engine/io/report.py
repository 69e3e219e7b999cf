"""What an import did, for the person who ran it: counts, skipped rows and every problem
where the spreadsheet shows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

MAX_ERRORS = 1000


@dataclass
class RowError:
    """One problem, where the spreadsheet shows it."""

    row: int
    column: str
    message: str
    field: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "field": self.field, "message": self.message}


@dataclass
class SkippedRow:
    """A row left out on purpose, and why (a totals row)."""

    row: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "message": self.message}


@dataclass
class ImportReport:
    """What an import did: counts, unknown columns, the rows it left out (totals rows) and
    every problem (the first 1,000)."""

    form: str
    mode: str
    key: Optional[str] = None
    dry_run: bool = False
    header_row: int = 0
    rows: int = 0
    records: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    error_count: int = 0
    written: bool = False
    unknown_columns: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)

    def to_dict(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "mode": self.mode,
            "key": self.key,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "written": self.written,
            "header_row": self.header_row,
            "rows": self.rows,
            "records": self.records,
            "created": self.created,
            "updated": self.updated,
            "failed": self.failed,
            "error_count": self.error_count,
            "errors_truncated": self.error_count > len(self.errors),
            "unknown_columns": self.unknown_columns,
            "columns": self.columns,
            "skipped": [s.to_dict() for s in self.skipped],
            "errors": [e.to_dict() for e in self.errors],
        }
