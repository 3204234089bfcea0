"""The yardstick of `make bench`: what a plain pandas + Splink script does with the same files.

Reads every person feed's files with pandas (no repair, no quality checks, bad lines skipped),
maps the contract's headers to five fields, links with the plain Splink model of
`dtsen_pipeline.linkage.baseline` (Splink's documented default style) and writes the clusters.

    python benchmarks/plain_splink.py --landing DIR --out clusters.parquet

Prints counts and seconds only.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import pandas as pd

from dtsen_pipeline.linkage.baseline import plain_splink_clusters

# Per feed: file pattern, reader options, and the headers of NIK, name, birth date, sex, village.
FEEDS = {
    "dtsen": ("*.csv", {"NIK": "nik", "NAMA": "nama", "TGL_LAHIR": "tgl_lahir", "JENIS_KELAMIN": "jenis_kelamin",
                        "KODE_WILAYAH": "kode_desa"}),
    "dukcapil": ("*.csv", {"NIK": "nik", "NAMA_LGKP": "nama", "TGL_LHR": "tgl_lahir", "JENIS_KLMIN": "jenis_kelamin",
                           "NO_KEL": "kode_desa"}),
    "pekon": ("*.csv", {"nik": "nik", "nama": "nama", "tanggal_lahir": "tgl_lahir", "sex": "jenis_kelamin",
                        "kode_desa": "kode_desa"}),
    "bansos": ("*", {"NIK_KPM": "nik", "NAMA_KPM": "nama", "KODE_DESA": "kode_desa"}),
}


def read_file(path: Path, headers: dict[str, str]) -> pd.DataFrame | None:
    """The file's records in the five fields; None when pandas cannot make sense of it (skipped)."""
    if path.suffix.lower() == ".xlsx":
        frame = pd.read_excel(path, dtype=str)
    else:
        with path.open("rb") as handle:
            first = handle.readline().decode("utf-8", errors="replace")
        try:
            sep = csv.Sniffer().sniff(first, delimiters=",;|\t").delimiter
        except csv.Error:
            return None
        frame = pd.read_csv(path, sep=sep, dtype=str, encoding_errors="replace", on_bad_lines="skip")
    upper = {c.strip().upper(): c for c in frame.columns}
    out = pd.DataFrame(index=frame.index)
    for header, field in headers.items():
        source = upper.get(header.upper())
        out[field] = frame[source] if source is not None else None
    out["record_id"] = [f"{path.name}#{i}" for i in range(len(out))]
    return out


def read_landing(landing: Path) -> tuple[pd.DataFrame, int]:
    """Every readable file's records, and the number of files skipped."""
    parts, skipped = [], 0
    for feed, (pattern, headers) in FEEDS.items():
        for path in sorted((landing / feed).glob(pattern)):
            if path.suffix.lower() in (".csv", ".xlsx"):
                frame = read_file(path, headers)
                skipped += frame is None
                if frame is not None:
                    parts.append(frame)
    records = pd.concat(parts, ignore_index=True)
    records["tgl_lahir"] = pd.to_datetime(records["tgl_lahir"], format="mixed", dayfirst=True, errors="coerce")
    return records, skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    records, skipped = read_landing(args.landing)
    read = time.perf_counter()
    clusters = plain_splink_clusters(records)
    linked = time.perf_counter()
    clusters.to_parquet(args.out, index=False)
    done = time.perf_counter()
    print(json.dumps({"records": len(records), "files_skipped": skipped, "clusters": int(clusters["cluster_id"].nunique()),
                      "read_s": round(read - start, 1), "link_s": round(linked - read, 1),
                      "write_s": round(done - linked, 1), "total_s": round(done - start, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
