"""Linkage at Tanggamus scale: quality against the sample truth, time per stage, peak memory.

    python benchmarks/bench_linkage.py --persons 640000            # generate, stage, link, score
    python benchmarks/bench_linkage.py --persons 640000 --profile field   # the second damage profile
    python benchmarks/bench_linkage.py --staged DIR                # stage into DIR once, then reuse it
    python benchmarks/bench_linkage.py ... --baseline              # also a plain Splink model

Prints figures only (no record values).
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.clock import local_date
from dtsen_pipeline.ingest.feeds import load_feed_specs, person_feeds
from dtsen_pipeline.ingest.intake import ingest_feed
from dtsen_pipeline.ingest.raw_store import read_in_force
from dtsen_pipeline.ingest.standardise import stage_feed
from dtsen_pipeline.linkage.constraints import verval_constraints
from dtsen_pipeline.linkage.diagnostics import dtsen_duplicates_found, merged_persons, recall_by_kind
from dtsen_pipeline.linkage.evaluate import cluster_scores, pairwise_scores, scores_by_feed_pair
from dtsen_pipeline.linkage.prepare import linkage_input
from dtsen_pipeline.linkage.quality import blocking_recall
from dtsen_pipeline.linkage.run import run_linkage
from dtsen_pipeline.linkage.truth import load_record_truth

PERSON_FEEDS = person_feeds(load_feed_specs())  # in registry order, as the linkage asset reads them


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage(landing: Path, out: Path) -> None:
    """Ingest and stage every feed (the person feeds and verval) as the assets do, into parquet files."""
    specs = load_feed_specs()
    engine = sa.create_engine(f"duckdb:///{out / 'warehouse.duckdb'}")
    for name in specs:
        ingest_feed(engine, landing, specs[name], run_id="bench")
        raw = read_in_force(engine, specs[name])
        staged = stage_feed(raw, specs[name], "18.06", local_date()).staged
        staged.to_parquet(out / f"{name}.parquet")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=640_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", default="base", help="sample damage profile: base or field")
    parser.add_argument("--landing", type=Path, help="an existing sample landing folder")
    parser.add_argument("--staged", type=Path, help="a folder of staged <feed>.parquet files")
    parser.add_argument("--baseline", action="store_true", help="also run a plain Splink model")
    parser.add_argument("--baseline-only", action="store_true", help="run only the plain Splink model")
    parser.add_argument("--dump", type=Path, help="write records, pairs and clusters as parquet here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_linkage_"))
    landing = args.landing
    if args.staged is None or not (args.staged / "dtsen.parquet").is_file():
        if landing is None:
            from dtsen_pipeline.sample import generate

            landing = work / "landing"
            generate(persons=args.persons, seed=args.seed, out_dir=landing, profile=args.profile)
        args.staged = args.staged or work / "staged"
        args.staged.mkdir(parents=True, exist_ok=True)
        stage(landing, args.staged)
        shutil.copytree(landing / "_truth", args.staged / "_truth", dirs_exist_ok=True)
    truth_dir = args.staged / "_truth"
    staged = pd.concat([pd.read_parquet(args.staged / f"{f}.parquet") for f in PERSON_FEEDS], ignore_index=True)
    verval = pd.read_parquet(args.staged / "verval.parquet")
    if not (truth_dir / "records.csv").is_file():
        raise SystemExit(f"no truth table in {truth_dir}")
    ours = run_model(args, staged, verval, truth_dir, work) if not args.baseline_only else None
    plain = run_baseline(staged, truth_ids(truth_dir)) if args.baseline or args.baseline_only else None
    if ours and plain:
        # A nightly run scores with the promoted model and trains only on request or drift
        # (linkage.governance); the plain model has no saved model and trains every time.
        print(json.dumps({
            "time_ratio_to_plain_splink_with_training": round(ours["with_training"] / plain, 2),
            "time_ratio_to_plain_splink_nightly": round(ours["nightly"] / plain, 2),
        }, indent=2))


@functools.cache
def truth_ids(truth_dir: Path) -> pd.DataFrame:
    """The sample's truth (record -> person), loaded only after the linkage: it is the
    benchmark's, not the linkage's, and would otherwise count in the linkage's peak memory."""
    return load_record_truth(truth_dir)[["record_id", "person_key", "feed"]]


def run_model(args, staged: pd.DataFrame, verval: pd.DataFrame, truth_dir: Path,
              work: Path) -> dict[str, float]:
    start = time.perf_counter()
    records = linkage_input(staged)
    must_link, cannot_link = verval_constraints(verval, records)
    prepare_seconds = time.perf_counter() - start
    run = run_linkage(records, work / "model.json", must_link=must_link, cannot_link=cannot_link)
    linkage_peak = peak_mb()
    truth = truth_ids(truth_dir)
    clusters = run.clusters.rename(columns={"unique_id": "record_id"})
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
        records.to_parquet(args.dump / "records.parquet")
        run.pairs.to_parquet(args.dump / "pairs.parquet")
        run.clusters.to_parquet(args.dump / "clusters.parquet")
    report = {
        "records": len(records),
        "prepare_seconds": round(prepare_seconds, 2),
        **run.timings,
        "linkage_seconds_total": round(prepare_seconds + sum(run.timings.values()), 2),
        "linkage_seconds_without_training": round(prepare_seconds + run.timings["predict_seconds"]
                                                  + run.timings["cluster_seconds"], 2),
        "peak_memory_mb_after_linkage": round(linkage_peak),
        "blocking": blocking_recall(records, truth),
        "pairwise": pairwise_scores(clusters, truth).as_dict(),
        "cluster": cluster_scores(clusters, truth).as_dict(),
        "stats": run.stats,
        "persons_listed_twice_in_dtsen": dtsen_duplicates_found(run.clusters, truth),
        "merged_golden_persons": merged_persons(records, run.clusters, truth),
        "recall_by_kind": recall_by_kind(records, run.clusters, truth),
        "review_queue": review_figures(staged, run, work / "model.json"),
    }
    print(json.dumps(report, indent=2, default=str))
    print(scores_by_feed_pair(clusters, truth).to_string(index=False))
    return {"with_training": report["linkage_seconds_total"], "nightly": report["linkage_seconds_without_training"]}


def review_figures(staged: pd.DataFrame, run, model_json: Path) -> dict[str, int]:
    """The clerical-review queue this linkage makes, and the share one month's files hold."""
    from dtsen_pipeline.linkage.model import LinkageConfig
    from dtsen_pipeline.linkage.review import level_labels, monthly_share, review_pairs, review_queue

    config = LinkageConfig()
    queue = review_queue(review_pairs(run.pairs, run.refused_edges, config), staged, run.clusters,
                         level_labels(model_json))
    month, waiting = monthly_share(queue, config.review_cap_per_kecamatan)
    return {"pairs_queued": len(queue), "pairs_this_month": len(month), "pairs_waiting": waiting,
            "kecamatan": int(queue["KODE_KECAMATAN"].nunique()), "cap_per_kecamatan": config.review_cap_per_kecamatan}


def run_baseline(staged: pd.DataFrame, truth: pd.DataFrame) -> float:
    from dtsen_pipeline.linkage.baseline import plain_splink_clusters

    start = time.perf_counter()
    plain = plain_splink_clusters(staged).rename(columns={"unique_id": "record_id"})
    seconds = time.perf_counter() - start
    print(json.dumps({
        "plain_splink_seconds": round(seconds, 2),
        "plain_pairwise": pairwise_scores(plain, truth).as_dict(),
        "plain_cluster": cluster_scores(plain, truth).as_dict(),
        "peak_memory_mb": round(peak_mb()),
    }, indent=2))
    return seconds


if __name__ == "__main__":
    main()
