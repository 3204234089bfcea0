"""What every share rule of the staging suites observes, on samples at several damage scales.

    python benchmarks/bench_thresholds.py --persons 20000 --seeds 1 2 --scales 1 2 3

For each (seed, damage scale) it generates a sample, ingests and stages the five feeds (no gate),
validates each staging table with its suite and prints, per suite and rule that has a `mostly`,
the share of rows failing it (%), and QUAR-01 (the largest share of one delivery's data records
quarantined). The last columns say the share the current thresholds allow and whether every
profile passes. `expectations/thresholds.yaml` is set from these figures with headroom: a month two
to three times worse than the sample must publish, a broken delivery (a shifted column, 30% of
NIKs through Excel) must not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa

from dtsen_pipeline.ingest.feeds import load_feed_specs
from dtsen_pipeline.ingest.gated import staged_share_by_file
from dtsen_pipeline.ingest.runner import run_feeds
from dtsen_pipeline.ingest.staging_tables import stage_records
from dtsen_pipeline.quality.gate import DEFAULT_STAGED_SHARE, QUARANTINE_RULE
from dtsen_pipeline.quality.gx_suites import load_thresholds, run_suite, suite_path
from dtsen_pipeline.sample.generator import DEFAULT_AS_OF, generate
from dtsen_pipeline.sample.rates import RATES

Key = tuple[str, str, str]  # suite, rule, expectation:column


def observe(persons: int, seed: int, scale: float, work: Path, mostly: dict[Key, float]) -> dict[Key, float]:
    """Failing share (%) per (suite, rule, expectation:column) of one generated month; the effective
    `mostly` of each is put in `mostly`."""
    landing = work / f"landing_{seed}_{scale:g}"
    generate(persons, seed, landing, rates=RATES.scaled(scale))
    engine = sa.create_engine(f"duckdb:///{work / f'warehouse_{seed}_{scale:g}.duckdb'}")
    specs = load_feed_specs()
    names = set(specs)
    run_feeds(engine, landing, specs.values(), ingest=names, stage=names, scope="18.06", as_of=DEFAULT_AS_OF,
              run_id=f"thresholds-{seed}-{scale:g}")
    out: dict[Key, float] = {}
    for name, spec in specs.items():
        raw, result = stage_records(engine, spec, "18.06", DEFAULT_AS_OF)
        outcome = run_suite(result.staged, suite_path("staging", name))
        for o in outcome.outcomes:
            if o.mostly is not None and o.unexpected_percent is not None:
                key = (outcome.suite, o.rule or "-", f"{o.expectation.removeprefix('expect_')}:{o.column}")
                out[key], mostly[key] = o.unexpected_percent, o.mostly
        shares = staged_share_by_file(raw, result)
        shares = shares[shares["data_records"] > 0]
        worst = (shares["quarantined"] / shares["data_records"]).max() if len(shares) else 0.0
        key = (outcome.suite, QUARANTINE_RULE, "worst delivery")
        out[key] = round(100 * float(worst), 4)
        mostly[key] = load_thresholds().get(outcome.suite, {}).get(QUARANTINE_RULE, DEFAULT_STAGED_SHARE)
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 2.0, 3.0])
    args = parser.parse_args()
    observed: dict[Key, dict[str, float]] = defaultdict(dict)
    mostly: dict[Key, float] = {}
    profiles = [(seed, scale) for scale in args.scales for seed in args.seeds]
    with tempfile.TemporaryDirectory(prefix="dtsen_thresholds_") as tmp:
        for seed, scale in profiles:
            started = dt.datetime.now()
            for key, value in observe(args.persons, seed, scale, Path(tmp), mostly).items():
                observed[key][f"s{seed}x{scale:g}"] = value
            print(f"# seed {seed}, damage scale {scale:g}: {(dt.datetime.now() - started).seconds} s", flush=True)
    columns = [f"s{seed}x{scale:g}" for seed, scale in profiles]
    print("suite | rule | expectation:column | " + " | ".join(columns) + " | allowed % | all pass")
    for (suite, rule, expectation), values in sorted(observed.items()):
        allowed = (1 - mostly[(suite, rule, expectation)]) * 100
        passes = "yes" if max(values.values()) <= allowed + 1e-9 else "NO"
        cells = " | ".join(f"{values.get(c, float('nan')):.3f}" for c in columns)
        print(f"{suite} | {rule} | {expectation} | {cells} | {allowed:.2f} | {passes}")


if __name__ == "__main__":
    main()
