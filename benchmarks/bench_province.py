"""A province on one machine (issue #17): every regency's night, then the province step.

1. Generates (or reuses) a province sample: `--persons` people in each kabupaten/kota of
   `--scope` (default `18`, Lampung's 15), each regency's five feeds and the people who moved
   between regencies (dtsen_pipeline.sample.province), under data/bench/province-.../landing.
2. Runs each regency's nightly run in turn, as the schedule's queue does (`dtsen run --kabupaten`,
   embedded DuckDB, one warehouse file per regency): wall seconds and peak memory of each.
3. Runs the province step (`dtsen province`): wall seconds, peak memory, the movers found against
   the sample's truth.
4. With `--curve`, the province step again on the first 1, 2, 4, 8 regencies' published tables
   (the step's cost against the persons it links; the regency runs are independent of each other),
   on each backend of `--curve-backends` (`duckdb,spark`: Splink on DuckDB and on a local Spark).

Prints the figures; the acceptance of #17 is the whole province in <= 3 hours and <= 20 GB.

    .venv/bin/python benchmarks/bench_province.py                     # Lampung size (15 x 627,000)
    .venv/bin/python benchmarks/bench_province.py --persons 20000    # a quick look
    .venv/bin/python benchmarks/bench_province.py --scope 18.01,18.02,18.03,18.04,18.05,18.06,18.07,18.08 \
        --persons 50000 --curve --curve-backends duckdb,spark           # the curve on both backends
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_night  # noqa: E402  (a script beside this one: measure, the bench folder)

from dtsen_pipeline.regencies import province_warehouse_url, scope_regencies  # noqa: E402

LAMPUNG_PER_REGENCY = 627_000  # 9.4 million people over 15 kabupaten/kota


def _env(work: Path, scope: str) -> dict[str, str]:
    return {**os.environ, "DAGSTER_HOME": str(work / "home"), "DTSEN_LANDING_DIR": str(work / "landing"),
            "DTSEN_ARTIFACTS_DIR": str(work / "artifacts"), "DTSEN_SCOPE": scope,
            "DTSEN_WAREHOUSE_URL": f"duckdb:///{work / 'warehouse.duckdb'}", "DAGSTER_DISABLE_TELEMETRY": "1"}


def _generate(work: Path, regencies: tuple[str, ...], persons: int, seed: int, profile: str) -> float:
    landing = work / "landing"
    if (landing / "_truth" / "movers.csv").exists():
        return 0.0
    from dtsen_pipeline.sample.province import generate_province

    print(f"generating {len(regencies)} regencies x {persons:,} persons into {landing} ...", flush=True)
    start = time.perf_counter()
    generate_province(list(regencies), persons, seed, landing, profile=profile)
    return time.perf_counter() - start


def _province_scores(work: Path, regencies: tuple[str, ...]) -> dict[str, float]:
    from dtsen_pipeline.warehouse import engine_for, read_sql

    engine = engine_for(province_warehouse_url(f"duckdb:///{work / 'warehouse.duckdb'}", regencies))
    try:
        return dict(read_sql(engine, "SELECT metric, value FROM province.evaluation").itertuples(index=False))
    finally:
        engine.dispose()


def measure_tree(command: list[str], env: dict[str, str], log: Path) -> tuple[float, float, int]:
    """Wall seconds, peak resident memory (GB) of the command's process tree (a local Spark's JVM
    included), sampled; and the exit code. `wait4`'s maximum would count this script's own memory,
    which the child holds between fork and exec."""
    samples: list[tuple[float, float]] = []
    wall, _, exit_code = bench_night.measure(command, env, log, samples)
    return wall, max((gb for _, gb in samples), default=0.0), exit_code


CURVE_SCRIPT = """
import datetime as dt, json, sys, time
from pathlib import Path
from dtsen_pipeline.province.step import run_province
url, scope, truth, backend = sys.argv[1], tuple(sys.argv[2].split(",")), Path(sys.argv[3]), sys.argv[4]
start = time.perf_counter()
result = run_province(url, scope, "bench-curve", dt.date(2026, 11, 15), truth, {c: truth / c for c in scope},
                      backend=backend)
print(json.dumps({"seconds": time.perf_counter() - start, "persons": result.persons, **result.evaluation}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scope", default="18")
    parser.add_argument("--persons", type=int, default=LAMPUNG_PER_REGENCY, help="persons per regency")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", default="base", choices=("base", "field"))
    parser.add_argument("--curve", action="store_true", help="also the province step on 1, 2, 4, 8 regencies")
    parser.add_argument("--curve-only", action="store_true",
                        help="only the curve, on the regencies a previous run published")
    parser.add_argument("--curve-backends", default="duckdb",
                        help="the curve's linkage backends, comma-separated (duckdb, spark)")
    args = parser.parse_args(argv)
    regencies = scope_regencies(args.scope)
    work = bench_night.BENCH / f"province-{args.scope.replace(',', '_')}-{args.persons}-s{args.seed}-{args.profile}"
    work.mkdir(parents=True, exist_ok=True)
    env = _env(work, args.scope)
    ok = True if args.curve_only else _whole_province(work, regencies, args, env)
    if args.curve or args.curve_only:
        ok = _curve(work, regencies, args.curve_backends.split(","), env) and ok
    return 0 if ok else 1


def _whole_province(work: Path, regencies: tuple[str, ...], args: argparse.Namespace, env: dict[str, str]) -> bool:
    """Generation, every regency's night in turn, the province step; prints the figures."""
    started = time.perf_counter()
    generated = _generate(work, regencies, args.persons, args.seed, args.profile)
    rows = []
    for code in regencies:
        wall, peak, exit_code = measure_tree(
            [sys.executable, "-m", "dtsen_pipeline.cli", "run", "--kabupaten", code], env,
            work / f"run-{code}.log")
        rows.append((code, wall, peak, exit_code))
        print(f"  kabupaten {code}: {wall:7.1f} s, peak {peak:5.2f} GB, exit {exit_code}", flush=True)
    wall, peak, exit_code = measure_tree([sys.executable, "-m", "dtsen_pipeline.cli", "province"], env,
                                     work / "province.log")
    total = time.perf_counter() - started
    scores = _province_scores(work, regencies) if exit_code == 0 else {}
    regency_seconds = sum(r[1] for r in rows)
    print(f"\nprovince {args.scope}: {len(regencies)} regencies x {args.persons:,} persons, seed {args.seed}, "
          f"{args.profile} profile")
    print(f"  sample generation:            {generated:8.1f} s" + (" (reused)" if generated == 0 else ""))
    print(f"  regency nights (in turn):     {regency_seconds:8.1f} s, slowest {max(r[1] for r in rows):.1f} s, "
          f"peak {max(r[2] for r in rows):.2f} GB, failed {sum(r[3] != 0 for r in rows)}")
    print(f"  province step:                {wall:8.1f} s, peak {peak:.2f} GB, exit {exit_code}")
    print(f"  whole province (with generation): {total:8.1f} s ({total / 3600:.2f} h; target <= 3 h, <= 20 GB)")
    print(f"  movers against the truth: {json.dumps({k: round(v, 4) for k, v in scores.items()})}")
    return all(r[3] == 0 for r in rows) and exit_code == 0


def _curve(work: Path, regencies: tuple[str, ...], backends: list[str], env: dict[str, str]) -> bool:
    """The province step on the first 1, 2, 4, 8 and all regencies' published persons, per backend."""
    url, truth = f"duckdb:///{work / 'warehouse.duckdb'}", work / "landing" / "_truth"
    ok = True
    for k in [k for k in (1, 2, 4, 8) if k < len(regencies)] + [len(regencies)]:
        for backend in backends:
            log = work / f"curve-{k}-{backend}.log"
            wall, peak, exit_code = measure_tree(
                [sys.executable, "-c", CURVE_SCRIPT, url, ",".join(regencies[:k]), str(truth), backend], env, log)
            detail = json.loads(log.read_text().strip().splitlines()[-1]) if exit_code == 0 else {}
            ok = ok and exit_code == 0
            print(f"  province step on {k:2d} regencies, {backend:6s}: {wall:7.1f} s wall, peak {peak:5.2f} GB, "
                  f"{detail.get('persons', 0):,} persons, movers P {detail.get('precision', float('nan')):.4f} "
                  f"R {detail.get('recall', float('nan')):.4f}", flush=True)
    return ok


if __name__ == "__main__":
    raise SystemExit(main())
