"""What the Spark tests share: the reference linkage on DuckDB, and the agreement a Spark result
must reach with it (the same pairs scored alike, the same clusters)."""

from pathlib import Path

import pandas as pd

from dtsen_pipeline.linkage.evaluate import PairwiseScores, pairwise_scores
from dtsen_pipeline.linkage.model import LinkageConfig, close_linker, load_model
from dtsen_pipeline.linkage.run import LinkageRun, link, train_model

KEY = ["unique_id_l", "unique_id_r"]


def duckdb_reference(records: pd.DataFrame, model_path: Path) -> LinkageRun:
    """A model trained on DuckDB, saved at `model_path`, and its linkage of `records` on DuckDB."""
    config = LinkageConfig()
    close_linker(train_model(records, model_path, config))
    linker = load_model(records, model_path, config)
    try:
        return link(linker, records, model_path, config)
    finally:
        close_linker(linker)


def same_pairs(reference: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Asserts that `pairs` are the `reference` pairs (99.9% in both, 99.9% of the probabilities
    within 1e-6); the pairs in both, with `_reference` / `_other` columns."""
    both = reference.merge(pairs, on=KEY, suffixes=("_reference", "_other"))
    assert len(reference) > 1_000
    assert len(both) >= 0.999 * max(len(reference), len(pairs))
    difference = (both["match_probability_reference"] - both["match_probability_other"]).abs()
    assert (difference < 1e-6).mean() >= 0.999 and difference.max() < 0.05
    return both


def same_clusters(reference: pd.DataFrame, clusters: pd.DataFrame, records: int) -> PairwiseScores:
    """Asserts that `clusters` (unique_id, cluster_id) agree with the `reference` clusters pair by
    pair (precision and recall >= 0.999 over all `records`); the agreement."""
    truth = reference.rename(columns={"unique_id": "record_id", "cluster_id": "person_key"})
    agreement = pairwise_scores(clusters.rename(columns={"unique_id": "record_id"}), truth)
    assert agreement.records == records
    assert agreement.precision >= 0.999 and agreement.recall >= 0.999
    return agreement
