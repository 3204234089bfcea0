"""One linkage run: train (seeded), save the model, score candidate pairs, cluster with guards."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from dtsen_pipeline.linkage.clustering import ClusterGuards, guarded_clusters
from dtsen_pipeline.linkage.model import (
    LinkageConfig,
    LinkageRun,
    new_linker,
    save_model,
    score_pairs,
    settings,
    train,
)

EMPTY_LINKS = pd.DataFrame({"unique_id_l": pd.Series(dtype="str"), "unique_id_r": pd.Series(dtype="str")})


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
    timings: dict[str, float] = {}
    start = time.perf_counter()
    linker = new_linker(records, settings())
    train(linker, config, len(records))
    save_model(linker, model_path, config)
    timings["train_seconds"] = round(time.perf_counter() - start, 2)

    start = time.perf_counter()
    pairs = score_pairs(linker, config)
    timings["predict_seconds"] = round(time.perf_counter() - start, 2)

    start = time.perf_counter()
    clustering = guarded_clusters(records, pairs, config.cluster_threshold, guards, must_link, cannot_link)
    clusters, refused = clustering.clusters, clustering.refused
    timings["cluster_seconds"] = round(time.perf_counter() - start, 2)

    sizes = clusters.groupby("cluster_id").size()
    stats = {
        "records": len(records),
        "pairs_above_predict_threshold": len(pairs),
        "pairs_above_cluster_threshold": int((pairs["match_probability"] >= config.cluster_threshold).sum()),
        "clusters": int(len(sizes)),
        "largest_cluster": int(sizes.max()) if len(sizes) else 0,
        "refused_edges": refused,
        "must_link_pairs": len(must_link),
        "cannot_link_pairs": len(cannot_link),
        "predict_threshold": config.predict_threshold,
        "cluster_threshold": config.cluster_threshold,
        "seed": config.seed,
    }
    return LinkageRun(pairs=pairs, clusters=clusters, model_json=model_path, stats=stats, timings=timings,
                      linker=linker, refused_edges=clustering.refused_edges)
