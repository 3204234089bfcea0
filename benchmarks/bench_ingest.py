"""Ingest and stage a Tanggamus-scale delivery (all five feeds) into a DuckDB warehouse.

    python benchmarks/bench_ingest.py --persons 640000            # generates into a temp folder
    python benchmarks/bench_ingest.py --landing data/bench_landing # reuses (or fills) a folder

Runs the functions the raw/<feed> and staging/<feed> assets run (`ingest_feed`,
`stage_in_force`) and prints rows per second per feed and overall (wall time), the CPU time
(user + sys, since the machine may be shared), and the peak resident memory.
Target: at least 100,000 rows/s overall on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

import dtsen_pipeline.ingest.staging as staging
from dtsen_pipeline.ingest.feeds import load_feed_specs
from dtsen_pipeline.ingest.intake import ingest_feed
from dtsen_pipeline.ingest.staged import stage_in_force


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


class _Timer:
    """Wall and CPU seconds spent inside one function (the quality rules' hook in staging)."""

    def __init__(self, module: object, name: str) -> None:
        self.wall = self.cpu = 0.0
        self.present = hasattr(module, name)
        if not self.present:
            return
        inner = getattr(module, name)

        def timed(*args, **kwargs):
            w, c = time.perf_counter(), _cpu()
            try:
                return inner(*args, **kwargs)
            finally:
                self.wall += time.perf_counter() - w
                self.cpu += _cpu() - c

        setattr(module, name, timed)


def _landing(args: argparse.Namespace, tmp: Path) -> Path:
    landing = Path(args.landing) if args.landing else tmp / "landing"
    if landing.is_dir() and any((landing / "dtsen").glob("*")):
        print(f"reusing {landing}")
        return landing
    from dtsen_pipeline.sample import generate

    started = time.perf_counter()
    generate(persons=args.persons, seed=args.seed, out_dir=landing)
    print(f"generated {args.persons:,} persons into {landing} in {time.perf_counter() - started:.1f} s")
    return landing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=640_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--landing", help="landing folder to reuse (generated there when empty)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp_name:
        tmp = Path(tmp_name)
        landing = _landing(args, tmp)
        engine = sa.create_engine(f"duckdb:///{tmp / 'warehouse.duckdb'}")
        as_of = dt.date(2026, 11, 30)
        rules = _Timer(staging, "apply_row_rules")  # reported apart: owned by the quality rules
        print(f"{'feed':<9} {'rows':>10} {'ingest s':>9} {'stage s':>8} {'wall s':>7} {'cpu s':>7} {'rows/s':>9}")
        total_rows, wall0, cpu0 = 0, time.perf_counter(), _cpu()
        for name, spec in load_feed_specs().items():
            w0, c0 = time.perf_counter(), _cpu()
            intake = ingest_feed(engine, landing, spec, run_id="bench")
            w1 = time.perf_counter()
            staged = stage_in_force(engine, spec, scope="18.06", as_of=as_of)
            w2, c2 = time.perf_counter(), _cpu()
            rows = staged.rows_in
            assert rows == staged.rows_staged + staged.rows_quarantined
            assert rows == sum(d.records for d in intake.in_force)
            total_rows += rows
            print(f"{name:<9} {rows:>10,} {w1 - w0:>9.2f} {w2 - w1:>8.2f} {w2 - w0:>7.2f} {c2 - c0:>7.2f} "
                  f"{rows / (w2 - w0):>9,.0f}")
        wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
        print(f"{'overall':<9} {total_rows:>10,} {'':>9} {'':>8} {wall:>7.2f} {cpu:>7.2f} {total_rows / wall:>9,.0f}")
        print(f"rows/s on CPU time: {total_rows / cpu:,.0f}; peak memory (max RSS): {_peak_mib():,.0f} MiB")
        if rules.present:
            rest_wall, rest_cpu = wall - rules.wall, cpu - rules.cpu
            print(f"of which quality row rules (quality.row_rules via staging): {rules.wall:.2f} s wall, "
                  f"{rules.cpu:.2f} s CPU; without them: {total_rows / rest_wall:,.0f} rows/s wall, "
                  f"{total_rows / rest_cpu:,.0f} rows/s CPU")
        engine.dispose()


if __name__ == "__main__":
    main()
