"""Id stability over two nightly runs on a fresh sample: how many people and families keep their ids.

    python benchmarks/bench_ids.py --persons 20000 --seed 1

Run 1 on the sample; run 2 on next month's delivery (the DTSEN extract renamed with one name
corrected, so every DTSEN record id changes; one pekon's new snapshot three residents shorter).
People and families are identified through the generator's truth. Prints counts only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from dtsen_pipeline.cli import write_instance_config
from dtsen_pipeline.sample.next_month import next_month


def run_once(work: Path, landing: Path, label: str):
    from dagster import DagsterInstance

    from dtsen_pipeline.config import Settings
    from dtsen_pipeline.definitions import build_definitions

    home = write_instance_config(work / f"dagster_home_{label}")
    settings = Settings(warehouse_url=f"duckdb:///{work / 'warehouse.duckdb'}", landing_dir=landing,
                        artifacts_dir=work / "artifacts", truth_dir=landing / "_truth", scope="18.06")
    started = time.perf_counter()
    with DagsterInstance.from_config(str(home)) as instance:
        result = build_definitions(settings).resolve_job_def("nightly_refresh").execute_in_process(
            instance=instance, raise_on_error=False)
    print(f"run {label}: {'SUCCESS' if result.success else 'FAILURE'} in {time.perf_counter() - started:.0f} s")
    return settings, result.run_id


def ids(settings, truth_dir: Path) -> tuple[pd.Series, pd.Series]:
    from dtsen_pipeline.golden.evaluate import load_truth, subject_maps
    from dtsen_pipeline.warehouse import engine_for, read_table

    source = read_table(engine_for(settings.warehouse_url), "golden", "person_source",
                        ["person_id", "household_id", "record_id"])
    person, household = subject_maps(source, load_truth(truth_dir))
    unique = {}
    for name, mapping in (("person", person), ("household", household)):
        frame = mapping.rename("key").reset_index()
        unique[name] = frame.drop_duplicates("key", keep=False).set_index("key").iloc[:, 0]
    return unique["person"], unique["household"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from dtsen_pipeline.sample import generate
    from dtsen_pipeline.warehouse import engine_for, read_table

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        generate(persons=args.persons, seed=args.seed, out_dir=work / "landing1")
        settings, _ = run_once(work, work / "landing1", "1")
        p1, h1 = ids(settings, work / "landing1" / "_truth")
        shutil.copytree(work / "landing1", work / "landing2")
        next_month(work / "landing2")
        settings, run_id = run_once(work, work / "landing2", "2")
        p2, h2 = ids(settings, work / "landing2" / "_truth")
        for name, a, b in (("persons", p1, p2), ("households", h1, h2)):
            both = a.index.intersection(b.index)
            kept = int((a[both] == b[both]).sum())
            print(f"{name}: {kept:,} of {len(both):,} true {name} in both runs kept their id ({kept / len(both):.4f})")
        changes = read_table(engine_for(settings.warehouse_url), "golden", "id_change")
        counts = changes[changes["change_run_id"] == run_id].groupby(["subject_type", "kind"]).size()
        print("id changes in run 2: " + (", ".join(f"{s} {k} {n}" for (s, k), n in counts.items()) or "none"))


if __name__ == "__main__":
    main()
