"""One linkage run: a trained or promoted model scores candidate pairs; guarded clustering.

`run_linkage` trains and links (benchmarks, tests). `governed_linkage` is what the nightly run
does: score with the promoted model, train only when asked or when the data drifted, and let a
candidate replace the promoted model only when it does no worse on clerical labels.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from splink import Linker

from dtsen_pipeline.linkage.backend import SPARK
from dtsen_pipeline.linkage.clustering import ClusterGuards, guarded_clusters
from dtsen_pipeline.linkage.governance import (
    ModelRegistry,
    data_profile,
    decide_training,
    label_table,
    promotion,
    score_labels,
)
from dtsen_pipeline.linkage.incremental import (
    Plan,
    fingerprints,
    kept_pairs,
    pair_signature,
    plan,
    with_scored,
)
from dtsen_pipeline.linkage.model import (
    MODEL_VERSION,
    LinkageConfig,
    LinkageRun,
    close_linker,
    linker_session,
    load_model,
    new_linker,
    save_model,
    score_pairs,
    settings,
    train,
)
from dtsen_pipeline.linkage.spark_clustering import guarded_clusters_through_spark
from dtsen_pipeline.linkage.spark_tables import SparkNight, handoff_folder

Progress = Callable[[str], None]
"""Receives one line per finished phase (counts and seconds only): the asset logs it as it happens."""


def _quiet(_: str) -> None:
    return None


EMPTY_LINKS = pd.DataFrame({"unique_id_l": pd.Series(dtype="str"), "unique_id_r": pd.Series(dtype="str")})


def train_model(records: pd.DataFrame, model_path: Path, config: LinkageConfig) -> Linker:
    """A Linker over `records` with a freshly trained (seeded) model, saved as JSON at `model_path`."""
    linker = new_linker(records, settings(), config)
    train(linker, config, len(records))
    save_model(linker, model_path, config)
    return linker


KeptPairs = Callable[[pd.Series, frozenset[str], list[str]], pd.DataFrame]
"""(carried ids, removed ids, columns) -> the kept pairs in force under tonight's ids
(`incremental.kept_pairs`)."""


@dataclass(frozen=True)
class PairsInForce:
    """What the last linkage left for an incremental night: its scored pairs, each record's
    fingerprint and the signature of the model that scored them (linkage.incremental).

    `pairs` is a frame, or a function that gives only the kept pairs (the nightly run's: the
    warehouse joins them, `pairs_store.kept_pairs_in_warehouse`). It is called once tonight's
    pairs are scored and the backend's tables dropped, so the 2.2 million kept pairs of a
    640,000-person night are not held through the prediction."""

    pairs: pd.DataFrame | KeptPairs  # unique_id_l, unique_id_r, match_weight, ..., gamma_*
    fingerprints: pd.DataFrame  # unique_id, fingerprint
    signature: str

    def kept(self, night: Plan, columns: list[str]) -> pd.DataFrame:
        """The pairs in force whose two records tonight carries over, under tonight's ids."""
        carried = night.carried if night.carried is not None else pd.Series(dtype=object)
        if callable(self.pairs):
            return self.pairs(carried, night.removed, columns)
        return kept_pairs(self.pairs, carried, columns)


def link(
    linker: Linker,
    records: pd.DataFrame,
    model_path: Path,
    config: LinkageConfig,
    guards: ClusterGuards | None = None,
    must_link: pd.DataFrame = EMPTY_LINKS,
    cannot_link: pd.DataFrame = EMPTY_LINKS,
    timings: dict[str, float] | None = None,
    progress: Progress = _quiet,
    night: Plan | None = None,
    in_force: PairsInForce | None = None,
) -> LinkageRun:
    """Score candidate pairs with `linker`'s model and cluster them behind the guards. On an
    incremental `night`, only the pairs of its touched records are scored; the other pairs come
    from `in_force`."""
    timings = dict(timings or {})
    start = time.perf_counter()
    incremental = night is not None and night.incremental and in_force is not None
    # A full night on Spark keeps the pairs in Spark tables (linkage.spark_tables.SparkNight).
    folder = handoff_folder(linker_session(linker)) if config.backend == SPARK and not incremental else None
    spark_night = SparkNight(linker, config, folder) if folder is not None else None
    try:
        if incremental:
            scored = score_pairs(linker, config, touched=night.touched)
            pairs = with_scored(in_force.kept(night, list(scored.columns)), scored)
            scored_tonight = len(scored)
            detail = f"{len(scored):,} scored tonight, {len(pairs) - len(scored):,} kept"
        else:
            pairs = spark_night.pairs() if spark_night is not None else score_pairs(linker, config)
            scored_tonight = len(pairs)
            detail = "all scored tonight"
        timings["predict_seconds"] = round(time.perf_counter() - start, 2)
        progress(f"linkage predict: {len(pairs):,} candidate pairs at or above {config.predict_threshold} "
                 f"({detail}) in {timings['predict_seconds']}s")

        start = time.perf_counter()
        if spark_night is not None:  # on the pairs Spark wrote, partition by partition (linkage.spark_clustering)
            clustering = spark_night.cluster(guards, must_link, cannot_link)
        elif config.backend == SPARK:  # the pairs handed back to Spark (an incremental night, or no shared folder)
            clustering = guarded_clusters_through_spark(linker_session(linker), records, pairs, config.cluster_threshold,
                                                        guards, must_link, cannot_link)
        else:
            clustering = guarded_clusters(records, pairs, config.cluster_threshold, guards, must_link, cannot_link)
    finally:
        if spark_night is not None:  # whatever failed: its folder holds record ids
            spark_night.close()
    clusters, refused = clustering.clusters, clustering.refused
    timings["cluster_seconds"] = round(time.perf_counter() - start, 2)

    sizes = clusters.groupby("cluster_id").size()
    progress(f"linkage cluster: {len(records):,} records into {len(sizes):,} clusters, {sum(refused.values()):,} edge(s) "
             f"refused by the guards, in {timings['cluster_seconds']}s")
    stats = {
        "records": len(records),
        "pairs_above_predict_threshold": len(pairs),
        "pairs_scored_tonight": scored_tonight,
        "pairs_above_cluster_threshold": int((pairs["match_probability"] >= config.cluster_threshold).sum()),
        "clusters": int(len(sizes)),
        "largest_cluster": int(sizes.max()) if len(sizes) else 0,
        "refused_edges": refused,
        "must_link_pairs": len(must_link),
        "cannot_link_pairs": len(cannot_link),
        "predict_threshold": config.predict_threshold,
        "cluster_threshold": config.cluster_threshold,
        "seed": config.seed,
        "night": night.describe() if night is not None else "full rebuild",
    }
    return LinkageRun(pairs=pairs, clusters=clusters, model_json=model_path, stats=stats, timings=timings,
                      linker=linker, refused_edges=clustering.refused_edges)


def run_linkage(
    records: pd.DataFrame,
    model_path: Path,
    config: LinkageConfig | None = None,
    guards: ClusterGuards | None = None,
    must_link: pd.DataFrame = EMPTY_LINKS,
    cannot_link: pd.DataFrame = EMPTY_LINKS,
) -> LinkageRun:
    """Train on `records`, save the model as JSON, score candidate pairs and cluster them."""
    config = config or LinkageConfig()
    start = time.perf_counter()
    linker = train_model(records, model_path, config)
    timings = {"train_seconds": round(time.perf_counter() - start, 2)}
    return link(linker, records, model_path, config, guards, must_link, cannot_link, timings)


@dataclass
class Governance:
    """What tonight did about the model (ids, versions, reasons and scores only)."""

    trained: bool
    training_reason: str | None
    promoted: bool
    promotion_reason: str
    model_trained_in_run: str
    labels: dict[str, object] | None
    candidate_labels: dict[str, object] | None = None


def governed_linkage(
    records: pd.DataFrame,
    registry: ModelRegistry,
    candidate_path: Path,
    run_id: str,
    config: LinkageConfig,
    retrain_requested: bool = False,
    must_link: pd.DataFrame = EMPTY_LINKS,
    cannot_link: pd.DataFrame = EMPTY_LINKS,
    progress: Progress = _quiet,
    in_force: PairsInForce | None = None,
    tonight: pd.DataFrame | None = None,
) -> tuple[LinkageRun, Governance]:
    """Link tonight's records with the promoted model, or with a candidate that earned promotion;
    `progress` hears of each phase (load or train, predict, cluster) as it ends. With the pairs
    `in_force` and no training tonight, only new and changed records are scored when the promoted
    model scored those pairs (`incremental.plan`; `tonight`: the records' fingerprints, when the
    caller has them); the run's stats say which night it was."""
    profile = data_profile(records)
    promoted = registry.promoted()
    reason = decide_training(retrain_requested, promoted, profile)
    labels = label_table(must_link, cannot_link)
    threshold = config.cluster_threshold
    start = time.perf_counter()
    if reason is None:
        linker = load_model(records, promoted.path, config)
        scores = score_labels(linker, labels, threshold)
        timings = {"load_seconds": round(time.perf_counter() - start, 2)}
        progress(f"linkage load: promoted model of run {promoted.run_id} loaded over {len(records):,} records "
                 f"in {timings['load_seconds']}s")
        night = plan(fingerprints(records) if tonight is None else tonight, in_force.fingerprints if in_force else None,
                     signature_of(promoted.path, config), in_force.signature if in_force else None,
                     full_requested=config.full_rebuild, max_share=config.incremental_max_share)
        progress(f"linkage night: {night.describe()}")
        run = link(linker, records, promoted.path, config, None, must_link, cannot_link, timings, progress,
                   night, in_force)
        return run, Governance(False, None, False, "no training tonight: the promoted model scored",
                               promoted.run_id, _dict(scores))

    candidate = train_model(records, candidate_path, config)
    timings = {"train_seconds": round(time.perf_counter() - start, 2)}
    progress(f"linkage train: candidate model trained on {len(records):,} records ({reason}) "
             f"in {timings['train_seconds']}s")
    candidate_scores = score_labels(candidate, labels, threshold)
    incumbent, incumbent_scores = None, None
    if promoted is not None and promoted.usable():
        incumbent = load_model(records, promoted.path, config)
        incumbent_scores = score_labels(incumbent, labels, threshold)
    promote, why = promotion(candidate_scores, incumbent_scores, promoted)
    if promote:
        promoted = registry.promote(candidate_path, run_id, profile, candidate_scores)
        linker, scores = candidate, candidate_scores
    else:  # promotion() keeps the promoted model only when it is usable, so it was loaded above
        linker, scores = incumbent, incumbent_scores
    for other in (candidate, incumbent):  # the model not kept: its DuckDB (or share of the local Spark) goes now
        if other is not None and other is not linker:
            close_linker(other)
    night = Plan("a model was trained tonight", records=len(records))
    progress(f"linkage night: {night.describe()}")
    run = link(linker, records, promoted.path, config, None, must_link, cannot_link, timings, progress, night)
    return run, Governance(True, reason, promote, why, promoted.run_id, _dict(scores), _dict(candidate_scores))


def signature_of(model_path: Path, config: LinkageConfig) -> str:
    """The pair signature of the pairs a model at `model_path` scores under `config`."""
    return pair_signature(model_path.read_text(encoding="utf-8"), MODEL_VERSION, config.predict_threshold)


def _dict(scores) -> dict[str, object] | None:
    return scores.as_dict() if scores is not None else None
