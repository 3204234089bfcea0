"""Model governance in nightly runs: the first run trains and promotes, the next one scores with
the promoted model, a run that would reshuffle person ids is stopped before publication."""

import os
import shutil

import pandas as pd
import pytest
import sqlalchemy as sa
from dagster import AssetKey, DagsterEventType, DagsterInstance

from dtsen_pipeline.cli import write_instance_config
from dtsen_pipeline.linkage.governance import ModelRegistry, label_table, score_labels
from dtsen_pipeline.linkage.model import load_model
from dtsen_pipeline.linkage.prepare import linkage_input
from dtsen_pipeline.warehouse import engine_for, read_table
from tests.support import check_evaluations, make_settings, run_nightly

pytestmark = pytest.mark.slow

MODEL = AssetKey(["linkage", "person_model"])


def _model_metadata(instance, run_id):
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
    [materialization] = [r.event_log_entry.asset_materialization for r in records
                         if r.event_log_entry.asset_materialization.asset_key == MODEL]
    return {k: v.value for k, v in materialization.metadata.items()}


@pytest.fixture(scope="module")
def later_runs(duckdb_run, tmp_path_factory):
    with engine_for(duckdb_run.settings.warehouse_url).connect() as conn:
        conn.exec_driver_sql("CHECKPOINT")
    tmp = tmp_path_factory.mktemp("governed")
    shutil.copy(duckdb_run.settings.warehouse_url.removeprefix("duckdb:///"), tmp / "warehouse.duckdb")
    shutil.copytree(duckdb_run.settings.artifacts_dir / "linkage" / "models", tmp / "artifacts" / "linkage" / "models")
    settings = make_settings(tmp, duckdb_run.landing, f"duckdb:///{tmp / 'warehouse.duckdb'}")
    instance = DagsterInstance.from_config(str(write_instance_config(tmp / "dagster_home")))
    second, second_ok = run_nightly(settings, instance)
    engine = sa.create_engine(settings.warehouse_url)
    published = read_table(engine, "golden", "person", ["person_id"])["person_id"].sort_values().tolist()
    engine.dispose()
    os.environ["DTSEN_LINKAGE_CLUSTER_THRESHOLD"] = "1.01"  # no scored pair is an edge: ids shatter
    try:
        third, third_ok = run_nightly(settings, instance)
    finally:
        del os.environ["DTSEN_LINKAGE_CLUSTER_THRESHOLD"]
    engine = sa.create_engine(settings.warehouse_url)
    yield {"settings": settings, "instance": instance, "second": second, "second_ok": second_ok,
           "third": third, "third_ok": third_ok, "published_after_second": published, "engine": engine}
    engine.dispose()


def test_the_first_run_trains_and_promotes_its_model(duckdb_run):
    meta = _model_metadata(duckdb_run.instance, duckdb_run.run_id)
    assert meta["trained_tonight"] is True and meta["promoted_tonight"] is True
    assert meta["training_reason"] == "no promoted model yet"
    assert meta["model_trained_in_run"] == duckdb_run.run_id
    assert meta["clerical_label_scores"]["labelled_pairs"] > 0


def test_the_next_run_scores_with_the_promoted_model(duckdb_run, later_runs):
    assert later_runs["second_ok"]
    meta = _model_metadata(later_runs["instance"], later_runs["second"])
    assert meta["trained_tonight"] is False and meta["training_reason"] == ""
    assert meta["model_trained_in_run"] == duckdb_run.run_id
    assert meta["model_json"].endswith(f"_{duckdb_run.run_id}.json")
    run_folder = later_runs["settings"].artifacts_dir / "linkage" / later_runs["second"]
    assert not list(run_folder.glob("person_model_v*.json"))  # nothing trained tonight
    churn = check_evaluations(later_runs["instance"], later_runs["second"])[("identity/person_id", "id_churn")]
    assert churn.passed and churn.metadata["share_changed"].value == 0.0


def test_clerical_labels_are_scored_every_run(later_runs):
    evaluation = read_table(later_runs["engine"], "linkage", "evaluation")
    labels = evaluation[(evaluation["run_id"] == later_runs["second"]) & (evaluation["scope"] == "clerical_labels")]
    assert len(labels) == 1
    row = labels.iloc[0]
    assert row["labelled_pairs"] > 0 and 0.5 <= row["precision"] <= 1 and 0.5 <= row["recall"] <= 1


def test_a_run_that_would_reshuffle_person_ids_is_not_published(later_runs):
    assert not later_runs["third_ok"]
    churn = check_evaluations(later_runs["instance"], later_runs["third"])[("identity/person_id", "id_churn")]
    assert not churn.passed and churn.metadata["share_changed"].value > 0.05
    published = read_table(later_runs["engine"], "golden", "person", ["person_id"])["person_id"]
    assert published.sort_values().tolist() == later_runs["published_after_second"]


def test_the_model_is_scored_on_a_small_labelled_set(duckdb_run):
    """Splink's labels table: a duplicate the model sees, one it misses, a non-duplicate it keeps
    apart and one it wrongly takes for a duplicate."""
    person = {"feed": "dtsen", "nik": "1806014107850001", "no_kk": "1806010101100001", "name_key": "SITI AMINAH",
              "tgl_lahir": pd.Timestamp("1985-07-21"), "dob_imprecise": False, "jenis_kelamin": "P",
              "kode_desa": "18.06.01.2016", "kode_kecamatan": "18.06.01", "alamat": "Dusun I"}
    other = {**person, "nik": "1806025203900002", "no_kk": "1806020202200002", "name_key": "BUDI SANTOSO",
             "tgl_lahir": pd.Timestamp("1990-03-12"), "jenis_kelamin": "L", "kode_desa": "18.06.02.2012",
             "kode_kecamatan": "18.06.02", "alamat": "Jl. Raya Pugung"}
    staged = pd.DataFrame([{**person, "record_id": "a"}, {**person, "record_id": "a2"},
                           {**other, "record_id": "b"}, {**person, "record_id": "c"}])
    records = linkage_input(staged)
    must = pd.DataFrame({"unique_id_l": ["a", "a"], "unique_id_r": ["a2", "b"]})
    cannot = pd.DataFrame({"unique_id_l": ["a2", "a"], "unique_id_r": ["b", "c"]})
    promoted = ModelRegistry(duckdb_run.settings.artifacts_dir / "linkage" / "models").promoted()
    scores = score_labels(load_model(records, promoted.path), label_table(must, cannot), 0.5)
    assert (scores.labelled_pairs, scores.positives) == (4, 2)
    assert (scores.true_positives, scores.false_positives, scores.false_negatives) == (1, 1, 1)
    assert scores.precision == 0.5 and scores.recall == 0.5
