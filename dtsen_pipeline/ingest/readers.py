"""Read one delivered file into text records, exactly as the agency sent them.

Nothing is interpreted here: every value stays text (identifiers must never pass through a
number), and every record the file yields is kept, junk included, numbered from 1 after the
header row. Junk is classified later, in staging, so it can be quarantined with a reason.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

SEPARATORS = (";", ",", "\t", "|")
# Numbers of 11 or more digits are what a spreadsheet shows in scientific notation and
# stores as a float, so such cells are rendered as a float ("1806014107850000.0") and the
# identifier rules can see the damage. Shorter numbers (RT, amounts, date serials) stay plain.
_LONG_NUMBER = 10**10


class UnreadableFileError(Exception):
    """The file cannot be read at all (corrupt workbook, binary garbage)."""


@dataclass(frozen=True)
class FileRecords:
    """The header and data records of one file; `encoding`/`separator` say how it was read."""

    header: list[str]
    records: list[list[str | None]]
    encoding: str
    separator: str | None


def detect_encoding(data: bytes) -> str:
    """UTF-8 with BOM, UTF-8, or Windows-1252 (the three encodings agencies deliver)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"


def detect_separator(first_line: str) -> str:
    """The separator that splits the header line into the most fields."""
    counts = {sep: len(next(csv.reader([first_line], delimiter=sep))) for sep in SEPARATORS}
    return max(SEPARATORS, key=lambda sep: (counts[sep], -SEPARATORS.index(sep)))


def read_csv_records(path: Path) -> FileRecords:
    data = path.read_bytes()
    encoding = detect_encoding(data)
    # cp1252 leaves five bytes undefined; replacing them keeps the row (and its number).
    text = data.decode(encoding, errors="replace")
    if not text.strip():
        return FileRecords([], [], encoding, None)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    separator = detect_separator(first_line)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    # Leading blank lines before the header are not records.
    while rows and not any(cell.strip() for cell in rows[0]):
        rows.pop(0)
    header = [cell.strip() for cell in rows[0]]
    records: list[list[str | None]] = [list(r) for r in rows[1:]]
    return FileRecords(header, records, encoding, separator)


def cell_text(value: object) -> str | None:
    """A spreadsheet cell as text, keeping the trace of numeric storage for long numbers."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return repr(float(value)) if abs(value) >= _LONG_NUMBER else str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _LONG_NUMBER:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def read_xlsx_records(path: Path, sheet: str | None) -> FileRecords:
    import openpyxl  # imported here: only workbook feeds pay for it

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged archive
        raise UnreadableFileError(f"not a readable .xlsx workbook ({type(exc).__name__})") from None
    try:
        worksheet = workbook[sheet] if sheet and sheet in workbook.sheetnames else workbook.worksheets[0]
        rows = [[cell_text(v) for v in row] for row in worksheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    while rows and not any(v not in (None, "") for v in rows[0]):
        rows.pop(0)
    if not rows:
        return FileRecords([], [], "xlsx", None)
    header = [(v or "").strip() for v in rows[0]]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    records: list[list[str | None]] = []
    for row in rows[1:]:
        # A sheet pads rows to its widest row; trailing empty cells beyond the header are not fields.
        trimmed = list(row)
        while len(trimmed) > width and trimmed[-1] in (None, ""):
            trimmed.pop()
        records.append(trimmed)
    return FileRecords(header, records, "xlsx", None)


def read_records(path: Path, xlsx_sheet: str | None = None) -> FileRecords:
    """Dispatch on the file type; anything that is not a workbook is read as delimited text."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx_records(path, xlsx_sheet)
    return read_csv_records(path)
