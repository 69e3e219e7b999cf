"""What a spreadsheet reader reads from (a path or an open binary file), and its error."""

from __future__ import annotations

import os
from typing import IO, Union

Source = Union[str, "os.PathLike[str]", IO[bytes]]


class ReadError(ValueError):
    """The file is not a readable spreadsheet."""
