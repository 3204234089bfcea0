"""The nightly refresh job and its schedule (01:00 Asia/Jakarta)."""


from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    define_asset_job,
    schedule,
)

from dtsen_pipeline.clock import DEPLOYMENT_TIMEZONE

# Both jobs rebuild the whole warehouse: the instance's run queue (deploy/*/dagster.yaml,
# `tag_concurrency_limits`) lets one run with this tag run at a time, so the schedule, the landing
# sensor and a launch from the UI queue behind each other instead of waiting on the run lock.
REFRESH_TAG = {"dtsen/refresh": "warehouse"}

# A regency's assets: everything but the province step (assets.province), which has its own job.
REGENCY_ASSETS = AssetSelection.all() - AssetSelection.groups("province")

nightly_refresh = define_asset_job(
    "nightly_refresh",
    selection=REGENCY_ASSETS,
    description="Ingest every feed, validate, link persons and republish the golden tables.",
    tags={"dagster/max_runtime": "10800", **REFRESH_TAG},
)

# Tag on a run that must train a new linkage model (it is promoted only if it does no worse on
# the clerical labels than the promoted one); the environment flag DTSEN_LINKAGE_RETRAIN=1 does
# the same for every run of a deployment.
RETRAIN_TAG = "dtsen/retrain_model"

retrain_and_refresh = define_asset_job(
    "retrain_and_refresh",
    selection=REGENCY_ASSETS,
    description="The nightly refresh, training a new linkage model first (promoted only if it does no worse "
                "on clerically labelled pairs than the promoted model).",
    tags={"dagster/max_runtime": "10800", RETRAIN_TAG: "true", **REFRESH_TAG},
)

nightly_schedule = ScheduleDefinition(
    name="nightly_refresh_schedule",
    job=nightly_refresh,
    cron_schedule="0 1 * * *",
    execution_timezone=DEPLOYMENT_TIMEZONE,
    # On from the start, in production and on a workstation alike (`make ui` shows it on): a
    # nightly refresh nobody switched on is the failure to avoid. Stop it in the UI where unwanted.
    default_status=DefaultScheduleStatus.RUNNING,
)


def nightly_schedule_for(regencies: tuple[str, ...]) -> ScheduleDefinition:
    """The nightly schedule of a deployment: one run, or, when the scope covers several kabupaten,
    one run per regency partition (they queue behind each other on the refresh tag; each fails,
    and can be re-run, on its own)."""
    if len(regencies) <= 1:
        return nightly_schedule

    @schedule(name=nightly_schedule.name, job=nightly_refresh, cron_schedule="0 1 * * *",
              execution_timezone=DEPLOYMENT_TIMEZONE, default_status=DefaultScheduleStatus.RUNNING,
              description="One nightly_refresh run per kabupaten of the scope, at 01:00 Asia/Jakarta.")
    def nightly_refresh_by_regency(context: ScheduleEvaluationContext) -> list[RunRequest]:
        night = context.scheduled_execution_time.strftime("%Y-%m-%d")
        return [RunRequest(run_key=f"{night}-{regency}", partition_key=regency) for regency in regencies]

    return nightly_refresh_by_regency
