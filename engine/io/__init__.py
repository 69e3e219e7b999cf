"""Spreadsheets in and out: import, export, the batch API's engine, forms from Excel."""
from engine.io.columns import ColumnMap, FieldIndex
from engine.io.importer import ImportReport, Importer, RowError, numbered
from engine.io.readers import ReadError, read_csv, read_rows, read_xlsx

__all__ = ["ColumnMap", "FieldIndex", "ImportReport", "Importer", "ReadError", "RowError", "numbered",
           "read_csv", "read_rows", "read_xlsx"]
