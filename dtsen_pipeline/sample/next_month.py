"""Next month's delivery on a generated landing folder: what id stability is tested against.

The DTSEN extract comes renamed with one name corrected (a trailing blank: its content changes,
so every DTSEN record id changes), and the largest junk-free pekon file comes as a new snapshot
three residents shorter; everything else is unchanged. The truth table follows the rename.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dtsen_pipeline.sample.regions import KABUPATEN, regency

RESIDENTS_GONE = 3


def dtsen_files(kabupaten: str = KABUPATEN) -> tuple[str, str]:
    """This month's and next month's DTSEN extract of a generated `kabupaten` sample."""
    digits = regency(kabupaten).digits
    return f"dtsen/DTSEN_{digits}_202611.csv", f"dtsen/DTSEN_{digits}_202612.csv"


OLD_DTSEN, NEW_DTSEN = dtsen_files()  # Tanggamus


def next_month(landing: Path, kabupaten: str = KABUPATEN) -> list[str]:
    """Turn `landing` (a generated sample of `kabupaten`) into next month's delivery; returns the
    record ids of the pekon records that are gone (`pekon:<file>#<row>`)."""
    old_name, new_name = dtsen_files(kabupaten)
    old = landing / old_name
    lines = old.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    first = lines[1].split(";")
    first[4] += " "  # a corrected name: the file's content changes
    lines[1] = ";".join(first)
    (landing / new_name).write_text("".join(lines), encoding="utf-8-sig")
    old.unlink()
    junk = set(pd.read_csv(landing / "_truth" / "junk.csv", dtype=str)["source_file"])
    pekon = max((p for p in (landing / "pekon").glob("*.csv") if f"pekon/{p.name}" not in junk),
                key=lambda p: p.stat().st_size)
    raw = pekon.read_bytes()
    newline = b"\r\n" if b"\r\n" in raw else b"\n"
    rows = raw.rstrip(newline).split(newline)  # the header, then one row per record
    pekon.write_bytes(newline.join(rows[:-RESIDENTS_GONE]) + newline)
    relative = pekon.relative_to(landing).as_posix()
    gone = [f"pekon:{relative}#{n}" for n in range(len(rows) - RESIDENTS_GONE, len(rows))]
    records = pd.read_csv(landing / "_truth" / "records.csv", dtype=str)
    records["source_file"] = records["source_file"].replace(old_name, new_name)
    records.to_csv(landing / "_truth" / "records.csv", index=False, lineterminator="\n")
    return gone
