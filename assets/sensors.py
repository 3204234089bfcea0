"""A sensor on the landing folder: new or changed delivery files start a nightly_refresh run.

The nightly schedule stays; the sensor only saves the wait when an agency delivers during the
day. Its cursor is the listing it last acted on (file -> size and modification time), so a run
is requested once per change, not on every tick; its first tick starts from the files the
delivery registry holds, so files a run has already loaded never start another. A file still being copied (modified within
the last `SETTLE_SECONDS`) is left for a later tick, so a half-written file never starts a run.
Removing a file starts nothing: the landing folder is an inbox, deliveries stay registered.
"""


import json
import time

import sqlalchemy as sa
from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    run_status_sensor,
    sensor,
)

from assets.ingest import FEEDS, HELD_BACK_TAG, SETTLE_SECONDS
from assets.jobs import nightly_refresh, retrain_and_refresh
from dtsen_pipeline.alerts import FEEDS_HELD_BACK, RunAlert, failure_alert, held_back_feeds, send_alert
from dtsen_pipeline.clock import utc_now
from dtsen_pipeline.ingest.landing import changed_files, landing_listing, listing_key, registered_listing
from dtsen_pipeline.ingest.raw_store import registered_files
from dtsen_pipeline.publish.audit import record_failed_run, run_info_of
from dtsen_pipeline.regencies import PARTITION_TAG, scope_regencies
from dtsen_pipeline.resources import AlertSettings, PipelineSettings, WarehouseResource


@sensor(
    name="landing_sensor",
    job=nightly_refresh,
    minimum_interval_seconds=120,
    default_status=DefaultSensorStatus.RUNNING,
    description="Requests a nightly_refresh run when new or changed files arrive in the landing folder "
                "(one run per kabupaten whose subfolder changed, when the scope covers several).",
)
def landing_sensor(context: SensorEvaluationContext, pipeline: PipelineSettings, warehouse: WarehouseResource):
    regencies = scope_regencies(pipeline.scope)
    if len(regencies) == 1:
        previous = json.loads(context.cursor) if context.cursor else None
        found = _landing_changes(previous, pipeline.landing, warehouse)
        if isinstance(found, SkipReason):
            return found
        listing, changed = found
        context.update_cursor(json.dumps(listing, sort_keys=True))
        return _landing_request(context, listing, changed, None) if changed else SkipReason(
            f"no new or changed files among {len(listing)} in the landing folder")
    # Several regencies: the cursor holds each one's listing; each changed subfolder starts its partition.
    cursor = json.loads(context.cursor) if context.cursor else {}
    requests = []
    for regency in regencies:
        found = _landing_changes(cursor.get(regency), pipeline.for_regency(regency).landing,
                                 warehouse.for_regency(regency))
        if isinstance(found, SkipReason):  # that regency's run holds its warehouse: it is asked next tick
            continue
        listing, changed = found
        cursor[regency] = listing
        if changed:
            requests.append(_landing_request(context, listing, changed, regency))
    context.update_cursor(json.dumps(cursor, sort_keys=True))
    return requests or SkipReason(f"no new or changed files in the landing folders of {len(regencies)} kabupaten")


def _landing_changes(previous: dict | None, landing, warehouse: WarehouseResource) -> tuple[dict, list[str]] | SkipReason:
    """The landing folder's settled files and those new or changed since `previous`."""
    listing = landing_listing(landing, FEEDS.values(), settled_before=time.time() - SETTLE_SECONDS)
    # Without a cursor (a new instance, `make ui` after `make run`), what the registry holds is
    # not new: only files no run has examined start one.
    if previous is None:
        try:
            with warehouse.closing_engine() as engine:
                previous = registered_listing(listing, registered_files(engine))
        except sa.exc.OperationalError:  # a run holds the embedded DuckDB file: ask again next tick
            return SkipReason("the warehouse is in use by a run; the registry is read on a later tick")
    # Files that vanished are dropped from the cursor; files still settling are not in `listing` yet.
    return listing, changed_files(previous, listing)


def _landing_request(context: SensorEvaluationContext, listing: dict, changed: list[str],
                     regency: str | None) -> RunRequest:
    feeds = sorted({path.split("/", 1)[0] for path in changed})
    where = f" of kabupaten {regency}" if regency else ""
    context.log.info(f"{len(changed)} new or changed file(s){where} for feed(s) {', '.join(feeds)}")
    return RunRequest(
        run_key=f"landing-{regency + '-' if regency else ''}{listing_key(listing)}",
        partition_key=regency,
        tags={"dtsen/trigger": "landing_sensor", "dtsen/changed_files": str(len(changed)),
              "dtsen/feeds": ",".join(feeds)},
    )


# The run sensors watch every run and keep the refresh jobs themselves: `monitored_jobs` would
# only match runs launched through the code location, not `dtsen run` (make run, a cron job).
REFRESH_JOBS = frozenset({nightly_refresh.name, retrain_and_refresh.name})


def not_a_refresh(run) -> SkipReason | None:
    """The skip a run sensor returns for a run of any other job; None for a refresh run."""
    if run.job_name in REFRESH_JOBS:
        return None
    return SkipReason(f"run {run.run_id} is a {run.job_name} run, not a refresh")


def failed_steps(context: RunFailureSensorContext) -> list[str]:
    return [event.step_key for event in context.get_step_failure_events() if event.step_key]


@run_failure_sensor(
    name="audit_failed_runs",
    monitor_all_code_locations=True,
    default_status=DefaultSensorStatus.RUNNING,
    description="Writes audit.run_failure for a refresh run (launched from Dagster or by `dtsen run`) that "
                "failed before publishing, including one whose process died (marked failed by run monitoring).",
)
def audit_failed_runs(context: RunFailureSensorContext, warehouse: WarehouseResource) -> SkipReason | None:
    run = context.dagster_run
    if skip := not_a_refresh(run):
        return skip
    stats = context.instance.get_run_stats(run.run_id)
    info = run_info_of(run.run_id, run.job_name, run.tags, stats.start_time)
    steps = failed_steps(context)
    # A regency's run failed: its audit goes to that regency's warehouse.
    with warehouse.for_regency(run.tags.get(PARTITION_TAG)).closing_engine() as engine:
        record_failed_run(engine, info, utc_now(), steps)
    context.log.info(f"audit: run {run.run_id} failed in {len(steps)} step(s)")
    return None


def failed_blocking_checks(instance: DagsterInstance, run_id: str) -> list[str]:
    """`asset/key:check` of every blocking check that failed in the run (what stopped publication)."""
    out = []
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data if entry.dagster_event else None
        if evaluation is not None and not evaluation.passed and evaluation.blocking:
            out.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    return out


@run_failure_sensor(
    name="alert_failed_runs",
    monitor_all_code_locations=True,
    default_status=DefaultSensorStatus.RUNNING,
    description="Emails (and posts to the webhook) a failed refresh: a blocked publication with the failed "
                "blocking checks, or a run failure with its failed steps (names and rule ids only).",
)
def alert_failed_runs(context: RunFailureSensorContext, alerts: AlertSettings) -> SkipReason | None:
    run = context.dagster_run
    if skip := not_a_refresh(run):
        return skip
    steps = failed_steps(context)
    alert = failure_alert(run.run_id, run.job_name, steps, failed_blocking_checks(context.instance, run.run_id),
                          run.tags.get(HELD_BACK_TAG))
    sent = send_alert(alert, alerts.channels())
    context.log.info(f"alert {alert.kind} for run {run.run_id}: {', '.join(sent) or 'no channel configured'}")
    return None


@run_status_sensor(
    name="alert_held_back_feeds",
    run_status=DagsterRunStatus.SUCCESS,
    monitor_all_code_locations=True,
    default_status=DefaultSensorStatus.RUNNING,
    description="Emails (and posts to the webhook) a successful refresh that held back a feed's new deliveries.",
)
def alert_held_back_feeds(context: RunStatusSensorContext, alerts: AlertSettings) -> SkipReason | None:
    run = context.dagster_run
    if skip := not_a_refresh(run):
        return skip
    held = held_back_feeds(run.tags.get(HELD_BACK_TAG))
    if not held:
        return SkipReason(f"run {run.run_id} held back no feed")
    sent = send_alert(RunAlert(FEEDS_HELD_BACK, run.run_id, run.job_name, held_back=held), alerts.channels())
    context.log.info(f"alert {FEEDS_HELD_BACK} for run {run.run_id} ({len(held)} feed(s)): "
                     f"{', '.join(sent) or 'no channel configured'}")
    return None
