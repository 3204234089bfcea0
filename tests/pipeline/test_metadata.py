"""What the UI shows of one nightly run (#14 items 4-6): URL links to the artifact server, numbers
Dagster plots across runs, the golden tables' column schemas from docs/golden.md, and progress
lines in the event log while the long steps run."""

import re
import urllib.request

import pytest
from dagster import (
    DagsterEventType,
    FloatMetadataValue,
    IntMetadataValue,
    TableSchemaMetadataValue,
    UrlMetadataValue,
)

from dtsen_pipeline.golden.flags import FLAG_CODES
from dtsen_pipeline.ingest.feeds import load_feed_specs, person_feeds
from dtsen_pipeline.publish.column_docs import golden_descriptions
from dtsen_pipeline.reports.artifact_server import DEFAULT_BASE_URL, serve_in_thread
from dtsen_pipeline.warehouse import read_sql, read_table
from tests.support import check_evaluations

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def metadata(duckdb_run) -> dict[str, dict]:
    """The run's materialization metadata by asset key (the last materialization of each)."""
    records = duckdb_run.instance.get_records_for_run(
        duckdb_run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
    out = {}
    for r in records:
        m = r.event_log_entry.dagster_event.event_specific_data.materialization
        out[m.asset_key.to_user_string()] = m.metadata
    return out


def test_golden_person_lists_its_columns_with_their_meaning(metadata, engine):
    schema = metadata["golden/person"]["dagster/column_schema"]
    assert isinstance(schema, TableSchemaMetadataValue)
    columns = {c.name: c for c in schema.schema.columns}
    published = list(read_sql(engine, "SELECT * FROM golden.person LIMIT 0").columns)
    assert list(columns) == published
    assert columns["flag_reasons"].description == golden_descriptions()["person"]["flag_reasons"]
    assert "HMAC" in columns["nik_token"].description and columns["run_id"].description
    assert columns["tgl_lahir"].type == "date" and columns["is_dead"].type == "boolean"


def test_every_published_golden_column_is_described(metadata):
    for key, values in metadata.items():
        if key.startswith("golden/"):
            undescribed = [c.name for c in values["dagster/column_schema"].schema.columns if not c.description]
            assert undescribed == [], f"{key}: columns missing from docs/golden.md"


def test_quarantined_rows_per_feed_are_numbers_equal_to_the_quarantine(metadata, engine):
    counts = read_sql(engine, "SELECT feed, count(*) AS n FROM quality.quarantine GROUP BY feed")
    expected = dict(zip(counts["feed"], counts["n"].astype(int), strict=True))
    quarantine = metadata["quality/quarantine"]
    for feed in load_feed_specs():
        value = quarantine[f"quarantined/{feed}"]
        assert isinstance(value, IntMetadataValue)
        assert value.value == expected.get(feed, 0)
        assert metadata[f"staging/{feed}"]["rows_quarantined"].value == expected.get(feed, 0)
    assert sum(expected.values()) > 0


def test_scorecard_shares_per_feed_are_floats(metadata, engine):
    card = read_table(engine, "quality", "scorecard")
    feeds = card[card["level"] == "feed"].set_index("feed")
    values = metadata["quality/scorecard"]
    for feed in person_feeds(load_feed_specs()):
        value = values[f"{feed}/valid_nik_share"]
        assert isinstance(value, FloatMetadataValue)
        assert value.value == pytest.approx(float(feeds.loc[feed, "valid_nik_share"]))
        assert 0.5 < value.value <= 1.0
    assert isinstance(values["dtsen/padan_share"], FloatMetadataValue)


def test_flags_by_type_are_numbers_equal_to_golden_flag(metadata, engine):
    counts = read_sql(engine, "SELECT flag, count(*) AS n FROM golden.flag GROUP BY flag")
    expected = dict(zip(counts["flag"], counts["n"].astype(int), strict=True))
    values = metadata["golden/flag"]
    assert {code: values[f"flags/{code}"].value for code in FLAG_CODES} == {c: expected.get(c, 0) for c in FLAG_CODES}
    assert all(isinstance(values[f"flags/{c}"], IntMetadataValue) for c in FLAG_CODES)
    assert sum(expected.values()) > 0 and "| `DEAD_RECIPIENT` |" in values["flags_by_type"].value


def test_linkage_figures_are_numbers(metadata, engine):
    cluster = metadata["linkage/person_cluster"]
    clusters = read_sql(engine, "SELECT count(DISTINCT cluster_id) AS n FROM linkage.person_cluster").n[0]
    assert isinstance(cluster["clusters"], IntMetadataValue) and cluster["clusters"].value == clusters
    pairs = read_sql(engine, "SELECT count(*) AS n FROM linkage.person_pairs").n[0]
    assert cluster["pairs_above_predict_threshold"].value == pairs
    queue = metadata["linkage/review_queue"]
    assert isinstance(queue["review_queue_pairs"], IntMetadataValue)
    assert queue["review_queue_pairs"].value == queue["dagster/row_count"].value


def test_artifacts_are_url_links_that_the_artifact_server_serves(duckdb_run, metadata):
    artifacts = duckdb_run.settings.artifacts_dir
    links = [metadata["reports/summary"]["report"], metadata["linkage/person_model"]["match_weights_chart"],
             metadata["reports/worklists"]["folder"], metadata["linkage/review_queue"]["folder"]]
    check = check_evaluations(duckdb_run.instance, duckdb_run.run_id)[("build/person", "gx_suite")]
    links += [check.metadata["data_docs"], check.metadata["data_docs_validation"]]
    assert all(isinstance(link, UrlMetadataValue) for link in links)
    assert all(link.url.startswith(DEFAULT_BASE_URL + "/") for link in links)
    assert not [link.url for link in links if re.search(r"\d{16}", link.url)]
    server, base = serve_in_thread(artifacts)
    try:
        for link in links:
            with urllib.request.urlopen(link.url.replace(DEFAULT_BASE_URL, base), timeout=30) as response:
                assert response.status == 200
                body = response.read()
                assert body
    finally:
        server.shutdown()
        server.server_close()


def test_long_steps_log_their_progress(duckdb_run):
    logs = [e.user_message for e in duckdb_run.instance.all_logs(duckdb_run.run_id) if e.dagster_event is None]
    for feed in load_feed_specs():
        assert any(re.match(rf"feed {feed} ingested: [\d,]+ records added from \d+ new file\(s\) in [\d.]+s", m)
                   for m in logs), feed
        assert any(re.match(rf"feed {feed} staged: [\d,]+ in, [\d,]+ staged, [\d,]+ quarantined.* in [\d.]+s", m)
                   for m in logs), feed
    for phase in ("prepare", "(?:train|load)", "predict", "cluster"):
        assert any(re.match(rf"linkage {phase}: .*[\d,]+ records|linkage {phase}: [\d,]+ candidate pairs", m)
                   for m in logs), phase
    progress = [m for m in logs if m.startswith(("feed ", "linkage "))]
    assert not [m for m in progress if re.search(r"\d{16}", m)]  # counts, never identifiers
