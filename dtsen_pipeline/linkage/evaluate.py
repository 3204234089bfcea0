"""Linkage quality against a truth table: pairwise and cluster precision, recall and F1.

Pairwise counting is done per (cluster, true person) cell, so it costs one group-by, not a pair
list. Cluster scores count a predicted cluster as right only when it holds exactly the records
of one true person; one bad merge therefore costs two clusters, which is what a register feels.
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


@dataclass(frozen=True)
class ClusterScores:
    clusters: int
    true_clusters: int
    exact_clusters: int
    precision: float
    recall: float
    f1: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def pairwise_scores(clusters: pd.DataFrame, truth: pd.DataFrame) -> PairwiseScores:
    """`clusters`: record_id, cluster_id; `truth`: record_id, person_key. Scored on their common records."""
    joined = clusters.merge(truth, on="record_id", how="inner")
    predicted = _pairs(joined.groupby("cluster_id").size())
    actual = _pairs(joined.groupby("person_key").size())
    true_positive = _pairs(joined.groupby(["cluster_id", "person_key"]).size())
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / actual if actual else 1.0
    return PairwiseScores(
        records=len(joined), predicted_pairs=predicted, true_pairs=actual, true_positive_pairs=true_positive,
        precision=round(precision, 5), recall=round(recall, 5), f1=round(_f1(precision, recall), 5),
        clusters=int(joined["cluster_id"].nunique()), true_persons=int(joined["person_key"].nunique()),
    )


def cluster_scores(clusters: pd.DataFrame, truth: pd.DataFrame) -> ClusterScores:
    """Exact-match cluster precision/recall: a cluster counts when it equals one true person's records."""
    joined = clusters.merge(truth, on="record_id", how="inner")
    cluster_size = joined.groupby("cluster_id").size().rename("cluster_size")
    person_size = joined.groupby("person_key").size().rename("person_size")
    cells = joined.groupby(["cluster_id", "person_key"]).size().rename("cell").reset_index()
    cells = cells.join(cluster_size, on="cluster_id").join(person_size, on="person_key")
    exact = int(((cells["cell"] == cells["cluster_size"]) & (cells["cell"] == cells["person_size"])).sum())
    precision = exact / len(cluster_size) if len(cluster_size) else 1.0
    recall = exact / len(person_size) if len(person_size) else 1.0
    return ClusterScores(clusters=len(cluster_size), true_clusters=len(person_size), exact_clusters=exact,
                         precision=round(precision, 5), recall=round(recall, 5), f1=round(_f1(precision, recall), 5))


def scores_by_feed_pair(clusters: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Pairwise precision/recall/F1 restricted to pairs between two given feeds (e.g. dtsen-dukcapil).

    Counted per cluster and person from feed-wise cell sizes, so no pair list is built.
    """
    joined = clusters.merge(truth[["record_id", "person_key", "feed"]], on="record_id", how="inner")
    feeds = sorted(joined["feed"].unique())
    rows = []
    for i, a in enumerate(feeds):
        for b in feeds[i:]:
            rows.append({"feed_a": a, "feed_b": b, **_feed_pair_counts(joined, a, b)})
    return pd.DataFrame(rows)


def _cross_pairs(frame: pd.DataFrame, keys: list[str], a: str, b: str) -> int:
    counts = frame.groupby([*keys, "feed"]).size().unstack("feed", fill_value=0)
    na = counts[a] if a in counts else pd.Series(0, index=counts.index)
    if a == b:
        return int((na * (na - 1) // 2).sum())
    nb = counts[b] if b in counts else pd.Series(0, index=counts.index)
    return int((na * nb).sum())


def _feed_pair_counts(joined: pd.DataFrame, a: str, b: str) -> dict[str, float | int]:
    subset = joined[joined["feed"].isin([a, b])]
    predicted = _cross_pairs(subset, ["cluster_id"], a, b)
    actual = _cross_pairs(subset, ["person_key"], a, b)
    true_positive = _cross_pairs(subset, ["cluster_id", "person_key"], a, b)
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / actual if actual else 1.0
    return {"predicted_pairs": predicted, "true_pairs": actual, "true_positive_pairs": true_positive,
            "precision": round(precision, 5), "recall": round(recall, 5), "f1": round(_f1(precision, recall), 5)}
