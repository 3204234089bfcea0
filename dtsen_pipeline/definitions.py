"""The Dagster code location: every asset, check, job, schedule and resource of the pipeline."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from assets.golden import flag_rule, programme_rule, sql_model_assets, village, village_code_change
from assets.identity import identity_assets
from assets.ingest import conservation_checks, ingest_and_stage_feeds, quarantine
from assets.jobs import nightly_refresh, nightly_schedule, retrain_and_refresh
from assets.linkage import person_linkage
from assets.publish import golden_tables
from assets.quality import gx_checks, scorecard
from assets.reports import report_assets
from assets.sensors import alert_failed_runs, alert_held_back_feeds, audit_failed_runs, landing_sensor
from dtsen_pipeline.config import Settings
from dtsen_pipeline.resources import default_resources


def build_definitions(settings: Settings | None = None) -> Definitions:
    """The code location; tests pass their own settings (warehouse URL, folders)."""
    return Definitions(
        assets=[ingest_and_stage_feeds, quarantine, person_linkage, village, village_code_change, programme_rule,
                *sql_model_assets, golden_tables, scorecard, flag_rule, *identity_assets, *report_assets],
        asset_checks=[*conservation_checks, *gx_checks],
        jobs=[nightly_refresh, retrain_and_refresh],
        schedules=[nightly_schedule],
        # New files in the landing folder start a refresh early; failures are audited and alerted.
        sensors=[landing_sensor, audit_failed_runs, alert_failed_runs, alert_held_back_feeds],
        resources=default_resources(settings),
        # One process runs the steps in order: an embedded DuckDB warehouse allows one writer,
        # and a step per process would pay the Great Expectations import every time.
        executor=in_process_executor,
    )


defs = build_definitions()
