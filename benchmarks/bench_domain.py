"""Hand-run micro-benchmark of the vectorised domain functions (not collected by pytest).

    python tests/domain/bench_domain.py [rows]

Synthetic data only. Names and dates repeat the way real feeds do; NIKs are all distinct.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from dtsen_pipeline.domain.dates import parse_dates
from dtsen_pipeline.domain.identifiers import check_kk, check_nik
from dtsen_pipeline.domain.names import name_columns
from dtsen_pipeline.domain.regions import canonical_village, village_codes, village_from_parts, villages_in

FIRST = [
    "MUHAMMAD",
    "MOH.",
    "SITI",
    "ST.",
    "NUR",
    "AHMAD",
    "DJOKO",
    "SRI",
    "I WAYAN",
    "NI LUH",
    "ABD.",
    "DEWI",
]
MIDDLE = [
    "AMINAH",
    "SOETRISNO",
    "HAYATI",
    "SLAMET",
    "MULYADI",
    "RAHMAN",
    "TJAHJONO",
    "PUTRI",
    "ARIF",
    "YUSUF",
]


def _name_pool(rng: np.random.Generator, size: int) -> list[str]:
    words = [
        f"{a}{b}"
        for a in ("SU", "SRI", "WA", "JO", "KAR", "DAR", "YU", "HA", "RO", "MUL")
        for b in ("TRISNO", "YANTI", "YONO", "MINAH", "SIH", "NO", "DI", "WATI", "ROH", "JAH", "TO", "NAH")
    ]
    pool = []
    for i in range(size):
        parts = [FIRST[i % len(FIRST)], MIDDLE[rng.integers(len(MIDDLE))], words[rng.integers(len(words))]]
        parts.append(words[i % len(words)] + str(i // len(words)))  # make the pool unique
        name = " ".join(parts[: 2 + rng.integers(3)]) if i % 7 else " ".join(parts)
        if i % 11 == 0:
            name = "H. " + name + ", S.PD"
        if i % 13 == 0:
            name = name.title()
        pool.append(name)
    return pool


def _time(label: str, rows: int, func, *args) -> None:
    func(*(a.head(1000) for a in args))  # warm caches (region list, regexes)
    start = time.perf_counter()
    func(*args)
    elapsed = time.perf_counter() - start
    sys.stdout.write(f"{label:<34} {elapsed:6.2f} s  {rows / elapsed:>12,.0f} rows/s\n")


def main(rows: int = 1_000_000) -> None:
    rng = np.random.default_rng(7)
    ok = [
        f"1806{k:02d}{d:02d}{m:02d}{y:02d}{s:04d}"
        for k, d, m, y, s in zip(
            rng.integers(1, 29, rows),
            rng.integers(1, 72, rows) % 31 + 1,
            rng.integers(1, 13, rows),
            rng.integers(0, 100, rows),
            rng.integers(1, 10_000, rows),
            strict=True,
        )
    ]
    junk = ["1.80601E+15", "1806014107850001.0", "0520304200900002", "1806-0141-0785-0001", "", "12345"]
    nik = pd.Series(ok)
    nik[rng.random(rows) < 0.03] = junk[0]
    nik.iloc[::50] = [junk[i % len(junk)] for i in range(len(nik.iloc[::50]))]

    day = pd.date_range("1905-01-01", "2025-01-01", freq="D")
    picked = day[rng.integers(0, len(day), rows)]
    fmt = rng.integers(0, 4, rows)
    dates = np.where(
        fmt == 0,
        picked.strftime("%Y-%m-%d"),
        np.where(
            fmt == 1,
            picked.strftime("%d-%m-%Y"),
            np.where(
                fmt == 2,
                picked.strftime("%d/%m/%Y"),
                ((picked - pd.Timestamp("1899-12-30")).days).astype(str),
            ),
        ),
    )
    dates = pd.Series(dates, dtype="str")

    village_codes()
    tanggamus = [v.code for v in villages_in("18.06")]
    codes = np.array(tanggamus + [c.replace(".", "") for c in tanggamus] + ["18.06.01.2001", "1806"])
    regions = pd.Series(codes[rng.integers(0, len(codes), rows)], dtype="str")

    pool = np.array(_name_pool(rng, 250_000), dtype=object)
    names = pd.Series(pool[rng.integers(0, len(pool), rows)], dtype="str")
    unique_names = pd.Series(_name_pool(rng, rows), dtype="str")

    sys.stdout.write(f"{rows:,} rows\n")
    _time("check_nik (distinct NIKs)", rows, check_nik, nik)
    _time("check_kk", rows, check_kk, nik)
    _time("parse_dates (4 mixed formats)", rows, parse_dates, dates)
    _time("canonical_village (dotted+undotted)", rows, canonical_village, regions)
    split = regions.str.replace(".", "").str.slice(0, 10)
    parts = [split.str.slice(a, b).str.lstrip("0") for a, b in ((0, 2), (2, 4), (4, 6), (6, 10))]
    _time("village_from_parts (18, 6, 1, 2001)", rows, village_from_parts, *parts)
    _time(f"name_columns ({names.nunique():,} distinct)", rows, name_columns, names)
    _time("name_columns (all distinct)", rows, name_columns, unique_names)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
