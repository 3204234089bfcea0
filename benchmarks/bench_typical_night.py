"""A typical night after `make bench`: a few pekon files re-sent with a few names corrected.

    python benchmarks/bench_typical_night.py                 # after make bench (data/bench/work)
    python benchmarks/bench_typical_night.py --files 5 --names 3 --nights 2

`make bench`'s second night changes 1% of the records all over the kabupaten. Most real nights
bring a handful of pekon files instead. This copies `make bench`'s warehouse, Dagster instance,
artifacts and landing folder (after its second night) to data/bench/typical/, then runs
`--nights` such nights in turn, each with `--files` pekon files re-sent with `--names` names
corrected in each (`sample.changed_night`'s typing-slip fix, rows in place), and prints each
night's wall time, peak memory and time per step. The first night after a code change stages
every feed and writes every worklist again (the code is part of what they are a function of);
the last night is the typical one. Prints figures only (no record values).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_night  # noqa: E402  (a script beside this one)

from dtsen_pipeline.sample.changed_night import change_file  # noqa: E402

WORK = bench_night.BENCH / "work"
TYPICAL = bench_night.BENCH / "typical"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5, help="pekon files re-sent each night")
    parser.add_argument("--names", type=int, default=3, help="names corrected in each of them")
    parser.add_argument("--nights", type=int, default=2)
    parser.add_argument("--seed", type=int, default=77)
    args = parser.parse_args(argv)
    if not (WORK / "warehouse.duckdb").is_file():
        print(f"no {WORK / 'warehouse.duckdb'}: run make bench first", file=sys.stderr)
        return 2
    shutil.rmtree(TYPICAL, ignore_errors=True)
    TYPICAL.mkdir(parents=True)
    for part in ("home", "artifacts", "landing", "truth_for_changes", "no_truth"):
        shutil.copytree(WORK / part, TYPICAL / part)
    shutil.copyfile(WORK / "warehouse.duckdb", TYPICAL / "warehouse.duckdb")
    truth = pd.read_csv(TYPICAL / "truth_for_changes" / "records.csv", usecols=["feed", "source_file", "source_row"])
    pekon = truth[(truth["feed"] == "pekon") & truth["source_file"].str.endswith(".csv")]
    rows = {file: sorted(part["source_row"]) for file, part in pekon.groupby("source_file")}
    files = sorted(rows)
    env = {**os.environ, "DAGSTER_HOME": str(TYPICAL / "home"), "DTSEN_LANDING_DIR": str(TYPICAL / "landing"),
           "DTSEN_ARTIFACTS_DIR": str(TYPICAL / "artifacts"), "DTSEN_TRUTH_DIR": str(TYPICAL / "no_truth"),
           "DTSEN_WAREHOUSE_URL": f"duckdb:///{TYPICAL / 'warehouse.duckdb'}"}
    for night in range(1, args.nights + 1):
        rng = random.Random(args.seed + night)
        rng.shuffle(files)
        changed = resent = 0
        for file in files:
            if resent == args.files:
                break
            done = change_file(TYPICAL / "landing" / file, rows[file], args.names / len(rows[file]), rng)
            changed, resent = changed + done, resent + (done > 0)
        measured = bench_night.night(env, TYPICAL, f"typical{night}")
        print(f"typical night {night}: {changed} names corrected in {resent} pekon files: {measured.wall_s:.0f} s wall "
              f"({measured.run_s} s in Dagster), peak {measured.peak_gb:.2f} GB, exit {measured.returncode}")
        for step, seconds in sorted(measured.steps.items(), key=lambda item: -item[1]):
            if seconds >= 0.5:
                print(f"  {step:<40} {seconds:6.1f}s")
        if measured.returncode:
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
