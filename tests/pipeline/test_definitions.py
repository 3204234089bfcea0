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


def test_checks_block_what_the_quality_gate_says_they_block():
    """Build suites and lost rows block publication; a staging suite holds back only its own feed's
    new deliveries (not blocking), except that a required feed left empty blocks (docs/rules.md, Quality gate)."""
    graph = build_definitions().resolve_asset_graph()
    blocking = {(tuple(k.asset_key.path), k.name): graph.get_check_spec(k).blocking for k in graph.asset_check_keys}
    specs = load_feed_specs()
    for feed, spec in specs.items():
        assert blocking[(("staging", feed), "gx_suite")] is False
        assert blocking[(("staging", feed), "no_row_lost")] is True
        assert blocking.get((("staging", feed), "in_force_for_publication")) == (
            True if spec.required_for_publication else None)
    assert any(spec.required_for_publication for spec in specs.values())
    for table in ("person", "household", "person_source"):
        assert blocking[(("build", table), "gx_suite")] is True


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


def test_every_asset_is_grouped_by_its_key_prefix():
    """The lineage view groups what belongs together: an asset's group is its key's first component
    (the warehouse schema: raw/*, staging/*, quality/*, golden/*, audit/run, golden_state/*, ...)."""
    graph = build_definitions().resolve_asset_graph()
    misplaced = {"/".join(key.path): graph.get(key).group_name for key in graph.get_all_asset_keys()
                 if graph.get(key).group_name != key.path[0]}
    assert not misplaced


def test_golden_tables_go_stale_after_a_missed_night():
    """Every published golden table carries the 26-hour freshness policy the UI shows; nothing
    else claims one (an asset of the build schema is not what downstream teams read)."""
    from datetime import timedelta

    graph = build_definitions().resolve_asset_graph()
    fresh = {tuple(key.path): graph.get(key).freshness_policy for key in graph.get_all_asset_keys()
             if graph.get(key).freshness_policy is not None}
    from assets.publish import GOLDEN_TABLES

    assert set(fresh) == {("golden", table) for table in GOLDEN_TABLES}
    assert {"person", "household", "person_source"} <= set(GOLDEN_TABLES)
    for policy in fresh.values():
        assert policy.fail_window.to_timedelta() == timedelta(hours=26)
        assert timedelta(hours=24) < policy.warn_window.to_timedelta() < timedelta(hours=26)
