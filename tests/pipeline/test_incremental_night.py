"""A second night through the nightly job: feeds without a new delivery are not staged again
(ingest.staging_state), the linkage step keeps the pairs in force from the warehouse
(linkage.pairs_store) and scores only what changed, and the night publishes the golden persons a
full rebuild of the same night (every feed staged again, every pair scored) publishes, with the
same ids."""

import shutil

import pandas as pd

from dtsen_pipeline.linkage.evaluate import pairwise_scores
from dtsen_pipeline.sample.changed_night import change_night
from dtsen_pipeline.warehouse import bulk_query, engine_for
from tests.support import make_settings, run_nightly, sample_deployment


def _query(path, sql: str) -> pd.DataFrame:
    """Through the run's own (cached) engine: DuckDB opens a file once per process and setting."""
    return bulk_query(engine_for(f"duckdb:///{path}"), sql)


def _linkage_state(path) -> tuple[str, int, int]:
    night = _query(path, "SELECT night FROM linkage.pair_state")["night"].iloc[0]
    pairs = _query(path, "SELECT count(*) AS n FROM linkage.person_pairs")["n"].iloc[0]
    persons = _query(path, "SELECT count(DISTINCT person_id) AS n FROM golden.person_source")["n"].iloc[0]
    return str(night), int(pairs), int(persons)


def _staged_by(path) -> dict[str, str]:
    """The run that staged each feed in force (quality.staging_state)."""
    rows = _query(path, "SELECT feed, run_id FROM quality.staging_state")
    return dict(zip(rows["feed"], rows["run_id"], strict=True))


def _person_sources(path) -> pd.DataFrame:
    return _query(path, "SELECT record_id, person_id FROM golden.person_source").astype(object)


def test_an_incremental_night_publishes_the_persons_a_full_rebuild_publishes(tmp_path, monkeypatch):
    from dagster import DagsterInstance

    from dtsen_pipeline.cli import write_instance_config

    landing, settings, instance = sample_deployment(tmp_path / "nights", persons=1_500, seed=11)
    _, first_ok = run_nightly(settings, instance)
    assert first_ok
    night_one_warehouse = tmp_path / "night_one.duckdb"
    with engine_for(settings.warehouse_url).connect() as conn:  # all of night 1 in the file, none in its WAL
        conn.exec_driver_sql("CHECKPOINT")
    shutil.copyfile(tmp_path / "nights" / "warehouse.duckdb", night_one_warehouse)
    shutil.copytree(tmp_path / "nights" / "artifacts", tmp_path / "rebuild" / "artifacts")

    change = change_night(landing, seed=5)
    assert 0 < change.changed < 0.05 * change.records
    _, second_ok = run_nightly(settings, instance)
    assert second_ok
    night, pairs, persons = _linkage_state(tmp_path / "nights" / "warehouse.duckdb")
    assert night.startswith("incremental:"), night
    staged_by = _staged_by(tmp_path / "nights" / "warehouse.duckdb")
    assert len(set(staged_by.values())) == 2, staged_by  # feeds left unchanged were not staged again

    shutil.copyfile(night_one_warehouse, tmp_path / "rebuild" / "warehouse.duckdb")
    monkeypatch.setenv("DTSEN_LINKAGE_FULL", "1")
    monkeypatch.setenv("DTSEN_RESTAGE", "1")  # every feed staged again from raw
    rebuild = make_settings(tmp_path / "rebuild", landing, f"duckdb:///{tmp_path / 'rebuild' / 'warehouse.duckdb'}")
    home = write_instance_config(tmp_path / "rebuild" / "dagster_home")
    _, rebuilt_ok = run_nightly(rebuild, DagsterInstance.from_config(str(home)))
    assert rebuilt_ok
    full_night, full_pairs, full_persons = _linkage_state(tmp_path / "rebuild" / "warehouse.duckdb")
    assert full_night.startswith("full rebuild")
    assert len(set(_staged_by(tmp_path / "rebuild" / "warehouse.duckdb").values())) == 1

    mine, reference = _person_sources(tmp_path / "nights" / "warehouse.duckdb"), _person_sources(
        tmp_path / "rebuild" / "warehouse.duckdb")
    agreement = pairwise_scores(mine.rename(columns={"person_id": "cluster_id"}),
                                reference.rename(columns={"person_id": "person_key"}))
    assert agreement.records == len(reference)
    assert agreement.precision >= 0.999 and agreement.recall >= 0.999
    same = mine.merge(reference, on="record_id", suffixes=("", "_full"))
    assert len(same) == len(reference) and (same["person_id"] == same["person_id_full"]).mean() >= 0.999
    assert abs(pairs - full_pairs) <= 0.001 * full_pairs and persons == full_persons
