"""Writing one feed file (CSV or .xlsx) with deliberate file-level junk, and its provenance.

A writer returns, for every person record it wrote, the record's `source_row`: the 1-based
number of the record below the header, counting every record a reader yields (repeated
headers, delimiter-only rows, summary rows, a truncated last row). That is exactly what the
pipeline's ingest stores, so the truth can point at records the way the pipeline does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import xlsxwriter

REPEATED_HEADER = "REPEATED_HEADER"
EMPTY_ROW = "EMPTY_ROW"
SUMMARY_ROW = "SUMMARY_ROW"
MALFORMED_ROW = "MALFORMED_ROW"


@dataclass(frozen=True)
class Junk:
    """One junk record: inserted before data record `at` (0-based), or at the end."""

    kind: str
    at: int = -1
    values: dict[str, object] | None = None


@dataclass
class Table:
    """Everything needed to write one feed file. Columns hold str (or, in .xlsx, numbers/dates)."""

    feed: str
    relpath: str
    header: list[str]
    columns: dict[str, Sequence[object]]
    person: np.ndarray  # person index per data record
    family: np.ndarray  # true family index per data record
    kind: str = "csv"  # csv | xlsx
    sep: str = ","
    encoding: str = "utf-8"
    newline: str = "\n"
    sheet: str = "KPM"
    junk: list[Junk] = field(default_factory=list)
    empty: str = ""  # '' | 'zero_bytes' | 'header_only'
    created: datetime = datetime(2026, 1, 1)
    # CSV only: records (mask over the data records) whose `unquoted_column` value is written
    # without quotes although it holds the separator: one field too many (issue #10).
    unquoted_column: str | None = None
    unquoted_rows: np.ndarray | None = None


@dataclass
class Written:
    """Provenance of one written file."""

    feed: str
    relpath: str
    source_row: np.ndarray
    person: np.ndarray
    family: np.ndarray
    junk: list[tuple[int, str]]
    n_records: int  # records a reader yields below the header, junk included


def _segments(table: Table, n_data: int) -> list[tuple[int, Junk | None]]:
    """Split points of the data records, each followed by an inserted junk row."""
    inserts = sorted(
        (min(max(j.at, 1), max(n_data - 1, 0)), j)
        for j in table.junk
        if j.kind in (REPEATED_HEADER, EMPTY_ROW)
    )
    return [(at, j) for at, j in inserts] + [(n_data, None)]


def write_table(table: Table, out_dir: Path) -> Written:
    """Write `table` under out_dir/relpath and return the provenance of its records."""
    path = out_dir / table.relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(table.person)
    if table.empty:
        if table.empty == "zero_bytes":
            path.write_bytes(b"")
        elif table.kind == "csv":
            with path.open("w", encoding=table.encoding, newline="") as fh:
                csv.writer(fh, delimiter=table.sep, lineterminator=table.newline).writerow(table.header)
        else:
            raise ValueError("header-only files are written as CSV")
        empty = np.zeros(0, dtype=np.int64)
        return Written(table.feed, table.relpath, empty, empty, empty, [], 0)
    malformed = any(j.kind == MALFORMED_ROW for j in table.junk) and n >= 2
    if table.kind == "xlsx" and any(j.kind in (EMPTY_ROW, MALFORMED_ROW) for j in table.junk):
        raise ValueError("blank or truncated rows are CSV-only junk (readers skip blank sheet rows)")
    n_data = n - 1 if malformed else n
    if table.kind == "csv":
        return _write_csv(table, path, n_data, malformed)
    return _write_xlsx(table, path, n_data)


def _summary_row(table: Table) -> list[object] | None:
    for j in table.junk:
        if j.kind == SUMMARY_ROW:
            vals = j.values or {}
            return [vals.get(h, "") for h in table.header]
    return None


def _write_csv(table: Table, path: Path, n_data: int, malformed: bool) -> Written:
    cols = [list(table.columns[h]) for h in table.header]
    source_row = np.zeros(n_data, dtype=np.int64)
    junk: list[tuple[int, str]] = []
    rownum = 0
    pos = 0
    with path.open("w", encoding=table.encoding, errors="strict", newline="") as fh:
        w = csv.writer(fh, delimiter=table.sep, lineterminator=table.newline)
        w.writerow(table.header)
        for at, j in _segments(table, n_data):
            _write_rows(fh, w, table, cols, pos, at)
            source_row[pos:at] = rownum + 1 + np.arange(at - pos)
            rownum += at - pos
            pos = at
            if j is not None:
                w.writerow(table.header if j.kind == REPEATED_HEADER else [""] * len(table.header))
                rownum += 1
                junk.append((rownum, j.kind))
        summary = _summary_row(table)
        if summary is not None:
            w.writerow(summary)
            rownum += 1
            junk.append((rownum, SUMMARY_ROW))
        if malformed:
            buf = io.StringIO()
            keep = max(2, len(table.header) // 2)
            csv.writer(buf, delimiter=table.sep, lineterminator="").writerow([c[n_data] for c in cols][:keep])
            fh.write(buf.getvalue())  # truncated export: fewer fields, no final newline
            rownum += 1
            junk.append((rownum, MALFORMED_ROW))
    return Written(
        table.feed, table.relpath, source_row, table.person[:n_data], table.family[:n_data], junk, rownum
    )


def _write_rows(fh, w, table: Table, cols: list[list[object]], start: int, end: int) -> None:
    """Data records start..end-1; those in `table.unquoted_rows` with their free text unquoted."""
    marked = [] if table.unquoted_rows is None else np.flatnonzero(table.unquoted_rows[start:end]) + start
    pos = start
    for i in [*marked, end]:
        w.writerows(zip(*(c[pos:i] for c in cols), strict=True))
        if i == end:
            break
        at = table.header.index(table.unquoted_column)
        row = [c[i] for c in cols]
        value, row[at] = str(row[at]), "\x00"
        buf = io.StringIO()
        csv.writer(buf, delimiter=table.sep, lineterminator=table.newline).writerow(row)
        fh.write(buf.getvalue().replace("\x00", value))
        pos = i + 1


def _write_xlsx(table: Table, path: Path, n_data: int) -> Written:
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    wb.set_properties({"created": table.created, "author": "Dinas Sosial", "title": table.relpath})
    ws = wb.add_worksheet(table.sheet)
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    cols = [list(table.columns[h]) for h in table.header]
    has_dates = any(isinstance(c[0], date) for c in cols if len(c))
    source_row = np.zeros(n_data, dtype=np.int64)
    junk: list[tuple[int, str]] = []
    ws.write_row(0, 0, table.header)
    rownum = 0
    pos = 0

    def put(r: int, values: Sequence[object]) -> None:
        if not has_dates:
            ws.write_row(r, 0, values)
            return
        for c, v in enumerate(values):
            if isinstance(v, date):
                ws.write_datetime(r, c, datetime(v.year, v.month, v.day), date_fmt)
            else:
                ws.write(r, c, v)

    for at, j in _segments(table, n_data):
        for i in range(pos, at):
            rownum += 1
            put(rownum, [c[i] for c in cols])
            source_row[i] = rownum
        pos = at
        if j is not None:
            rownum += 1
            put(rownum, table.header if j.kind == REPEATED_HEADER else [None] * len(table.header))
            junk.append((rownum, j.kind))
    summary = _summary_row(table)
    if summary is not None:
        rownum += 1
        put(rownum, summary)
        junk.append((rownum, SUMMARY_ROW))
    wb.close()
    return Written(
        table.feed, table.relpath, source_row, table.person[:n_data], table.family[:n_data], junk, rownum
    )
