"""What the nightly run published on DuckDB: run ids, history, audit record, masked views."""

import getpass
import json
import re

import pandas as pd
import pytest
import sqlalchemy as sa

from assets.publish import GOLDEN_TABLES
from dtsen_pipeline.publish import resolve_key
from dtsen_pipeline.publish.masking import Treatment, identifier_kind, treatment
from dtsen_pipeline.publish.pseudonym import token
from dtsen_pipeline.warehouse import read_sql, read_table

pytestmark = pytest.mark.slow
SIXTEEN_DIGITS = re.compile(r"(?<![\d.])\d{16}(?!\d)")


def _environment_key() -> str | None:
    """The pseudonym key the run had from its environment (`publication.pseudonym_key`)."""
    from dtsen_pipeline.resources import PublicationSettings, from_environment

    return from_environment(PublicationSettings).process_config_and_initialize().pseudonym_key or None


@pytest.fixture(scope="module")
def engine(duckdb_run):
    assert duckdb_run.success
    eng = sa.create_engine(duckdb_run.settings.warehouse_url)
    yield eng
    eng.dispose()


def test_every_golden_row_carries_the_run_id_and_history_holds_it(duckdb_run, engine):
    assert set(GOLDEN_TABLES) >= {"person", "person_source", "household"}
    for table in GOLDEN_TABLES:
        golden = read_sql(engine, f"SELECT run_id, count(*) AS n FROM golden.{table} GROUP BY run_id")
        history = read_sql(engine, f"SELECT run_id, count(*) AS n, min(published_at) AS p "
                                   f"FROM golden_history.{table} GROUP BY run_id")
        if table in ("person", "person_source", "household"):
            assert golden.n.sum() > 500, table
        if golden.empty:  # a table with no rows this run (e.g. no id changes on a first run)
            assert history.empty, table
            continue
        assert golden.run_id.tolist() == [duckdb_run.run_id], table
        assert history.run_id.tolist() == [duckdb_run.run_id] and history.n[0] == golden.n[0], table
        assert pd.notna(history.p[0])


def test_audit_records_when_who_what_and_how_many(duckdb_run, engine):
    run = read_sql(engine, "SELECT * FROM audit.run WHERE run_id = :r", r=duckdb_run.run_id)
    assert len(run) == 1
    row = run.iloc[0]
    assert row.job_name == "nightly_refresh" and row.status == "PUBLISHED"
    assert row.triggered_by == f"manual:{getpass.getuser()}"
    assert row.started_at < row.finished_at
    counts = json.loads(row.row_counts)
    assert counts == {t: int(read_sql(engine, f"SELECT count(*) AS n FROM golden.{t}").n[0]) for t in GOLDEN_TABLES}
    key = resolve_key("duckdb", _environment_key(), duckdb_run.settings.artifacts_dir)
    assert row.pseudonym_key_id == key.key_id


def test_audit_lists_the_deliveries_the_run_used(duckdb_run, engine):
    audited = read_sql(engine, "SELECT feed, source_file, row_count FROM audit.run_delivery WHERE run_id = :r",
                       r=duckdb_run.run_id)
    registry = read_sql(engine, "SELECT count(*) AS n FROM information_schema.tables "
                                "WHERE table_schema = 'raw' AND table_name = 'delivery'").n[0]
    if registry:
        expected = read_sql(engine, "SELECT feed, source_file, records AS row_count FROM raw.delivery WHERE in_force")
    else:
        feeds = [f for f in audited.feed.unique()]
        expected = pd.concat([read_sql(engine, f"SELECT '{f}' AS feed, source_file, count(*) AS row_count "
                                               f"FROM raw.{f} GROUP BY source_file") for f in feeds])
        assert set(feeds) == {"dtsen", "dukcapil", "bansos", "pekon", "verval"}
    key = ["feed", "source_file"]
    merged = audited.merge(expected, on=key, how="outer", indicator=True, suffixes=("", "_expected"))
    assert (merged["_merge"] == "both").all() and len(merged) > 50
    assert (merged.row_count == merged.row_count_expected).all()
    for path in audited.source_file:
        assert (duckdb_run.landing / path.split("@")[0]).is_file(), "an audited delivery is a landing file"
    total = read_sql(engine, "SELECT deliveries, delivered_rows FROM audit.run WHERE run_id = :r", r=duckdb_run.run_id)
    assert total.deliveries[0] == len(audited) and total.delivered_rows[0] == audited.row_count.sum()


def test_masked_views_hide_identifiers_names_and_birth_dates(duckdb_run, engine):
    person = read_table(engine, "golden", "person")
    household = read_table(engine, "golden", "household")
    secrets = set(person.nik.dropna()) | set(person.no_kk.dropna()) | set(household.no_kk.dropna())
    names = {n for n in pd.concat([person.nama, household.head_nama]).dropna() if " " in n}
    dates = {d.isoformat() for d in pd.to_datetime(person.tgl_lahir.dropna()).dt.date}
    assert len(secrets) > 2000 and len(names) > 1000 and len(dates) > 1000
    for table in GOLDEN_TABLES:
        masked = read_table(engine, "golden_masked", table)
        raw_columns = set(read_table(engine, "golden", table).columns)
        assert not [c for c in masked.columns if identifier_kind(c) or treatment(c) is Treatment.DROP], table
        assert set(masked.columns) <= raw_columns | {"tahun_lahir"}, table
        cells = {str(v) for column in masked.columns for v in masked[column].dropna().unique()}
        assert not cells & secrets, table
        assert not cells & names, table
        assert not {c[:10] for c in cells} & dates, table
        assert not [c for c in cells if SIXTEEN_DIGITS.search(c)], table


def test_masked_tokens_are_keyed_hmacs_and_join_like_the_raw_identifiers(duckdb_run, engine):
    key = resolve_key("duckdb", _environment_key(), duckdb_run.settings.artifacts_dir)
    person = read_table(engine, "golden", "person", ["person_id", "nik", "no_kk"])
    masked = read_table(engine, "golden_masked", "person", ["person_id", "nik_token", "no_kk_token"])
    both = person.merge(masked, on="person_id")
    assert len(both) == len(person) > 2000
    assert (both.nik.isna() == both.nik_token.isna()).all()
    with_nik = both.dropna(subset=["nik"])
    assert (with_nik.nik_token == [token(key, "nik", v) for v in with_nik.nik]).all()
    with_kk = both.dropna(subset=["no_kk"])
    assert (with_kk.no_kk_token == [token(key, "kk", v) for v in with_kk.no_kk]).all()
    raw_join = read_sql(engine, "SELECT count(*) AS n FROM golden.person p JOIN golden.household h USING (no_kk)").n[0]
    token_join = read_sql(engine, "SELECT count(*) AS n FROM golden_masked.person p "
                                  "JOIN golden_masked.household h USING (no_kk_token)").n[0]
    assert token_join == raw_join > 2000
