"""Spreadsheets in and out: import, export, the batch API's engine, forms from Excel."""

from engine.io.columns import ColumnMap, FieldIndex
from engine.io.importer import Importer, numbered
from engine.io.readers import ReadError, read_csv, read_rows, read_xlsx
from engine.io.report import ImportReport, RowError, SkippedRow

__all__ = [
    "ColumnMap",
    "FieldIndex",
    "ImportReport",
    "Importer",
    "ReadError",
    "RowError",
    "SkippedRow",
    "numbered",
    "read_csv",
    "read_rows",
    "read_xlsx",
]
