"""Linkage quality against a truth table: pairwise precision, recall and F1 over all records.

Counting is done per (cluster, true person) cell, so it costs one group-by, not a pair list.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd


@dataclass(frozen=True)
class PairwiseScores:
    records: int
    predicted_pairs: int
    true_pairs: int
    true_positive_pairs: int
    precision: float
    recall: float
    f1: float
    clusters: int
    true_persons: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_scores(clusters: pd.DataFrame, truth: pd.DataFrame) -> PairwiseScores:
    """`clusters`: record_id, cluster_id; `truth`: record_id, person_key. Scored on their common records."""
    joined = clusters.merge(truth, on="record_id", how="inner")
    predicted = _pairs(joined.groupby("cluster_id").size())
    actual = _pairs(joined.groupby("person_key").size())
    true_positive = _pairs(joined.groupby(["cluster_id", "person_key"]).size())
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairwiseScores(
        records=len(joined), predicted_pairs=predicted, true_pairs=actual, true_positive_pairs=true_positive,
        precision=round(precision, 5), recall=round(recall, 5), f1=round(f1, 5),
        clusters=int(joined["cluster_id"].nunique()), true_persons=int(joined["person_key"].nunique()),
    )
