"""A night after a night: about 1% of a generated landing folder's person records changed.

What a quiet day brings: the civil registry's extract and a part of the pekon files come again
with some names corrected (two adjacent letters swapped, the commonest typing slip and its fix).
Rows keep their place, so every record id that did not change stays, and the truth tables stay
true (the same person on the same row). DTSEN, the bansos lists and the verval returns are left
as they were. Used by `make bench` (benchmarks/bench_night.py) to time an incremental night.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

CHANGED_FEEDS = ("dukcapil", "pekon")
PEKON_FILE_SHARE = 0.10  # within a pekon file that changes, this share of its records change


@dataclass(frozen=True)
class NightChange:
    records: int  # person records in the landing folder
    changed: int  # records whose name changed
    files: int  # files whose content changed


def _name_column(header: list[str]) -> int | None:
    for i, name in enumerate(header):
        upper = name.strip().upper()
        if upper.startswith("NAMA") and "IBU" not in upper:
            return i
    return None


def _slip(name: str, rng: random.Random) -> str:
    """Two adjacent letters swapped, inside the name (the first letter kept)."""
    spots = [i for i in range(1, len(name) - 1) if name[i].isalpha() and name[i + 1].isalpha()
             and name[i] != name[i + 1]]
    if not spots:
        return name
    i = rng.choice(spots)
    return name[:i] + name[i + 1] + name[i] + name[i + 2:]


def change_file(path: Path, record_rows: list[int], share: float, rng: random.Random) -> int:
    """Change `share` of the file's person records (rows the truth lists: never a repeated header
    or a summary row) in place; returns how many changed."""
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        encoding = "utf-8-sig" if bom else "utf-8"
        text = raw.decode(encoding)
    except UnicodeDecodeError:  # a pekon file saved by an older Windows spreadsheet
        encoding = "cp1252"
        text = raw.decode(encoding)
    newline = "\r\n" if "\r\n" in text else "\n"
    try:
        dialect = csv.Sniffer().sniff(text.split(newline, 1)[0], delimiters=",;|\t")
    except csv.Error:  # a title line above the header: such a file is left as it was
        return 0
    rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    column = _name_column(rows[0])
    if column is None:
        return 0
    data = [rows[n] for n in record_rows if n < len(rows) and len(rows[n]) > column and rows[n][column].strip()]
    picked = rng.sample(range(len(data)), k=min(len(data), max(1, round(share * len(data)))))
    changed = 0
    for i in picked:
        before = data[i][column]
        data[i][column] = _slip(before, rng)
        changed += data[i][column] != before
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=dialect.delimiter, quotechar=dialect.quotechar or '"',
               lineterminator=newline).writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return changed


def change_night(landing: Path, share: float = 0.01, seed: int = 7) -> NightChange:
    """Change about `share` of the landing folder's person records (dukcapil and pekon names)."""
    rng = random.Random(seed)
    truth = pd.read_csv(landing / "_truth" / "records.csv", dtype={"source_row": "int64"}, usecols=[
        "feed", "source_file", "source_row"])
    rows = {file: sorted(part["source_row"]) for file, part in truth[truth["feed"].isin(CHANGED_FEEDS)]
            .groupby("source_file")}
    target = round(share * len(truth))
    dukcapil = sorted(f for f in rows if f.startswith("dukcapil/") and f.endswith(".csv"))
    pekon = sorted(f for f in rows if f.startswith("pekon/") and f.endswith(".csv"))
    rng.shuffle(pekon)
    changed = files = 0
    # half the changes in the civil registry's extract, the rest in pekon files
    for file in dukcapil:
        done = change_file(landing / file, rows[file], min(1.0, (target / 2) / len(rows[file])), rng)
        changed, files = changed + done, files + (done > 0)
    for file in pekon:
        if changed >= target:
            break
        done = change_file(landing / file, rows[file], PEKON_FILE_SHARE, rng)
        changed, files = changed + done, files + (done > 0)
    return NightChange(records=len(truth), changed=changed, files=files)
