"""Reading spreadsheets row by row in constant memory: .xlsx (openpyxl read-only) and .csv.

Every reader yields ``(row_number, values)`` where ``row_number`` is what the spreadsheet
shows (1-based, title and header rows counted), and values are cells as Python values
(whole floats become ints, empty strings become None).
"""
from __future__ import annotations

import codecs
import gc
import csv
import io
import os
from typing import IO, Any, Iterator, Optional, Sequence, Union

Source = Union[str, "os.PathLike[str]", IO[bytes]]
Row = tuple[int, tuple[Any, ...]]


class ReadError(ValueError):
    """The file is not a readable spreadsheet."""


def detect_format(filename: str) -> str:
    """``xlsx`` or ``csv`` from a file name."""
    ext = os.path.splitext(filename.lower())[1]
    if ext in (".xlsx", ".xlsm"):
        return "xlsx"
    if ext in (".csv", ".txt"):
        return "csv"
    raise ReadError(f"cannot read {filename!r}: use an .xlsx or a .csv file")


def read_rows(source: Source, fmt: Optional[str] = None, *, sheet: Optional[str] = None) -> Iterator[Row]:
    """Rows of the first (or the named) sheet of an .xlsx, or of a .csv."""
    if fmt is None:
        name = source if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "")
        fmt = detect_format(str(name))
    if fmt == "xlsx":
        return read_xlsx(source, sheet=sheet)
    if fmt == "csv":
        return read_csv(source)
    raise ReadError(f"unknown format {fmt!r}: use xlsx or csv")


def read_xlsx(source: Source, *, sheet: Optional[str] = None) -> Iterator[Row]:
    import zipfile

    import openpyxl

    try:
        wb = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ReadError(f"not a readable .xlsx file ({exc})") from None
    # openpyxl sizes a sheet without a <dimension> element (as its own write-only mode saves
    # them; Excel writes one) by parsing it whole when it opens it, and that tree lives on in a
    # reference cycle until the collector runs: free it before the rows are read
    gc.collect()
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        for number, values in _sheet_rows(wb, ws):
            yield number, _cells(values)
    finally:
        wb.close()


def _sheet_rows(wb: Any, ws: Any) -> Iterator[tuple[int, Sequence[Any]]]:
    """(row number, cell values) of a read-only sheet, in constant memory.

    What ``ws.iter_rows(values_only=True)`` does with openpyxl's own sheet parser, except that
    each ``<row>`` element is dropped once read: openpyxl empties them but keeps them all in
    the tree, so its memory grows with the sheet (about 70 bytes a row). Rows the file leaves
    out are skipped (the numbers say so).
    """
    from xml.etree.ElementTree import iterparse

    from openpyxl.worksheet._reader import ROW_TAG, WorkSheetParser

    with ws._get_source() as src:   # what ReadOnlyWorksheet._cells_by_row does
        parser = WorkSheetParser(src, ws._shared_strings, data_only=wb.data_only, epoch=wb.epoch,
                                 date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        parent = None
        for event, element in iterparse(src, events=("start", "end")):
            if event == "start":
                if parent is None and element.tag == _SHEET_DATA:
                    parent = element
                continue
            if element.tag != ROW_TAG:
                continue
            number, cells = parser.parse_row(element)
            if parent is not None:
                parent.clear()
            else:
                element.clear()
            if not cells:
                continue
            values: list[Any] = [None] * cells[-1]["column"]
            for cell in cells:
                values[cell["column"] - 1] = cell["value"]
            yield number, values


_SHEET_DATA = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheetData"


def _cells(values: Sequence[Any]) -> tuple[Any, ...]:
    """Cells as the importer takes them: text stripped (empty -> None), whole floats as ints."""
    out = []
    for v in values:
        kind = type(v)
        if kind is str:
            v = v.strip() or None
        elif kind is float and v.is_integer() and abs(v) < 2 ** 53:
            v = int(v)
        out.append(v)
    return tuple(out)


def read_csv(source: Source) -> Iterator[Row]:
    """UTF-8 (with or without the BOM Excel writes) or, failing that, GB18030 (Excel on Chinese Windows)."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            yield from _csv_lines(fh)
    else:
        yield from _csv_lines(source)


def _csv_lines(fh: IO[bytes]) -> Iterator[Row]:
    head = fh.read(65536)
    encoding = "utf-8-sig"
    try:
        head.decode("utf-8-sig") if len(head) < 65536 else codecs.getincrementaldecoder("utf-8-sig")().decode(head)
    except UnicodeDecodeError:
        encoding = "gb18030"
    stream = io.TextIOWrapper(_Prepend(head, fh), encoding=encoding, newline="")
    sample = head[:4096].decode(encoding, errors="ignore")
    delimiter = "\t" if sample.count("\t") > sample.count(",") and sample.count("\t") > sample.count(";") else (
        ";" if sample.count(";") > sample.count(",") else ",")
    for number, values in enumerate(csv.reader(stream, delimiter=delimiter), start=1):
        yield number, _cells(values)


class _Prepend(io.RawIOBase):
    """A byte stream that first returns ``head``, then the rest of ``fh``."""

    def __init__(self, head: bytes, fh: IO[bytes]) -> None:
        self.head, self.fh = head, fh

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        if self.head:
            n = min(len(buf), len(self.head))
            buf[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.fh.read(len(buf))
        n = len(data)
        buf[:n] = data
        return n
