"""Movers found against the generator's truth (`_truth/movers.csv` of a province sample): which
true movers the province step links from their old regency's person to their new one.

A golden person stands for the truth person holding most of its source records. Recall is given
twice: over every true mover, and over those both of whose regencies published a person for them
(a mover no delivery of the old regency still carries cannot be linked from there).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dtsen_pipeline.linkage.truth import load_record_truth
from dtsen_pipeline.province.movers import MOVED

MOVERS_FILE = "movers.csv"


def load_movers(truth_dir: Path) -> pd.DataFrame | None:
    path = truth_dir / MOVERS_FILE
    return pd.read_csv(path, dtype=str) if path.is_file() else None


def truth_keys(sources: pd.DataFrame, truth_dir: Path) -> pd.Series | None:
    """Golden person_id -> the truth person_key of most of its records, for one regency."""
    truth = load_record_truth(truth_dir)
    if truth is None:
        return None
    joined = sources[["person_id", "record_id"]].merge(truth[["record_id", "person_key"]], on="record_id")
    counts = joined.groupby(["person_id", "person_key"]).size().rename("n").reset_index()
    best = counts.sort_values(["person_id", "n", "person_key"], ascending=[True, False, True])
    return best.drop_duplicates("person_id").set_index("person_id")["person_key"]


def mover_scores(movers: pd.DataFrame, truth_movers: pd.DataFrame, keys: dict[str, pd.Series]) -> dict[str, float]:
    """Precision and recall of the `PINDAH_ANTAR_KABUPATEN` rows against the true movers; `keys`:
    each regency's golden person -> truth person key."""
    def key_of(regency: str, person_id: str) -> str | None:
        series = keys.get(regency)
        return None if series is None else series.get(person_id)

    true_pairs = {(r.origin_regency, r.origin_person_key, r.destination_regency, r.destination_person_key)
                  for r in truth_movers.itertuples(index=False)}
    published = {code: set(series.to_numpy().tolist()) for code, series in keys.items()}
    present = {pair for pair in true_pairs
               if pair[1] in published.get(pair[0], set()) and pair[3] in published.get(pair[2], set())}
    moved = movers[movers["kind"] == MOVED]
    predicted = {(r.from_regency, key_of(r.from_regency, r.from_person_id), r.to_regency,
                  key_of(r.to_regency, r.to_person_id)) for r in moved.itertuples(index=False)}
    right = predicted & true_pairs
    return {
        "true_movers": float(len(true_pairs)),
        "true_movers_published_both_sides": float(len(present)),
        "predicted_movers": float(len(moved)),
        "precision": len(right) / len(predicted) if predicted else 1.0,
        "recall": len(right & present) / len(present) if present else 1.0,
        "recall_all": len(right) / len(true_pairs) if true_pairs else 1.0,
    }
