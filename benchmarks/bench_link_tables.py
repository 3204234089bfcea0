"""`dtsen link-tables` at regency scale: the linkage with Spark tables in and out, on local Spark.

    python benchmarks/bench_link_tables.py            # after `make bench`: its 640,000-person warehouse
    python benchmarks/bench_link_tables.py --warehouse data/warehouse.duckdb --artifacts data/artifacts

1. `dtsen export-staged`: the warehouse writes its staged person records' linkage columns to
   parquet, one file per feed (the table a national run hands Spark): wall time and peak memory.
2. Runs `dtsen link-tables` on that export with the promoted model, on a local Spark
   (DTSEN_LINKAGE_SPARK_DRIVER_MEMORY from --driver-memory): Spark builds the linkage input
   (`linkage.spark_input`), scores, clusters and writes the results. Wall time and the peak
   resident memory of its process tree (the JVM and the Python workers included). No record
   passes through pandas in either step.
3. Compares its clusters with the nightly run's (`linkage.person_cluster`): pairwise agreement.

Prints figures only (no record values). The parquet files and Spark's output hold record ids and
values: they stay under data/bench/link_tables/ (git-ignored `data/`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_province import measure_tree  # noqa: E402  (a script beside this one)

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "data" / "bench" / "work"


def agreement(warehouse: Path, clusters: Path) -> dict[str, float]:
    """Pairwise agreement of the table path's clusters with the nightly run's."""
    import pyarrow.parquet as pq

    from dtsen_pipeline.linkage.evaluate import pairwise_scores
    from dtsen_pipeline.warehouse import engine_for, read_columns

    engine = engine_for(f"duckdb:///{warehouse}")
    try:
        nightly = read_columns(engine, "linkage", "person_cluster", ["record_id", "cluster_id"])
    finally:
        engine.dispose()
    ours = pq.read_table(clusters).to_pandas().rename(columns={"unique_id": "record_id"})
    scores = pairwise_scores(ours, nightly.rename(columns={"cluster_id": "person_key"}))
    return {"records": scores.records, "precision": scores.precision, "recall": scores.recall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, default=WORK / "warehouse.duckdb")
    parser.add_argument("--artifacts", type=Path, default=WORK / "artifacts")
    parser.add_argument("--driver-memory", default="8g")
    args = parser.parse_args(argv)
    out = ROOT / "data" / "bench" / "link_tables"
    out.mkdir(parents=True, exist_ok=True)
    models = args.artifacts / "linkage" / "models"
    model = models / json.loads((models / "promoted.json").read_text())["model_file"]

    env = {**os.environ, "DTSEN_WAREHOUSE_URL": f"duckdb:///{args.warehouse}",
           "DTSEN_LINKAGE_SPARK_DRIVER_MEMORY": args.driver_memory}
    shutil.rmtree(out / "staged", ignore_errors=True)
    wall, peak, exit_code = measure_tree([sys.executable, "-m", "dtsen_pipeline.cli", "export-staged",
                                          str(out / "staged")], env, out / "export_staged.log")
    print(f"dtsen export-staged: {wall:.1f} s wall, peak {peak:.2f} GB, exit {exit_code}")
    print("  " + (out / "export_staged.log").read_text().strip().splitlines()[-1].split(" written")[0])
    if exit_code:
        return exit_code
    wall, peak, exit_code = measure_tree(
        [sys.executable, "-m", "dtsen_pipeline.cli", "link-tables", str(out / "staged"), str(model),
         str(out / "result")], env, out / "link_tables.log")
    print(f"dtsen link-tables on local Spark (driver {args.driver_memory}): {wall:.1f} s wall, peak "
          f"{peak:.2f} GB (process tree), exit {exit_code}")
    print("  " + (out / "link_tables.log").read_text().strip().splitlines()[-1].split("; written")[0])
    if exit_code == 0:
        print(f"agreement with the nightly run's clusters: {json.dumps(agreement(args.warehouse, out / 'result' / 'clusters'))}")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
