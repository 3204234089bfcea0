"""One nightly run on generated Tanggamus feeds: every stage real, nothing lost, linkage scored."""

import re

import pandas as pd
import pytest
from dagster import DagsterEventType

from dtsen_pipeline.ingest.feeds import load_feed_specs
from dtsen_pipeline.warehouse import count_rows, read_sql, read_table

pytestmark = pytest.mark.slow


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
    assert (kinds["kind"] == kinds["reason"]).all(), kinds.loc[kinds["kind"] != kinds["reason"], ["feed", "kind", "reason"]].to_string()


def test_every_truth_record_is_staged_or_quarantined(duckdb_run, engine):
    truth = pd.read_csv(duckdb_run.landing / "_truth" / "records.csv")
    staged = pd.concat([read_table(engine, "staging", f, ["feed", "source_file", "source_row"])
                        for f in ("dtsen", "dukcapil", "bansos", "pekon")])
    quarantine = read_table(engine, "quality", "quarantine", ["feed", "source_file", "source_row"])
    seen = pd.concat([staged, quarantine]).drop_duplicates()
    merged = truth.merge(seen, on=["feed", "source_file", "source_row"], how="left", indicator=True)
    assert (merged["_merge"] == "both").all()


def test_every_true_person_the_staged_feeds_mention_is_a_golden_person(duckdb_run, engine):
    """Issue #10: no person is lost between staging and publication (an exclusion error)."""
    truth = pd.read_csv(duckdb_run.landing / "_truth" / "records.csv", dtype={"source_row": "int64"})
    staged = pd.concat([read_table(engine, "staging", f, ["feed", "source_file", "source_row"])
                        for f in ("dtsen", "dukcapil", "bansos", "pekon")])
    mentioned = truth.merge(staged, on=["feed", "source_file", "source_row"])
    sources = read_table(engine, "golden", "person_source", ["feed", "source_file", "source_row", "person_id"])
    published = mentioned.merge(sources, on=["feed", "source_file", "source_row"])
    persons = set(read_table(engine, "golden", "person", ["person_id"])["person_id"])
    assert mentioned["person_key"].nunique() > 2_500
    assert set(published["person_key"]) == set(mentioned["person_key"])
    assert set(published["person_id"]) <= persons


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
    assert set(evaluation["run_id"]) == {duckdb_run.run_id}
    overall = evaluation[evaluation["scope"] == "all"].set_index("level")
    assert overall.loc["pairwise", "f1"] >= 0.95
    assert overall.loc["cluster", "f1"] >= 0.95
    assert {"dtsen-dukcapil", "bansos-dtsen", "clerical_labels", "different_villages", "dtsen_listed_twice",
            "merged_persons"} <= set(evaluation["scope"])
    by_scope = evaluation.set_index("scope")
    assert by_scope.loc["dtsen_listed_twice", "recall"] >= 0.9
    assert by_scope.loc["merged_persons", "clusters"] <= by_scope.loc["merged_persons", "true_persons"] / 1000
    run_folder = duckdb_run.settings.artifacts_dir / "linkage" / duckdb_run.run_id
    model = [p for p in run_folder.glob("person_model_v*.json") if not p.name.endswith(".meta.json")]
    assert len(model) == 1 and model[0].stat().st_size > 1000
    assert (run_folder / "charts" / "match_weights.html").stat().st_size > 10_000


def test_review_queue_files_are_written_by_code(duckdb_run, engine):
    run_folder = duckdb_run.settings.artifacts_dir / "linkage" / duckdb_run.run_id / "review"
    files = sorted(run_folder.glob("review_ganda_*"))
    assert files, "no review files"
    for path in files:
        assert re.fullmatch(r"review_ganda_(\d{6}|LUAR_WILAYAH)_\d{4}-\d{2}\.(csv|xlsx)", path.name)
    queue = pd.concat([pd.read_csv(p, dtype=str) for p in files if p.suffix == ".csv"])
    assert queue["ID_PASANGAN"].is_unique
    assert not queue["NIK_A_SAMAR"].dropna().str.fullmatch(r"\d{16}").any()
    assert set(queue["ALASAN"]) <= {"UNCERTAIN", "NIK_CONFLICT", "NIK_NEAR_MISS", "SEX_CONFLICT",
                                    "BIRTH_YEAR_CONFLICT", "OVERSIZE", "CANNOT_LINK", "THIN_EVIDENCE"}


def test_the_printed_summary_labels_its_columns_and_gives_every_output_s_path(duckdb_run, engine):
    from pathlib import Path

    from dtsen_pipeline.summary import summary_lines

    lines = summary_lines(engine, duckdb_run.settings.artifacts_dir, duckdb_run.run_id)
    text = "\n".join(lines)
    assert "<artifacts>" not in text
    assert any("raw rows" in line and "quarantined" in line for line in lines)
    assert any("raised" in line and "not yet verified" in line for line in lines)
    outputs = lines[lines.index(f"Outputs of run {duckdb_run.run_id}:") + 1:]
    paths = {line.split(":", 1)[0].strip(): Path(line.split(":", 1)[1].strip()) for line in outputs}
    assert len(paths) == 5 and all(p.exists() for p in paths.values()), outputs
    assert paths["report (open in a browser)"].suffix == ".html"
    assert paths["Data Docs (quality checks)"].name == "index.html"
