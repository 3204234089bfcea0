"""Model governance on its own: drift, when to train, when a candidate is promoted, the registry,
clerical decisions as a labels table, and the churn limit."""

import json

import pandas as pd
import pytest

from dtsen_pipeline.golden.churn import id_churn
from dtsen_pipeline.linkage.governance import (
    LabelScores,
    ModelRegistry,
    data_profile,
    decide_training,
    drift,
    label_table,
    promotion,
)
from dtsen_pipeline.linkage.model import MODEL_VERSION


def _records(n: int, nik_missing: float = 0.1) -> pd.DataFrame:
    missing = int(n * nik_missing)
    return pd.DataFrame({
        "unique_id": [f"r{i}" for i in range(n)],
        "feed": ["dtsen"] * (n // 2) + ["dukcapil"] * (n - n // 2),
        "nik": [None] * missing + [f"18060141078{i:05d}" for i in range(n - missing)],
        "no_kk": ["1806010101100001"] * n, "name_key": ["SITI"] * n, "dob": ["1985-07-21"] * n,
        "dob_year": [1985] * n, "jenis_kelamin": ["P"] * n, "kode_desa": ["18.06.01.2016"] * n,
        "alamat_key": ["DUSUN I"] * n,
    })


def _scores(f1: float, recall: float) -> LabelScores:
    return LabelScores(10, 5, 4, 1, 1, 0.8, recall, f1)


def test_profile_and_drift():
    trained = data_profile(_records(1000))
    assert trained["records"] == 1000 and trained["null_share"]["nik"] == 0.1
    assert drift(data_profile(_records(1100)), trained) == []
    assert drift(data_profile(_records(1000, nik_missing=0.2)), trained) == ["null share of nik 10.0% -> 20.0%"]
    assert drift(data_profile(_records(1300)), trained) == ["records 1000 -> 1300"]


def test_registry_promotes_and_points_at_the_new_model(tmp_path):
    registry = ModelRegistry(tmp_path / "models")
    assert registry.promoted() is None
    model = tmp_path / "candidate.json"
    model.write_text(json.dumps({"link_type": "dedupe_only"}))
    profile = data_profile(_records(100))
    promoted = registry.promote(model, "run-1", profile, _scores(0.9, 0.9))
    assert promoted.path.is_file() and promoted.path.parent == tmp_path / "models"
    assert promoted.run_id == "run-1" and promoted.model_version == MODEL_VERSION and promoted.usable()
    assert promoted.label_scores["f1"] == 0.9
    registry.promote(model, "run-2", profile, None)
    assert registry.promoted().run_id == "run-2"
    assert len((tmp_path / "models" / "history.jsonl").read_text().splitlines()) == 2


def test_training_only_on_request_a_missing_model_or_drift(tmp_path):
    registry = ModelRegistry(tmp_path)
    profile = data_profile(_records(1000))
    assert decide_training(False, None, profile) == "no promoted model yet"
    model = tmp_path / "m.json"
    model.write_text("{}")
    promoted = registry.promote(model, "run-1", profile, None)
    assert decide_training(False, promoted, profile) is None
    assert decide_training(True, promoted, profile) == "requested"
    assert decide_training(False, promoted, data_profile(_records(1000, 0.3))).startswith("drift: null share of nik")
    promoted.path.unlink()
    assert "not usable" in decide_training(False, promoted, profile)


def test_a_candidate_is_promoted_only_if_no_worse_on_the_same_labels(tmp_path):
    model = tmp_path / "m.json"
    model.write_text("{}")
    promoted = ModelRegistry(tmp_path).promote(model, "run-1", data_profile(_records(10)), None)
    assert promotion(_scores(0.95, 0.9), _scores(0.95, 0.9), promoted)[0]  # as good: promoted
    assert promotion(_scores(0.96, 0.8), _scores(0.95, 0.9), promoted)[0]
    assert not promotion(_scores(0.94, 0.99), _scores(0.95, 0.9), promoted)[0]
    assert not promotion(_scores(0.95, 0.8), _scores(0.95, 0.9), promoted)[0]  # same F1, fewer duplicates found
    kept, why = promotion(None, None, promoted)
    assert not kept and "no clerical labels" in why
    assert promotion(None, None, None) == (True, "no usable promoted model")


def test_clerical_decisions_become_one_label_per_pair():
    must = pd.DataFrame({"unique_id_l": ["b", "c"], "unique_id_r": ["a", "d"]})
    cannot = pd.DataFrame({"unique_id_l": ["e", "a"], "unique_id_r": ["f", "b"]})
    labels = label_table(must, cannot)
    assert (labels["unique_id_l"] < labels["unique_id_r"]).all()
    by_pair = labels.set_index(["unique_id_l", "unique_id_r"])["clerical_match_score"].to_dict()
    # a, b was decided both ways: the later decision (the cannot-link list comes last) stands
    assert by_pair == {("a", "b"): 0.0, ("c", "d"): 1.0, ("e", "f"): 0.0}


@pytest.mark.parametrize(("merged", "split", "removed", "plausible"), [
    (10, 10, 10, True), (200, 200, 100, True), (300, 200, 100, False), (0, 0, 0, True)])
def test_id_churn_limit(merged, split, removed, plausible):
    churn = id_churn({"merge": merged, "split": split, "removed": removed}, 10_000, 0.05)
    assert churn.plausible is plausible
    assert churn.changed == merged + split + removed
    assert "against 10000 ids active before" in churn.describe()


def test_a_first_run_has_no_churn():
    assert id_churn({"merge": 0, "split": 0, "removed": 0}, 0, 0.05).plausible


@pytest.mark.parametrize(("value", "retrain"), [("1", True), ("true", True), ("YES", True), ("", False),
                                               ("0", False), ("no", False)])
def test_the_retrain_flag_is_read_with_the_other_linkage_settings(value, retrain, monkeypatch):
    from dtsen_pipeline.resources import LinkageSettings, from_environment

    monkeypatch.setenv("DTSEN_LINKAGE_RETRAIN", value)
    assert from_environment(LinkageSettings).process_config_and_initialize().config().retrain is retrain
