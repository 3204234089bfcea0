"""Clerical-review helpers: stable pair ids, masking, level labels."""

import json

from dtsen_pipeline.linkage.review import level_labels, mask_identifier, pair_id


def test_pair_id_is_stable_and_unordered():
    assert pair_id("a", "b") == pair_id("b", "a")
    assert pair_id("a", "b") != pair_id("a", "c")
    assert pair_id("dtsen:x.csv#1", "pekon:y.csv#2").startswith("R")


def test_mask_identifier_hides_the_middle():
    assert mask_identifier("1806014107850001") == "1806********0001"
    assert mask_identifier(None) is None
    assert mask_identifier("123") == "***"


def test_level_labels_follow_splink_gamma_order(tmp_path):
    model = {"comparisons": [{"output_column_name": "dob", "comparison_levels": [
        {"is_null_level": True, "label_for_charts": "null"},
        {"label_for_charts": "exact"}, {"label_for_charts": "swap"}, {"label_for_charts": "else"}]}]}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(model))
    assert level_labels(path) == {"gamma_dob": {2: "exact", 1: "swap", 0: "else", -1: "missing on one side"}}


def test_relatives_refused_for_unlike_names_are_not_queued_for_review():
    import pandas as pd

    from dtsen_pipeline.linkage.model import LinkageConfig
    from dtsen_pipeline.linkage.review import review_pairs

    pairs = pd.DataFrame({"unique_id_l": ["a", "c", "e"], "unique_id_r": ["b", "d", "f"],
                          "match_probability": [0.6, 0.95, 0.7], "match_weight": [0.5, 4.0, 1.0]})
    refused = pd.DataFrame({"unique_id_l": ["a", "c"], "unique_id_r": ["b", "d"],
                            "reason": ["NAME_CONFLICT", "THIN_EVIDENCE"]})
    queued = review_pairs(pairs, refused, LinkageConfig())
    assert queued[["unique_id_l", "reason"]].values.tolist() == [["c", "THIN_EVIDENCE"], ["e", "UNCERTAIN"]]
