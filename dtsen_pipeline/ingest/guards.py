"""Checks made before a reader allocates anything: one odd file must never take the run down.

A workbook whose only cell sits at `XFD1048576` makes a spreadsheet reader allocate the whole
rectangle (17 billion cells, half a terabyte) and the process abort before any exception can be
caught; a zip bomb expands to gigabytes. These guards look at sizes and cell references without
building the sheet and raise `UnreadableFileError`, which registers the file as `unreadable` with
the reason (never a value) while the run goes on with the other files.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

MAX_FILE_BYTES = 2 << 30  # a Tanggamus extract is about 150 MB; a province's about 2 GB per feed
MAX_UNZIPPED_BYTES = 4 << 30  # every member of a workbook, uncompressed
MAX_SHEET_CELLS = 50_000_000  # rows x columns of a sheet's used range (the reader builds one object per cell)
_CHUNK = 1 << 22
_ROW = re.compile(rb'<row\b[^>]*?\br="([0-9]{1,9})"')
_WIDE_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]{2,3})[0-9]')  # column AA or beyond: rare in a feed


class UnreadableFileError(Exception):
    """The file cannot be read at all (corrupt workbook, binary garbage, beyond the limits here);
    the message names no value from it."""


def column_number(letters: str) -> int:
    """`A` -> 1, `Z` -> 26, `AA` -> 27, `XFD` -> 16384."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def check_file_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UnreadableFileError(f"{size:,} bytes, more than the {MAX_FILE_BYTES:,} a delivery may have")


def _used_range(member: zipfile.ZipExtFile) -> tuple[int, int]:
    """Highest row and column referenced by a sheet's XML, read in chunks without parsing it."""
    rows = columns = 0
    tail = b""
    while chunk := member.read(_CHUNK):
        data = tail + chunk
        for match in _ROW.finditer(data):
            rows = max(rows, int(match.group(1)))
        for match in _WIDE_CELL.finditer(data):
            columns = max(columns, column_number(match.group(1).decode("ascii")))
        tail = data[-64:]
    return rows, max(columns, 26)


def check_workbook(path: Path) -> None:
    """Refuse a workbook too large to expand, or whose sheet's used range is too large to build."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableFileError(f"not a readable .xlsx workbook ({type(exc).__name__})") from None
    with archive:
        members = archive.infolist()
        unzipped = sum(m.file_size for m in members)
        if unzipped > MAX_UNZIPPED_BYTES:
            raise UnreadableFileError(f"expands to {unzipped:,} bytes, more than the {MAX_UNZIPPED_BYTES:,} allowed")
        for member in members:
            if not (member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")):
                continue
            with archive.open(member) as fh:
                rows, columns = _used_range(fh)
            if rows * columns > MAX_SHEET_CELLS:
                raise UnreadableFileError(
                    f"a sheet's used range is {rows:,} rows x {columns:,} columns, more than the "
                    f"{MAX_SHEET_CELLS:,} cells a workbook may have (a stray cell far from the data?)")
