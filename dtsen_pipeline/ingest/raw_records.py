"""One delivered file -> raw text records with provenance, or a clear reason why not.

Each record keeps its provenance (`feed`, `delivery_id`, `source_file` relative to the landing
folder, `source_row` counted from 1 after the header) and how many fields it had, so staging
can tell a truncated row from a good one. A file that cannot be used at all is reported with
its status and a problem that names the file and, for a missing column, the column; never
skipped quietly. Reports carry counts and header names from the feed's declaration only, never
delivered values (a damaged header line can hold a record's values).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from dtsen_pipeline.frames import STR_DTYPE, arrow_to_pandas
from dtsen_pipeline.ingest.feeds import FeedSpec, header_key
from dtsen_pipeline.ingest.readers import FileRecords, UnreadableFileError, read_records
from dtsen_pipeline.ingest.repair import repair_surplus_separator

RAW_PROVENANCE = ("feed", "delivery_id", "source_file", "source_row", "n_fields", "header_fields")
OVERFLOW_COLUMN = "_overflow"
# The record's junk reason, decided at ingestion while the file's column order is known (a totals
# row is told by its first filled field); staging reuses it. Null for a data record.
JUNK_COLUMN = "_junk"
# `ROW_REPAIRED_SEPARATOR` where one unquoted separator in a free-text field was repaired
# (ingest.repair: decided here, where the file's column order is known); null otherwise.
REPAIR_COLUMN = "_repair"
NON_VALUE_COLUMNS = (*RAW_PROVENANCE, OVERFLOW_COLUMN, JUNK_COLUMN, REPAIR_COLUMN)
INT_COLUMNS = ("source_row", "n_fields", "header_fields")


@dataclass(frozen=True)
class FileReport:
    """What happened to one delivered file; holds no record values."""

    feed: str
    source_file: str
    status: str  # loaded | empty | rejected | unreadable | duplicate
    records: int
    encoding: str | None = None
    separator: str | None = None
    problem: str | None = None
    note: str | None = None  # accepted, but worth knowing (missing optional or extra columns)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


MAX_COLUMN_BYTES = 63  # PostgreSQL truncates longer identifiers: two long headers would become one


def extra_column_name(header: str) -> str:
    """The warehouse name of a column the feed does not declare: lower case, letters, digits and
    `_` only (`Persentase bantuan (%)` -> `persentase_bantuan`), at most 63 bytes (a longer one
    keeps a stable hash suffix), so it can neither break SQL nor collide by case with another."""
    name = re.sub(r"[^0-9a-z]+", "_", header_key(header).lower()).strip("_") or "_blank"
    if name[0].isdigit():
        name = f"c_{name}"
    if len(name.encode()) > MAX_COLUMN_BYTES:
        digest = hashlib.sha1(header.encode()).hexdigest()[:8]
        name = f"{name[:MAX_COLUMN_BYTES - 9]}_{digest}"
    return name


def canonical_headers(header: list[str], spec: FeedSpec) -> list[str]:
    """Spell each declared header as the feed declares it and every other one as
    `extra_column_name` makes it; names are unique ignoring case, and none shadows a pipeline
    column (`Source_File` becomes `_source_file`). A repeated header keeps its first copy under the
    plain name (`header_note` says so)."""
    taken = {c.lower() for c in NON_VALUE_COLUMNS}
    # Another file's declared column: `ID_KELUARGA` may come damaged (`\ufffdID_KELUARGA`) in one
    # file, and its normalised name must not meet the declared one in raw.<feed> (DuckDB ignores case).
    declared = {h.lower() for h in (*spec.source_columns.values(), *spec.region_headers)}
    seen: dict[str, int] = {}
    out = []
    for raw in header:
        name = spec.declared_header(raw)
        if name is None:
            name = extra_column_name(raw)
            if name.lower() in declared:
                name = f"_{name}"
        if name.lower() in taken and name.lower() not in seen:
            name = f"_{name}"  # a delivered column may not shadow provenance
        key = name.lower()
        if key in seen:
            seen[key] += 1
            name = f"{name}_{seen[key]}"
            while name.lower() in seen:
                name = f"{name}_"
            seen[name.lower()] = 0
        else:
            seen[key] = 0
        out.append(name)
    return out


def missing_required(header: list[str], spec: FeedSpec) -> list[str]:
    present = {header_key(h) for h in header}
    return [col for col in spec.required if header_key(col) not in present]


def header_note(header: list[str], spec: FeedSpec) -> str | None:
    """Missing optional columns (by their declared names) and how many unknown columns came."""
    present = {header_key(h) for h in header}
    declared = dict.fromkeys((*spec.source_columns.values(), *spec.region_headers))
    missing = [h for h in declared if header_key(h) not in present]
    extra = sum(1 for h in header if spec.declared_header(h) is None)
    keys = [header_key(h) for h in header]
    repeated = [h for i, h in enumerate(header) if keys[i] in keys[:i] and spec.declared_header(h)]
    parts = []
    for name in dict.fromkeys(repeated):
        positions = [i + 1 for i, key in enumerate(keys) if key == header_key(name)]
        parts.append(f"column {spec.declared_header(name)} delivered {len(positions)} times (columns "
                     f"{', '.join(map(str, positions))}): the first is used, the others kept in raw only")
    if missing:
        parts.append(f"optional column(s) missing, staged as empty: {', '.join(missing)}")
    if extra:
        parts.append(f"{extra} column(s) the feed does not declare, kept in raw only")
    return "; ".join(parts) or None


def raw_frame(spec: FeedSpec, file: FileRecords, delivery_id: str, source_file: str) -> pd.DataFrame:
    """The file's records as a raw table: provenance columns, then one text column per header."""
    n = len(file)
    header = canonical_headers(file.header, spec)
    arrays = {
        "feed": pa.repeat(pa.scalar(spec.name, pa.string()), n),
        "delivery_id": pa.repeat(pa.scalar(delivery_id, pa.string()), n),
        "source_file": pa.repeat(pa.scalar(source_file, pa.string()), n),
        "source_row": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        "n_fields": pa.array(file.n_fields.astype(np.int64)),
        "header_fields": pa.array(np.full(n, len(header), dtype=np.int64)),
    }
    columns, overflow, repaired = repair_surplus_separator(header, file.columns, file.n_fields, file.overflow,
                                                          file.separator, spec)
    for name, column in zip(header, columns, strict=True):
        arrays[name] = column
    arrays[OVERFLOW_COLUMN] = overflow
    arrays[REPAIR_COLUMN] = repaired
    return arrow_to_pandas(pa.table(arrays))


def empty_raw_frame(spec: FeedSpec) -> pd.DataFrame:
    columns = [*RAW_PROVENANCE, *dict.fromkeys([*spec.source_columns.values(), *spec.region_headers]),
               OVERFLOW_COLUMN, JUNK_COLUMN, REPAIR_COLUMN]
    df = pd.DataFrame({c: pd.Series(dtype=STR_DTYPE) for c in columns})
    for c in INT_COLUMNS:
        df[c] = df[c].astype("int64")
    return df


def read_delivery(path: Path, landing_dir: Path, spec: FeedSpec, delivery_id: str,
                  source_file: str | None = None) -> tuple[FileReport, pd.DataFrame | None]:
    """Read and check one file: a `loaded` report with its raw records, or a report saying why not.

    `source_file` is the provenance name given to the records (default: the path relative to
    the landing folder).
    """
    relative = path.relative_to(landing_dir).as_posix()
    name = source_file or relative
    if spec.region.code_system != "kemendagri":
        return FileReport(spec.name, relative, "rejected", 0, problem=(
            f"file {relative}: feed {spec.name} declares region code system {spec.region.code_system}; "
            "only Kemendagri codes can be validated (no BPS-Kemendagri bridge is available, rule REG-03)")), None
    try:
        file = read_records(path, spec.xlsx_sheet, spec.encoding, spec.separator)
    except UnreadableFileError as exc:
        return FileReport(spec.name, relative, "unreadable", 0, problem=f"file {relative}: {exc}"), None
    except Exception as exc:  # any reader failure registers this file alone; the message may quote data
        return FileReport(spec.name, relative, "unreadable", 0,
                          problem=f"file {relative}: cannot be read ({type(exc).__name__})"), None
    if not file.header:
        return FileReport(spec.name, relative, "empty", 0, file.encoding, file.separator,
                          problem=f"file {relative}: no header and no records"), None
    missing = missing_required(file.header, spec)
    if missing:
        return FileReport(spec.name, relative, "rejected", len(file), file.encoding, file.separator,
                          problem=f"file {relative}: missing required column(s) {', '.join(missing)}"), None
    if len(file) == 0:
        return FileReport(spec.name, relative, "empty", 0, file.encoding, file.separator,
                          problem=f"file {relative}: header only, no records"), None
    frame = raw_frame(spec, file, delivery_id, name)
    return FileReport(spec.name, relative, "loaded", len(file), file.encoding, file.separator,
                      note=header_note(file.header, spec)), frame
