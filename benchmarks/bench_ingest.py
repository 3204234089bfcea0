"""Ingest and stage a Tanggamus-scale delivery (all five feeds) into a DuckDB warehouse.

    python benchmarks/bench_ingest.py --persons 640000            # generates into a temp folder
    python benchmarks/bench_ingest.py --landing data/bench_landing # reuses (or fills) a folder

Runs what the raw/<feed> and staging/<feed> assets run (`ingest.runner.run_feeds`: feeds side by
side on `--workers` threads, 2 by default as in the pipeline) and prints each feed's own ingest
and staging seconds, rows per second overall (wall time, from the first file read to the last
table written), the CPU time (user + sys) and the peak resident memory.
Target: at least 100,000 rows/s overall on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

import dtsen_pipeline.ingest.runner as runner
import dtsen_pipeline.ingest.standardise as standardise
from dtsen_pipeline.ingest.feeds import load_feed_specs
from dtsen_pipeline.ingest.runner import DEFAULT_WORKERS, run_feeds


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


class _FeedTimer:
    """Wall seconds one feed spent in ingestion and in staging (its own thread's clock)."""

    def __init__(self) -> None:
        self.ingest = self.stage = 0.0


def _time_per_feed(timers: dict[str, _FeedTimer]) -> None:
    """Wrap the runner's two calls so each feed's own ingest and staging time is recorded."""
    inner_ingest, inner_stage = runner.ingest_feed, runner.stage_in_force

    def ingest(engine, landing, spec, **kwargs):
        started = time.perf_counter()
        try:
            return inner_ingest(engine, landing, spec, **kwargs)
        finally:
            timers[spec.name].ingest += time.perf_counter() - started

    def stage(engine, spec, **kwargs):
        started = time.perf_counter()
        try:
            return inner_stage(engine, spec, **kwargs)
        finally:
            timers[spec.name].stage += time.perf_counter() - started

    runner.ingest_feed, runner.stage_in_force = ingest, stage


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
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                        help="feeds side by side, as DTSEN_INGEST_WORKERS (default %(default)s; 1 = in turn)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp_name:
        tmp = Path(tmp_name)
        landing = _landing(args, tmp)
        engine = sa.create_engine(f"duckdb:///{tmp / 'warehouse.duckdb'}")
        specs = load_feed_specs()
        timers = {name: _FeedTimer() for name in specs}
        _time_per_feed(timers)
        rules = _Timer(standardise, "apply_row_rules")  # reported apart: owned by the quality rules
        wall0, cpu0 = time.perf_counter(), _cpu()
        outcomes = run_feeds(engine, landing, specs.values(), ingest=set(specs), stage=set(specs), scope="18.06",
                             as_of=dt.date(2026, 11, 30), run_id="bench", workers=args.workers)
        wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
        print(f"{args.workers} worker thread(s) on {os.cpu_count()} core(s)")
        print(f"{'feed':<9} {'rows':>10} {'ingest s':>9} {'stage s':>8} {'feed s':>7} {'rows/s':>9}")
        total_rows = 0
        for name, outcome in outcomes.items():
            if outcome.error is not None:
                raise outcome.error
            rows = outcome.staged.rows_in
            assert rows == outcome.staged.rows_staged + outcome.staged.rows_quarantined
            assert rows == sum(d.records for d in outcome.intake.in_force)
            total_rows += rows
            t = timers[name]
            print(f"{name:<9} {rows:>10,} {t.ingest:>9.2f} {t.stage:>8.2f} {t.ingest + t.stage:>7.2f} "
                  f"{rows / (t.ingest + t.stage):>9,.0f}")
        print(f"{'overall':<9} {total_rows:>10,} {'':>9} {'':>8} {wall:>7.2f} {total_rows / wall:>9,.0f}"
              "   (wall time, feeds side by side)")
        print(f"CPU time {cpu:.2f} s ({cpu / wall:.2f} cores busy on average); peak memory (max RSS): "
              f"{_peak_mib():,.0f} MiB")
        if rules.present:
            print(f"of which quality row rules (quality.row_rules via staging): {rules.wall:.2f} s wall, summed "
                  "over the feeds")
        engine.dispose()


if __name__ == "__main__":
    main()
