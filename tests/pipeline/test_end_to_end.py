"""One nightly run on generated Tanggamus feeds: every stage real, nothing lost, linkage scored."""

import pandas as pd
import pytest
import sqlalchemy as sa
from dagster import DagsterEventType

from dtsen_pipeline.ingest.feeds import load_feed_specs
from dtsen_pipeline.warehouse import count_rows, read_sql, read_table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine(duckdb_run):
    eng = sa.create_engine(duckdb_run.settings.warehouse_url)
    yield eng
    eng.dispose()


def test_run_succeeds_and_every_check_passes(duckdb_run):
    assert duckdb_run.success
    records = duckdb_run.instance.get_records_for_run(
        duckdb_run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records
    evaluations = [r.event_log_entry.dagster_event.event_specific_data for r in records]
    assert len(evaluations) >= 13
    failed = [(e.asset_key.to_user_string(), e.check_name) for e in evaluations if not e.passed]
    assert failed == []


def test_no_row_lost_per_feed(duckdb_run, engine):
    for feed in load_feed_specs():
        raw = count_rows(engine, "raw", feed)
        staged = count_rows(engine, "staging", feed)
        quarantined = read_sql(engine, "SELECT count(*) AS n FROM quality.quarantine WHERE feed = :f", f=feed).n[0]
        assert raw > 0, feed
        assert raw == staged + quarantined, feed


def test_every_junk_row_is_quarantined_with_its_kind(duckdb_run, engine):
    junk = pd.read_csv(duckdb_run.landing / "_truth" / "junk.csv")
    quarantine = read_table(engine, "quality", "quarantine")
    merged = junk.merge(quarantine, on=["feed", "source_file", "source_row"], how="left")
    assert merged["reason"].notna().all()
    kinds = merged[merged["kind"].isin(["REPEATED_HEADER", "SUMMARY_ROW", "MALFORMED_ROW", "EMPTY_ROW"])]
    assert (kinds["kind"] == kinds["reason"]).all()


def test_every_truth_record_is_staged_or_quarantined(duckdb_run, engine):
    truth = pd.read_csv(duckdb_run.landing / "_truth" / "records.csv")
    staged = pd.concat([read_table(engine, "staging", f, ["feed", "source_file", "source_row"])
                        for f in ("dtsen", "dukcapil", "bansos", "pekon")])
    quarantine = read_table(engine, "quality", "quarantine", ["feed", "source_file", "source_row"])
    seen = pd.concat([staged, quarantine]).drop_duplicates()
    merged = truth.merge(seen, on=["feed", "source_file", "source_row"], how="left", indicator=True)
    assert (merged["_merge"] == "both").all()


def test_golden_tables_are_populated_and_linked(duckdb_run, engine):
    persons = read_table(engine, "golden", "person")
    sources = read_table(engine, "golden", "person_source")
    households = read_table(engine, "golden", "household")
    truth_persons = pd.read_csv(duckdb_run.landing / "_truth" / "persons.csv")
    staged_people = sum(count_rows(engine, "staging", f) for f in ("dtsen", "dukcapil", "bansos", "pekon"))
    assert len(sources) == staged_people
    assert sources["record_id"].is_unique
    assert set(sources["person_id"]) == set(persons["person_id"])
    assert abs(len(persons) - len(truth_persons)) / len(truth_persons) < 0.05
    assert persons["person_id"].is_unique and households["household_id"].is_unique
    assert households["member_count"].sum() <= len(persons)
    assert households["kecamatan"].notna().mean() > 0.98
    for flag in ("flag_dead_recipient", "flag_inclusion_candidate", "flag_exclusion_candidate",
                 "flag_missing_from_dtsen", "flag_duplicate_records"):
        assert households[flag].any(), flag


def test_linkage_scored_against_truth(duckdb_run, engine):
    evaluation = read_table(engine, "linkage", "evaluation")
    assert len(evaluation) == 1
    row = evaluation.iloc[0]
    assert row["run_id"] == duckdb_run.run_id
    assert row["f1"] >= 0.9
    assert row["precision"] >= 0.9 and row["recall"] >= 0.9
    model = list((duckdb_run.settings.artifacts_dir / "linkage").glob("person_model_*.json"))
    assert len(model) == 1 and model[0].stat().st_size > 1000
