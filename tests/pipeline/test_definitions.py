"""The code location loads: every asset, check, the nightly job and its schedule."""

from dagster import AssetKey, Definitions

from dtsen_pipeline.definitions import build_definitions
from dtsen_pipeline.ingest.feeds import load_feed_specs


def test_definitions_validate_and_contain_every_stage():
    defs = build_definitions()
    Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {"/".join(k.path) for k in graph.get_all_asset_keys()}
    for feed in load_feed_specs():
        assert f"raw/{feed}" in keys and f"staging/{feed}" in keys
    assert {"quality/quarantine", "linkage/person_model", "linkage/person_pairs", "linkage/person_cluster",
            "golden/person", "golden/person_source", "golden/household"} <= keys


def test_every_staging_and_golden_table_has_blocking_checks():
    defs = build_definitions()
    checks = {(tuple(k.asset_key.path), k.name) for k in defs.resolve_asset_graph().asset_check_keys}
    for feed in load_feed_specs():
        assert (("staging", feed), "gx_suite") in checks
        assert (("staging", feed), "no_row_lost") in checks
    for table in ("person", "household", "person_source"):
        assert (("build", table), "gx_suite") in checks


def test_nightly_job_and_schedule():
    defs = build_definitions()
    job = defs.resolve_job_def("nightly_refresh")
    assert AssetKey(["golden", "household"]) in job.asset_layer.asset_graph.get_all_asset_keys()
    schedule = defs.resolve_schedule_def("nightly_refresh_schedule")
    assert schedule.cron_schedule == "0 1 * * *"
    assert schedule.execution_timezone == "Asia/Jakarta"
    assert float(job.tags["dagster/max_runtime"]) > 0


def test_golden_models_depend_on_what_their_sql_reads():
    graph = build_definitions().resolve_asset_graph()
    published = graph.get(AssetKey(["golden", "household"]))
    assert AssetKey(["build", "household"]) in published.parent_keys
    person = graph.get(AssetKey(["build", "person"]))
    assert AssetKey(["intermediate", "person_record"]) in person.parent_keys
    record = graph.get(AssetKey(["intermediate", "person_record"]))
    assert AssetKey(["linkage", "person_cluster"]) in record.parent_keys
