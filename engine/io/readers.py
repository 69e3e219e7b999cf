"""Reading spreadsheets row by row in constant memory: .xlsx (engine.io.xlsx) and .csv.

Every reader yields ``(row_number, values)`` where ``row_number`` is what the spreadsheet
shows (1-based, title and header rows counted), and values are cells as Python values
(whole floats become ints, empty strings become None). A row of an .xlsx with formulas in it
comes as :class:`Cells`: the values, and the formulas by column.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from typing import IO, Any, Iterable, Iterator, Mapping, Optional, Sequence

from engine.io.sources import ReadError, Source

__all__ = ["Cells", "ReadError", "Row", "Source", "detect_format", "formulas_of", "read_csv", "read_rows", "read_xlsx"]

Row = tuple[int, tuple[Any, ...]]


class Cells(tuple[Any, ...]):
    """A row's values (a tuple like any other row) and the formulas that fill some of them:
    0-based column -> formula text as the .xlsx keeps it (``{7: "=SUM(H3:H9)"}``)."""

    formulas: Mapping[int, str]

    def __new__(cls, values: Iterable[Any], formulas: Mapping[int, str]) -> "Cells":
        row = super().__new__(cls, values)
        row.formulas = formulas
        return row


def formulas_of(cells: Sequence[Any]) -> Mapping[int, str]:
    """The formulas of a row read by :func:`read_xlsx` (none for other rows)."""
    return getattr(cells, "formulas", _NONE)


_NONE: Mapping[int, str] = {}


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
    """Rows of an .xlsx sheet, in memory that does not grow with the file (see engine.io.xlsx)."""
    from xml.etree.ElementTree import ParseError

    from engine.io.xlsx import sheet_cells

    try:
        for number, values, formulas in sheet_cells(source, sheet):
            yield number, (Cells(_cells(values), formulas) if formulas else _cells(values))
    except ParseError as exc:
        raise ReadError(f"not a readable .xlsx file (broken XML: {exc})") from None


def _cells(values: Sequence[Any]) -> tuple[Any, ...]:
    """Cells as the importer takes them: text stripped (empty -> None), whole floats as ints."""
    out = []
    for v in values:
        kind = type(v)
        if kind is str:
            v = v.strip() or None
        elif kind is float and v.is_integer() and abs(v) < 2**53:
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
    delimiter = (
        "\t"
        if sample.count("\t") > sample.count(",") and sample.count("\t") > sample.count(";")
        else (";" if sample.count(";") > sample.count(",") else ",")
    )
    for number, values in enumerate(csv.reader(stream, delimiter=delimiter), start=1):
        yield number, _cells(values)


class _Prepend(io.RawIOBase):
    """A byte stream that first returns ``head``, then the rest of ``fh``."""

    def __init__(self, head: bytes, fh: IO[bytes]) -> None:
        self.head, self.fh = head, fh

    def readable(self) -> bool:
        return True

    @property
    def name(self) -> Any:  # TextIOWrapper's buffer has one
        return self.fh.name

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
