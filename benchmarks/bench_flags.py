"""Flag precision and recall against the generator's truth, on a fresh sample, one nightly run.

    python benchmarks/bench_flags.py --persons 20000 --seed 1 [--profile field] [--keep DIR]

Generates the sample in a temporary folder, runs `nightly_refresh` in process on a temporary
DuckDB warehouse, and prints evaluation.flag (and the golden steps' durations). Counts only.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from dtsen_pipeline.cli import write_instance_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", choices=("base", "field"), default="base")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with tempfile.TemporaryDirectory() as scratch:
        run(args.persons, args.seed, args.keep or Path(scratch), args.profile)


def run(persons: int, seed: int, work: Path, profile: str = "base") -> None:
    from dagster import DagsterEventType, DagsterInstance

    from dtsen_pipeline.config import Settings
    from dtsen_pipeline.definitions import build_definitions
    from dtsen_pipeline.sample import generate
    from dtsen_pipeline.warehouse import engine_for, read_table

    landing = work / "landing"
    if not landing.exists():
        started = time.perf_counter()
        generate(persons=persons, seed=seed, out_dir=landing, profile=profile)
        print(f"sample ({profile}): {persons:,} persons in {time.perf_counter() - started:.0f} s")
    home = write_instance_config(work / "dagster_home")
    settings = Settings(warehouse_url=f"duckdb:///{work / 'warehouse.duckdb'}", landing_dir=landing,
                        artifacts_dir=work / "artifacts", truth_dir=landing / "_truth", scope="18.06")
    job = build_definitions(settings).resolve_job_def("nightly_refresh")
    started = time.perf_counter()
    with DagsterInstance.from_config(str(home)) as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        steps = instance.get_records_for_run(result.run_id, of_type=DagsterEventType.STEP_SUCCESS).records
        durations = {r.event_log_entry.step_key: r.event_log_entry.dagster_event.event_specific_data.duration_ms
                     for r in steps}
    print(f"nightly_refresh: {'SUCCESS' if result.success else 'FAILURE'} in {time.perf_counter() - started:.0f} s")
    golden = {k: v for k, v in durations.items()
              if k.split("__")[0] in ("identity", "intermediate", "build", "golden_tables", "golden_state",
                                      "reports", "flag_evaluation", "household_id", "person_id")}
    print("golden steps (s): " + ", ".join(f"{k} {v / 1000:.1f}" for k, v in sorted(golden.items())))
    engine = engine_for(settings.warehouse_url)
    scores = read_table(engine, "evaluation", "flag")
    scores = scores[scores["run_id"] == result.run_id].drop(columns=["run_id", "evaluated_at"])
    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
        print(scores.to_string(index=False))
    print(move_levels(engine, settings.truth_dir))


def move_levels(engine, truth_dir: Path) -> str:
    """How often a moved recipient found from the sources is told apart right: the whole family
    (KELUARGA) or one member (PERORANGAN), against the generator's move_level."""
    from dtsen_pipeline.golden.evaluate import load_truth, subject_maps
    from dtsen_pipeline.warehouse import read_sql

    truth = load_truth(truth_dir)
    persons = pd.read_csv(truth_dir / "persons.csv", dtype={"person_key": "str"}, keep_default_na=False)
    if truth is None or "move_level" not in persons.columns:
        return "move level: no truth"
    person_map, _ = subject_maps(read_sql(engine, "SELECT person_id, household_id, record_id FROM build.person_source"),
                                 truth)
    moves = read_sql(engine, "SELECT person_id, move_level FROM intermediate.person_move")
    true_level = moves["person_id"].map(person_map).map(persons.set_index("person_key")["move_level"])
    said = moves["move_level"].map({"KELUARGA": "family", "PERORANGAN": "person"})
    moved = true_level.isin(["family", "person"])
    table = pd.crosstab(true_level[moved].rename("true move"), said[moved].rename("found as"))
    agree = float((true_level[moved] == said[moved]).mean()) if moved.any() else float("nan")
    return f"move level of moved recipients found from the sources (agreement {agree:.3f}):\n{table.to_string()}"


if __name__ == "__main__":
    main()
