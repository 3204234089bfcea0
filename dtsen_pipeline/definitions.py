"""The Dagster code location: every asset, check, job, schedule and resource of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass

from dagster import AssetsDefinition, Definitions, ExecutorDefinition, StaticPartitionsDefinition

from assets.golden import flag_rule, programme_rule, sql_model_assets, village, village_code_change
from assets.identity import identity_assets
from assets.ingest import conservation_checks, ingest_and_stage_feeds, quarantine
from assets.jobs import nightly_refresh, nightly_schedule_for, retrain_and_refresh
from assets.linkage import person_linkage
from assets.province import province_refresh, province_schedule, province_tables
from assets.publish import golden_tables
from assets.quality import gx_checks, scorecard
from assets.reports import report_assets
from assets.sensors import alert_failed_runs, alert_held_back_feeds, audit_failed_runs, landing_sensor
from dtsen_pipeline.config import Settings
from dtsen_pipeline.executor import run_executor
from dtsen_pipeline.regencies import scope_regencies
from dtsen_pipeline.resources import default_resources, resolved


@dataclass(frozen=True)
class ExecutorSettings:
    """What the executor is chosen and configured by, as plain values (no `EnvVar` left)."""

    warehouse_url: str
    workers: int
    run_lock_wait: float
    artifacts_dir: str


def executor_settings(resources: dict) -> ExecutorSettings:
    """The warehouse URL, DTSEN_RUN_WORKERS, DTSEN_RUN_LOCK_WAIT and the artifacts folder, read
    when the code location loads (the executor is chosen then, not per run)."""
    warehouse = resolved(resources["warehouse"])
    pipeline = resolved(resources["pipeline"])
    wait = resources["run_lock"].wait_seconds  # initialising the run lock would take the lock
    wait = wait.get_value() if hasattr(wait, "get_value") else wait  # an IntEnvVar when set
    return ExecutorSettings(warehouse.url, pipeline.step_processes, float(wait), pipeline.artifacts_dir)


def executor_for(resources: dict) -> ExecutorDefinition:
    """In-process on DuckDB, steps side by side on PostgreSQL (`dtsen_pipeline.executor`)."""
    chosen = executor_settings(resources)
    return run_executor(chosen.warehouse_url, chosen.workers, chosen.run_lock_wait, chosen.artifacts_dir)


def deployment_regencies(resources: dict) -> tuple[str, ...]:
    """The kabupaten of the deployment's scope, read when the code location loads: the partitions
    are fixed then, as the executor is."""
    return scope_regencies(resolved(resources["pipeline"]).scope)


def by_regency(assets: list[AssetsDefinition], regencies: tuple[str, ...]) -> list[AssetsDefinition]:
    """Every asset partitioned by kabupaten when the scope covers several (`dtsen_pipeline.regencies`):
    each partition's run ingests, checks, links and publishes one regency, in its own warehouse.
    One regency: the assets as they are, no partitions."""
    if len(regencies) <= 1:
        return assets
    partitions = StaticPartitionsDefinition(list(regencies))
    return [a.map_asset_specs(lambda spec: spec.replace_attributes(partitions_def=partitions)) for a in assets]


def build_definitions(settings: Settings | None = None) -> Definitions:
    """The code location; tests pass their own settings (warehouse URL, folders, scope). A scope of
    several kabupaten adds the province step, its job and its schedule (assets.province)."""
    resources = default_resources(settings)
    regencies = deployment_regencies(resources)
    several = len(regencies) > 1
    return Definitions(
        assets=[*by_regency([ingest_and_stage_feeds, quarantine, person_linkage, village, village_code_change,
                             programme_rule, *sql_model_assets, golden_tables, scorecard, flag_rule, *identity_assets,
                             *report_assets], regencies),
                *([province_tables] if several else [])],
        asset_checks=[*conservation_checks, *gx_checks],
        jobs=[nightly_refresh, retrain_and_refresh, *([province_refresh] if several else [])],
        schedules=[nightly_schedule_for(regencies), *([province_schedule] if several else [])],
        # New files in the landing folder start a refresh early; failures are audited and alerted.
        sensors=[landing_sensor, audit_failed_runs, alert_failed_runs, alert_held_back_feeds],
        resources=resources,
        # DuckDB: one process runs the steps in order (an embedded DuckDB warehouse admits one
        # writing process). PostgreSQL: independent steps side by side, DTSEN_RUN_WORKERS at a time.
        executor=executor_for(resources),
    )


defs = build_definitions()
