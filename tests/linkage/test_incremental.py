"""Incremental nights (linkage.incremental): which records are scored, and that an incremental
night gives the clusters a full rebuild gives, on the session sample's real staged records."""

import numpy as np
import pandas as pd
import pytest

from dtsen_pipeline.ingest.feeds import load_feed_specs, person_feeds
from dtsen_pipeline.linkage.evaluate import pairwise_scores
from dtsen_pipeline.linkage.incremental import (
    fingerprints,
    kept_pairs,
    pair_signature,
    plan,
    with_scored,
)
from dtsen_pipeline.linkage.model import LinkageConfig, load_model
from dtsen_pipeline.linkage.prepare import STAGED_COLUMNS, linkage_input
from dtsen_pipeline.linkage.run import PairsInForce, link, run_linkage, signature_of
from dtsen_pipeline.warehouse import read_columns


def _fp(ids: list[str], values: list[str]) -> pd.DataFrame:
    return fingerprints(pd.DataFrame({"unique_id": ids, "name_key": values}))


def test_fingerprints_change_with_any_compared_value_only():
    one = _fp(["a", "b"], ["SITI", "BUDI"])
    assert one["fingerprint"].dtype == "int64"
    assert (one["fingerprint"] == _fp(["a", "b"], ["SITI", "BUDI"])["fingerprint"]).all()
    assert list(one["fingerprint"] != _fp(["a", "b"], ["SITI", "BUDY"])["fingerprint"]) == [False, True]


def test_the_plan_scores_new_and_changed_records_and_drops_removed_ones():
    before = _fp(["a", "b", "c", "d"], ["SITI", "BUDI", "ANI", "WATI"])
    after = _fp(["a", "b", "d", "e"], ["SITI", "BUDY", "WATI", "ADI"])
    night = plan(after, before, "sig", "sig", max_share=0.9)
    assert night.incremental and night.touched == {"b", "e"} and night.removed == {"b", "c"}
    assert "incremental: 2 new or changed and 2 removed of 4 records" == night.describe()
    assert night.carried.to_dict() == {"a": "a", "d": "d"}


def test_a_file_re_sent_under_a_new_name_changes_no_content():
    """Record ids name the file: next month's extract renames every record, not one is new."""
    before = _fp(["f1#1", "f1#2", "f1#3", "f1#4"], ["SITI", "SITI", "ANI", "WATI"])
    after = _fp(["f2#1", "f2#2", "f2#3", "f2#4"], ["SITI", "SITI", "ANI", "WATY"])
    night = plan(after, before, "sig", "sig", max_share=0.9)
    assert night.touched == {"f2#4"} and night.removed == {"f1#4"}
    assert night.carried.to_dict() == {"f1#1": "f2#1", "f1#2": "f2#2", "f1#3": "f2#3"}
    previous = pd.DataFrame({"unique_id_l": ["f1#1", "f1#3", "f1#3"], "unique_id_r": ["f1#2", "f1#4", "f1#9"],
                             "match_probability": [0.99, 0.5, 0.4]})
    scored = pd.DataFrame({"unique_id_l": ["f2#1"], "unique_id_r": ["f2#4"], "match_probability": [0.3]})
    merged = with_scored(kept_pairs(previous, night.carried, list(scored.columns)), scored)
    assert list(zip(merged.unique_id_l, merged.unique_id_r, strict=True)) == [("f2#1", "f2#2"), ("f2#1", "f2#4")]


@pytest.mark.parametrize(("previous", "previous_signature", "full", "share", "why"), [
    (None, None, False, 0.9, "no pairs scored before"),
    ("before", "other", False, 0.9, "the model or the predict threshold changed"),
    ("before", "sig", True, 0.9, "asked for"),
    ("before", "sig", False, 0.4, "50.0% of the records new, changed or removed (above 40%)"),
])
def test_a_full_rebuild_when_asked_first_model_changed_or_too_much_changed(previous, previous_signature, full,
                                                                          share, why):
    before = _fp(["a", "b", "c", "d"], ["SITI", "BUDI", "ANI", "WATI"])
    after = _fp(["a", "b", "d", "e"], ["SITI", "BUDY", "WATI", "ADI"])
    night = plan(after, before if previous else None, "sig", previous_signature, full_requested=full, max_share=share)
    assert not night.incremental and why in night.full_reason


def test_kept_pairs_are_only_pairs_of_unchanged_records():
    previous = pd.DataFrame({"unique_id_l": ["a", "a", "b"], "unique_id_r": ["b", "d", "c"],
                             "match_probability": [0.9, 0.8, 0.7]})
    scored = pd.DataFrame({"unique_id_l": ["b"], "unique_id_r": ["e"], "match_probability": [0.95]})
    carried = pd.Series({"a": "a", "d": "d"})
    merged = with_scored(kept_pairs(previous, carried, list(scored.columns)), scored)
    assert list(zip(merged.unique_id_l, merged.unique_id_r, strict=True)) == [("a", "d"), ("b", "e")]


def test_the_signature_follows_the_model_and_the_threshold():
    model = '{"link_type": "dedupe_only", "probability_two_random_records_match": 0.001}'
    assert pair_signature(model, "5", 0.3) == pair_signature(model, "5", 0.3)
    assert pair_signature(model, "5", 0.3) != pair_signature(model, "5", 0.4)
    assert pair_signature(model, "5", 0.3) != pair_signature(model.replace("0.001", "0.002"), "5", 0.3)


def _changed_night(records: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """About 1% of the records changed (a name corrected, a NIK retyped), a few gone, a few new
    (another record of a person already there, as a re-sent file brings), and the civil
    registry's extract delivered under a new file name (every one of its record ids new)."""
    out = records.copy()
    changed = rng.choice(len(out), size=len(out) // 100, replace=False)
    half = changed[: len(changed) // 2]
    out.loc[out.index[half], "name_key"] = out.loc[out.index[half], "name_key"].fillna("") + " A"
    nik = out.columns.get_loc("nik")
    for i in changed[len(changed) // 2:]:
        value = out.iat[i, nik]
        if isinstance(value, str) and len(value) == 16:
            out.iat[i, nik] = value[:14] + value[15] + value[14]
    gone = rng.choice(len(out), size=len(out) // 300, replace=False)
    again = out.iloc[rng.choice(len(out), size=len(out) // 300, replace=False)].copy()
    again["unique_id"] = again["unique_id"] + "#again"
    out = pd.concat([out.drop(out.index[gone]), again], ignore_index=True)
    registry = out["feed"] == "dukcapil"  # next month's extract under a new file name: every id changes
    out.loc[registry, "unique_id"] = out.loc[registry, "unique_id"].str.replace("dukcapil/", "dukcapil/next_", regex=False)
    return out


def test_an_incremental_night_gives_the_clusters_of_a_full_rebuild(engine, tmp_path):
    staged = pd.concat([read_columns(engine, "staging", feed, STAGED_COLUMNS)
                        for feed in person_feeds(load_feed_specs())], ignore_index=True)
    first = linkage_input(staged)
    config = LinkageConfig()
    model_path = tmp_path / "model.json"
    night_one = run_linkage(first, model_path, config)
    in_force = PairsInForce(night_one.pairs, fingerprints(first), signature_of(model_path, config))

    second = _changed_night(first, np.random.default_rng(3))
    night = plan(fingerprints(second), in_force.fingerprints, signature_of(model_path, config), in_force.signature)
    assert night.incremental and 0 < len(night.touched) <= 0.02 * len(second) and night.removed
    assert (second["feed"] == "dukcapil").sum() > 0.2 * len(second)  # renamed, yet not touched
    incremental = link(load_model(second, model_path), second, model_path, config, night=night, in_force=in_force)
    full = link(load_model(second, model_path), second, model_path, config)

    assert incremental.stats["night"].startswith("incremental")
    assert incremental.stats["pairs_scored_tonight"] < 0.1 * full.stats["pairs_scored_tonight"]
    truth = full.clusters.rename(columns={"unique_id": "record_id", "cluster_id": "person_key"})
    agreement = pairwise_scores(incremental.clusters.rename(columns={"unique_id": "record_id"}), truth)
    assert agreement.records == len(second)
    assert agreement.precision >= 0.999 and agreement.recall >= 0.999
    # every pair a full rebuild finds is there, scored the same up to the term frequencies' drift
    key = ["unique_id_l", "unique_id_r"]
    both = full.pairs.merge(incremental.pairs, on=key, suffixes=("_full", "_incremental"))
    assert len(both) >= 0.999 * len(full.pairs)
    assert (both["match_probability_full"] - both["match_probability_incremental"]).abs().max() < 0.05
