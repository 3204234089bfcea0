"""Linkage diagnostics against a truth table: recall per kind of pair, merged golden persons per
kind, persons listed twice in DTSEN."""

import pandas as pd

from dtsen_pipeline.linkage.diagnostics import dtsen_duplicates_found, merged_persons, recall_by_kind

NIK = "1806014107850001"


def _records(rows):
    return pd.DataFrame(rows, columns=["unique_id", "feed", "nik", "no_kk", "kode_desa", "name_key", "dob",
                                       "dob_year"])


RECORDS = _records([
    # person A: a DTSEN record in the old village (NIK swapped), the civil registry in the new one
    ("a1", "dtsen", "1806014107850010", "1806010101100001", "18.06.01.2001", "SITI AMINAH", "1985-07-01", 1985),
    ("a2", "dukcapil", NIK, "1806020202200002", "18.06.02.2001", "SITI AMINAH", "1985-07-01", 1985),
    ("a3", "dtsen", NIK, "1806020202200002", "18.06.02.2001", "SITI AMINAH", "1985-07-01", 1985),
    # person B: listed twice in DTSEN, found; person C shares B's name and was merged into B
    ("b1", "dtsen", "1806025203900002", None, "18.06.02.2001", "DEWI", "1990-03-12", 1990),
    ("b2", "dtsen", "1806025203900002", None, "18.06.02.2001", "DEWI", "1990-03-12", 1990),
    ("c1", "bansos", None, None, "18.06.02.2001", "DEWI", None, None),
])
TRUTH = pd.DataFrame({"record_id": ["a1", "a2", "a3", "b1", "b2", "c1"],
                      "person_key": ["A", "A", "A", "B", "B", "C"],
                      "feed": ["dtsen", "dukcapil", "dtsen", "dtsen", "dtsen", "bansos"]})
# a1 was not linked (the mover's stale record); c1 was wrongly merged into B
CLUSTERS = pd.DataFrame({"unique_id": ["a1", "a2", "a3", "b1", "b2", "c1"],
                         "cluster_id": ["a1", "a2", "a2", "b1", "b1", "b1"]})


def test_recall_by_kind_traces_the_missed_pairs():
    kinds = recall_by_kind(RECORDS, CLUSTERS, TRUTH)
    assert (kinds["true_pairs"], kinds["linked"]) == (4, 2)
    assert kinds["village"]["different"] == {"true_pairs": 2, "linked": 0, "recall": 0.0}
    assert kinds["village"]["same"]["recall"] == 1.0
    assert kinds["nik"]["transposed"] == {"true_pairs": 2, "linked": 0, "recall": 0.0}
    assert kinds["nik"]["equal"]["recall"] == 1.0
    assert kinds["feeds"]["dtsen-dtsen"]["true_pairs"] == 2


def test_merged_persons_are_counted_once_with_the_closest_kind():
    merged = merged_persons(RECORDS, CLUSTERS, TRUTH)
    assert merged["merged_clusters"] == 1 and merged["true_persons"] == 3
    assert merged["by_kind"] == {"same_name": 1}
    assert merged["merged_per_10000_persons"] == round(1 / 3 * 10_000, 3)


def test_persons_listed_twice_in_dtsen():
    found = dtsen_duplicates_found(CLUSTERS, TRUTH)
    # A's two DTSEN records sit in two clusters (missed); B's two in one (found, and the flag is right)
    assert (found["persons_listed_twice"], found["found"], found["recall"]) == (2, 1, 0.5)
    assert (found["flagged_clusters"], found["precision"]) == (1, 1.0)


def test_only_the_kinds_asked_for_are_described():
    village = recall_by_kind(RECORDS, CLUSTERS, TRUTH, kinds=("village",))
    assert set(village) == {"true_pairs", "linked", "village"}
    assert village["village"] == recall_by_kind(RECORDS, CLUSTERS, TRUTH)["village"]
