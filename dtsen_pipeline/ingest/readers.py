"""Read one delivered file into text records, exactly as the agency sent them.

Nothing is interpreted here: every value stays text (identifiers must never pass through a
number), and every record the file yields is kept, junk included, numbered from 1 after the
header row. Junk is classified later (`ingest.junk`), so it can be quarantined with a reason.

Speed matters (a Tanggamus delivery is about two million records), so the work is columnar:
delimited text is parsed by pyarrow's CSV reader, and only the rows it rejects (truncated,
too long, blank) go through Python's `csv` module. A file whose physical lines do not map
one to one onto records (quoted line breaks, an unclosed quote) is read entirely by Python's
`csv` module, line by line where a quote runs away, so a stray quote never swallows the rest
of the file. Workbooks are read with python-calamine; openpyxl is the fallback.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import gc
import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from dtsen_pipeline.ingest.guards import UnreadableFileError, check_file_size, check_workbook

SEPARATORS = (";", ",", "\t", "|")
# Numbers of 11 or more digits are what a spreadsheet shows in scientific notation and
# stores as a float, so such cells are rendered as a float ("1806014107850000.0") and the
# identifier rules can see the damage. Shorter numbers (RT, amounts, date serials) stay plain.
_LONG_NUMBER = 10**10
_NEWLINE = re.compile(r"\r\n|\r|\n")
_NEWLINE_BYTES = re.compile(rb"\r\n|\r|\n")
_FIELD_SEPARATOR = "\x1f"  # joins the fields beyond the header in `overflow`
_PAUSE_LOCK = threading.Lock()  # see _collector_paused
_PAUSED = 0  # workbook readers running
_RESUME = [True]  # whether the collector was enabled when the first of them started


@dataclass(frozen=True)
class FileRecords:
    """The header and the data records of one file, column by column.

    `columns[i]` holds the i-th field of every record (null where a record is shorter; chunked
    as the parser delivered it),
    `n_fields` how many fields each record had, `overflow` the fields beyond the header
    joined by U+001F (null when none). `encoding`/`separator` say how the file was read.
    """

    header: list[str]
    columns: list[pa.Array | pa.ChunkedArray]
    n_fields: np.ndarray
    overflow: pa.Array | pa.ChunkedArray
    encoding: str
    separator: str | None

    def __len__(self) -> int:
        return len(self.n_fields)

    @property
    def records(self) -> list[list[str | None]]:
        """The records as lists of their fields (for tests and small files)."""
        columns = [c.to_pylist() for c in self.columns]
        overflow = self.overflow.to_pylist()
        out = []
        for i, n in enumerate(self.n_fields.tolist()):
            fields = [col[i] for col in columns][: min(n, len(columns))]
            if overflow[i] is not None:
                fields += overflow[i].split(_FIELD_SEPARATOR)
            out.append(fields)
        return out


def _empty(encoding: str, separator: str | None) -> FileRecords:
    return FileRecords([], [], np.zeros(0, dtype=np.int64), pa.array([], pa.string()), encoding, separator)


def from_records(header: list[str], records: list[list[str | None]], encoding: str,
                 separator: str | None) -> FileRecords:
    """Columnar records from row lists: short rows padded with nulls, long rows' extra fields kept."""
    width = len(header)
    n_fields = np.fromiter((len(r) for r in records), dtype=np.int64, count=len(records))
    padded = [r[:width] if len(r) >= width else [*r, *([None] * (width - len(r)))] for r in records]
    columns = [pa.array(list(col), pa.string()) for col in zip(*padded, strict=True)] if padded else [
        pa.array([], pa.string()) for _ in range(width)]
    overflow = pa.array(
        [None if len(r) <= width else _FIELD_SEPARATOR.join("" if v is None else str(v) for v in r[width:])
         for r in records], pa.string())
    return FileRecords(header, columns, n_fields, overflow, encoding, separator)


def detect_encoding(data: bytes) -> str:
    """UTF-8 with BOM, UTF-8, or Windows-1252 (the three encodings agencies deliver), and UTF-16
    (Excel's "Unicode text"), recognised by its byte-order mark or by a NUL in every other byte.

    A UTF-8 file with a few damaged bytes stays UTF-8 (the bytes become U+FFFD) as long as
    it holds at least as many well-formed multi-byte characters as broken bytes; reading it as cp1252
    would garble every accented name in it.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # "Unicode text" as Excel saves it: the BOM says which byte order
    sample = data[:4096]
    if len(sample) >= 4 and sample.count(b"\x00") * 3 > len(sample):  # UTF-16 without a BOM
        return "utf-16-le" if sample[1::2].count(b"\x00") > sample[0::2].count(b"\x00") else "utf-16-be"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    broken = text.count("\ufffd") - data.count("\ufffd".encode())
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore").decode("ascii"))
    valid = non_ascii - text.count("\ufffd")
    return "utf-8" if valid and valid >= broken else "cp1252"


def detect_separator(first_line: str) -> str:
    """The separator that splits the header line into the most fields."""
    counts = {sep: len(next(csv.reader(io.StringIO(first_line, newline=""), delimiter=sep), []))
              for sep in SEPARATORS}
    return max(SEPARATORS, key=lambda sep: (counts[sep], -SEPARATORS.index(sep)))


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The file's text and the encoding used; undecodable bytes and NULs become U+FFFD."""
    encoding = encoding or detect_encoding(data)
    # cp1252 leaves five bytes undefined; replacing them keeps the row (and its number).
    text = data.decode(encoding, errors="replace")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    return text, encoding


def _split_header(text: str | bytes, separator: str | None, start: int = 0
                  ) -> tuple[list[str], str, str | bytes] | None:
    """(header cells, separator, what follows the header line), skipping blank leading lines.

    `text` is the decoded file, or the bytes of a clean UTF-8 file (lines decoded one by one,
    the rest returned as bytes); reading starts at `start` (after a byte-order mark)."""
    newline = _NEWLINE_BYTES if isinstance(text, bytes) else _NEWLINE
    quote = b'"' if isinstance(text, bytes) else '"'
    pos = start
    while pos < len(text):
        match = newline.search(text, pos)
        # A header cell may hold a quoted line break (Alt+Enter in Excel): the line ends only
        # where its quotes are balanced.
        while match and text.count(quote, pos, match.start()) % 2:
            match = newline.search(text, match.end())
        end = match.start() if match else len(text)
        after = match.end() if match else len(text)
        line = text[pos:end]
        line = line.decode("utf-8") if isinstance(line, bytes) else line
        sep = separator or detect_separator(line)
        cells = next(csv.reader(io.StringIO(line, newline=""), delimiter=sep), [])
        if any(cell.strip() for cell in cells):
            return [cell.strip() for cell in cells], sep, text[after:]
        pos = after
    return None


def _physical_lines(body: bytes) -> int:
    """Lines as the CSV parsers count them: \\r\\n, \\r and \\n each end one."""
    if not body:
        return 0
    if b"\r" not in body:  # the usual case: one pass instead of three
        return body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    ends = body.count(b"\n") + body.count(b"\r") - body.count(b"\r\n")
    return ends + (0 if body.endswith((b"\n", b"\r")) else 1)


def _parse_line(line: str, separator: str) -> list[str]:
    """One physical line as fields; a quote left open ends with the line."""
    try:
        return next(csv.reader([line], delimiter=separator, strict=False), [])
    except csv.Error:
        return line.split(separator)


def _records_with_width(body: str, separator: str, width: int) -> list[list[str | None]]:
    """Exact path: Python's csv, except that a record spanning several lines with the wrong
    number of fields (a runaway quote) is split back into its physical lines."""
    lines = io.StringIO(body, newline="").readlines()
    reader = csv.reader(lines, delimiter=separator, strict=False)
    out: list[list[str | None]] = []
    start = 0
    try:
        for record in reader:
            end = reader.line_num
            if end - start > 1 and len(record) != width:
                out.extend(_parse_line(line.rstrip("\r\n"), separator) for line in lines[start:end])
            else:
                out.append(record)
            start = end
    except csv.Error:  # a field beyond the size limit: one record per physical line
        return [_parse_line(line.rstrip("\r\n"), separator) for line in lines]
    return out


def _arrow_records(body: bytes, separator: str, width: int) -> tuple[pa.Table, list[tuple[int, str]]] | None:
    """Fast path: pyarrow parses the rows; rows of the wrong width come back as (line, text).

    Returns None when lines and records do not correspond one to one (a quoted line break or
    an unclosed quote), so the caller takes the exact path.
    """
    rejected: list[tuple[int, str]] = []

    def keep(row: pacsv.InvalidRow) -> str:
        rejected.append((row.number, row.text))
        return "skip"

    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=separator, quote_char='"', double_quote=True,
                                             escape_char=False, newlines_in_values=False,
                                             ignore_empty_lines=False, invalid_row_handler=keep),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False,
                                                 check_utf8=True),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if any(number is None or "\n" in text or "\r" in text for number, text in rejected):
        return None
    if table.num_rows + len(rejected) != _physical_lines(body):
        return None
    return table, rejected


def _merge(table: pa.Table, rejected: list[tuple[int, str]], separator: str, width: int
           ) -> tuple[list[pa.ChunkedArray], np.ndarray, pa.ChunkedArray]:
    """Put the rejected rows back in their place among the parsed ones.

    Columns stay chunked: slices of the parsed blocks with the rejected rows between them, no
    copy of the file's text (rejected rows are few, and most often one truncated last line).
    """
    n_good = table.num_rows
    good = [table.column(i) for i in range(width)]
    if not rejected:
        return good, np.full(n_good, width, dtype=np.int64), pa.chunked_array([pa.nulls(n_good, pa.string())])
    rejected = sorted(rejected)
    extra = from_records([""] * width, [_parse_line(text, separator) for _, text in rejected], "", None)
    # Line numbers are 1-based and count every row; the k-th rejected row (0-based) at line L
    # follows L - 1 - k good rows.
    cuts = [number - 1 - k for k, (number, _) in enumerate(rejected)]
    bounds = list(zip([0, *cuts], [*cuts, n_good], strict=True))

    def interleave(parsed: pa.ChunkedArray, inserted: pa.Array) -> pa.ChunkedArray:
        pieces: list[pa.Array] = []
        for k, (start, end) in enumerate(bounds):
            pieces.extend(parsed.slice(start, end - start).chunks)
            if k < len(rejected):
                pieces.append(inserted.slice(k, 1))
        return pa.chunked_array(pieces, type=inserted.type)

    columns = [interleave(good[i], extra.columns[i]) for i in range(width)]
    n_fields = interleave(pa.chunked_array([np.full(n_good, width, dtype=np.int64)]), pa.array(extra.n_fields))
    overflow = interleave(pa.chunked_array([pa.nulls(n_good, pa.string())]), extra.overflow)
    return columns, n_fields.to_numpy(), overflow


def _clean_utf8(data: bytes, encoding: str) -> bool:
    """True when the file is UTF-8 with nothing to repair: it can be parsed from its bytes."""
    if encoding not in ("utf-8", "utf-8-sig") or b"\x00" in data:
        return False
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read_clean_utf8(data: bytes, encoding: str, separator: str | None) -> FileRecords | None:
    """Most deliveries: clean UTF-8, one record per line. The header is found in the bytes and
    the body handed to pyarrow as it lies on disk, without decoding the whole file to text and
    encoding it back. None when the text path must read the file (no header, a single column,
    records spanning lines): it then reads it exactly as before."""
    start = len(codecs.BOM_UTF8) if encoding == "utf-8-sig" and data.startswith(codecs.BOM_UTF8) else 0
    split = _split_header(data, separator, start)
    if split is None:
        return None
    header, sep, body = split
    fast = _arrow_records(body, sep, len(header)) if len(header) > 1 else None
    if fast is None:
        return None
    columns, n_fields, overflow = _merge(*fast, sep, len(header))
    return FileRecords(header, columns, n_fields, overflow, encoding, sep)


def read_csv_records(path: Path, encoding: str | None = None, separator: str | None = None) -> FileRecords:
    """A delimited text file: encoding and separator detected unless the feed declares them."""
    data = path.read_bytes()
    encoding = encoding or detect_encoding(data)
    if _clean_utf8(data, encoding):
        records = _read_clean_utf8(data, encoding, separator)
        if records is not None:
            return records
    return _read_text(data, encoding, separator)


def _read_text(data: bytes, encoding: str, separator: str | None) -> FileRecords:
    """Any file: decoded to text (undecodable bytes and NULs replaced), then parsed."""
    text, encoding = decode(data, encoding)
    split = _split_header(text, separator)
    if split is None:
        return _empty(encoding, separator)
    header, separator, body = split
    width = len(header)
    fast = _arrow_records(body.encode("utf-8"), separator, width) if width > 1 else None
    if fast is None:
        return from_records(header, _records_with_width(body, separator, width), encoding, separator)
    columns, n_fields, overflow = _merge(*fast, separator, width)
    return FileRecords(header, columns, n_fields, overflow, encoding, separator)


def cell_text(value: object) -> str | None:
    """A spreadsheet cell as text, keeping the trace of numeric storage for long numbers."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
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


def _column_text(values: tuple[object, ...]) -> pa.Array:
    """A column of cells as text: a column of text cells is converted by Arrow in one call (an
    empty cell is missing, as `cell_text` has it), any other cell by `cell_text`."""
    try:
        text = pa.array(values, pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # numbers, dates, booleans among the cells
        return pa.array([cell_text(v) for v in values], pa.string())
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _sheet_rows_calamine(path: Path, sheet: str | None) -> list[list[object]]:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    try:
        name = sheet if sheet and sheet in workbook.sheet_names else workbook.sheet_names[0]
        return workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    finally:
        workbook.close()


def _sheet_rows_openpyxl(path: Path, sheet: str | None) -> list[list[object]]:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        worksheet = workbook[sheet] if sheet and sheet in workbook.sheetnames else workbook.worksheets[0]
        return [list(row) for row in worksheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def sheet_rows(path: Path, sheet: str | None) -> list[list[object]]:
    """The cells of the feed's sheet (else the first), row by row, with python-calamine when it
    is installed and can read the file, else openpyxl (slower, pure Python)."""
    try:
        return _sheet_rows_calamine(path, sheet)
    except ImportError:
        pass
    except Exception:  # calamine raises its own error types; let openpyxl have a go
        pass
    try:
        return _sheet_rows_openpyxl(path, sheet)
    except Exception as exc:  # openpyxl raises many types for a damaged archive
        raise UnreadableFileError(f"not a readable .xlsx workbook ({type(exc).__name__})") from None


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a workbook becomes Python objects.

    A sheet arrives as one list per row and one object per cell (a million objects for a
    programme's list), none of them in a reference cycle; each collection the allocations
    trigger scans them all again (measured: a third of the time of reading a 64,000-row
    workbook). Reference counting still frees everything; paused across threads, resumed when
    the last reader is done.
    """
    global _PAUSED
    with _PAUSE_LOCK:
        if _PAUSED == 0:
            _RESUME[0] = gc.isenabled()
            gc.disable()
        _PAUSED += 1
    try:
        yield
    finally:
        with _PAUSE_LOCK:
            _PAUSED -= 1
            if _PAUSED == 0 and _RESUME[0]:
                gc.enable()


def read_xlsx_records(path: Path, sheet: str | None) -> FileRecords:
    with _collector_paused():
        return _read_xlsx_records(path, sheet)


def _read_xlsx_records(path: Path, sheet: str | None) -> FileRecords:
    rows = sheet_rows(path, sheet)
    while rows and not any(cell_text(v) is not None and str(v).strip() for v in rows[0]):
        rows.pop(0)
    if not rows:
        return _empty("xlsx", None)
    header = [(cell_text(v) or "").strip() for v in rows[0]]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    body = rows[1:]
    if not body:
        return FileRecords(header, [pa.array([], pa.string()) for _ in header], np.zeros(0, dtype=np.int64),
                           pa.array([], pa.string()), "xlsx", None)
    sheet_width = max(len(r) for r in body)
    padded = [r if len(r) == sheet_width else [*r, *([None] * (sheet_width - len(r)))] for r in body]
    cells = [_column_text(col) for col in zip(*padded, strict=True)]
    # A sheet pads rows to its widest row; trailing empty cells beyond the header are not fields.
    n_fields = np.full(len(body), min(width, sheet_width), dtype=np.int64)
    for i in range(width, sheet_width):
        filled = cells[i].is_valid().to_numpy(zero_copy_only=False)
        n_fields = np.where(filled, i + 1, n_fields)
    if sheet_width > width:
        extra = [c.to_pylist() for c in cells[width:]]
        overflow = pa.array(
            [None if n <= width else _FIELD_SEPARATOR.join(v or "" for v in row[: n - width])
             for n, row in zip(n_fields.tolist(), zip(*extra, strict=True), strict=True)], pa.string())
    else:
        overflow = pa.nulls(len(body), pa.string())
    columns = cells[:width] + [pa.nulls(len(body), pa.string()) for _ in range(width - sheet_width)]
    return FileRecords(header, columns, n_fields, overflow, "xlsx", None)


def read_records(path: Path, xlsx_sheet: str | None = None, encoding: str | None = None,
                 separator: str | None = None) -> FileRecords:
    """Dispatch on the file type; anything that is not a workbook is read as delimited text.
    The guards run first: a file too large, or a workbook too large to build, is refused unread."""
    check_file_size(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        check_workbook(path)
        return read_xlsx_records(path, xlsx_sheet)
    return read_csv_records(path, encoding, separator)
