"""Collect a feed's deliveries from the landing folder into one raw table of text records.

Each record keeps its provenance (`feed`, `source_file` relative to the landing folder,
`source_row` counted from 1 after the header) and how many fields it had, so staging can tell a
truncated row from a good one. A file that cannot be used at all is reported, never skipped quietly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from dtsen_pipeline.ingest.feeds import FeedSpec
from dtsen_pipeline.ingest.readers import FileRecords, UnreadableFileError, read_records

RAW_PROVENANCE = ("feed", "source_file", "source_row", "n_fields", "header_fields")
OVERFLOW_COLUMN = "_overflow"


@dataclass(frozen=True)
class FileReport:
    """What happened to one delivered file; holds no record values."""

    feed: str
    source_file: str
    status: str  # loaded | empty | rejected | unreadable
    records: int
    encoding: str | None = None
    separator: str | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def discover_files(landing_dir: Path, spec: FeedSpec) -> list[Path]:
    """The feed's files in a stable order (by name); hidden and temporary files are ignored."""
    folder = landing_dir / spec.name
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.name.startswith((".", "~$")) and spec.matches(p.name)
    )


def _canonical_headers(header: list[str], spec: FeedSpec) -> list[str]:
    """Spell each header as the feed declares it (matching ignores case); keep unknown ones."""
    declared = {h.upper(): h for h in (*spec.source_columns.values(), *spec.region_headers)}
    seen: dict[str, int] = {}
    out = []
    for raw in header:
        name = declared.get(raw.upper(), raw) or "_blank"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def missing_required(header: list[str], spec: FeedSpec) -> list[str]:
    present = {h.upper() for h in header}
    return [col for col in spec.required if col.upper() not in present]


def _frame(spec: FeedSpec, relative: str, file: FileRecords) -> pd.DataFrame:
    header = _canonical_headers(file.header, spec)
    width = len(header)
    padded = []
    overflow = []
    for record in file.records:
        if len(record) >= width:
            padded.append(record[:width])
            extra = record[width:]
            overflow.append(None if not extra else "\x1f".join("" if v is None else str(v) for v in extra))
        else:
            padded.append(record + [None] * (width - len(record)))
            overflow.append(None)
    df = pd.DataFrame(padded, columns=header, dtype="str")
    df.insert(0, "feed", spec.name)
    df.insert(1, "source_file", relative)
    df.insert(2, "source_row", range(1, len(df) + 1))
    df.insert(3, "n_fields", [len(r) for r in file.records])
    df.insert(4, "header_fields", width)
    df[OVERFLOW_COLUMN] = pd.Series(overflow, dtype="str")
    return df


def load_raw_feed(landing_dir: Path, spec: FeedSpec) -> tuple[pd.DataFrame, list[FileReport]]:
    """Every record of every usable file of the feed, and a report for every file."""
    frames: list[pd.DataFrame] = []
    reports: list[FileReport] = []
    for path in discover_files(landing_dir, spec):
        relative = path.relative_to(landing_dir).as_posix()
        try:
            file = read_records(path, spec.xlsx_sheet)
        except UnreadableFileError as exc:
            reports.append(FileReport(spec.name, relative, "unreadable", 0, problem=str(exc)))
            continue
        if not file.header:
            reports.append(FileReport(spec.name, relative, "empty", 0, file.encoding, file.separator,
                                      problem="file has no header and no records"))
            continue
        missing = missing_required(file.header, spec)
        if missing:
            reports.append(FileReport(spec.name, relative, "rejected", len(file.records), file.encoding,
                                      file.separator, problem=f"missing required column(s): {', '.join(missing)}"))
            continue
        frames.append(_frame(spec, relative, file))
        reports.append(FileReport(spec.name, relative, "loaded", len(file.records), file.encoding, file.separator))
    if not frames:
        return empty_raw_frame(spec), reports
    raw = pd.concat(frames, ignore_index=True, sort=False)
    return raw, reports


def empty_raw_frame(spec: FeedSpec) -> pd.DataFrame:
    columns = [*RAW_PROVENANCE, *dict.fromkeys([*spec.source_columns.values(), *spec.region_headers]),
               OVERFLOW_COLUMN]
    df = pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
    df["source_row"] = df["source_row"].astype("int64")
    df["n_fields"] = df["n_fields"].astype("int64")
    df["header_fields"] = df["header_fields"].astype("int64")
    return df
