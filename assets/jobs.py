"""The nightly refresh job and its schedule (01:00 Asia/Jakarta)."""


from dagster import AssetSelection, ScheduleDefinition, define_asset_job

from dtsen_pipeline.clock import DEPLOYMENT_TIMEZONE

nightly_refresh = define_asset_job(
    "nightly_refresh",
    selection=AssetSelection.all(),
    description="Ingest every feed, validate, link persons and republish the golden tables.",
    tags={"dagster/max_runtime": "10800"},
)

# Tag on a run that must train a new linkage model (it is promoted only if it does no worse on
# the clerical labels than the promoted one); the environment flag DTSEN_LINKAGE_RETRAIN=1 does
# the same for every run of a deployment.
RETRAIN_TAG = "dtsen/retrain_model"

retrain_and_refresh = define_asset_job(
    "retrain_and_refresh",
    selection=AssetSelection.all(),
    description="The nightly refresh, training a new linkage model first (promoted only if it does no worse "
                "on clerically labelled pairs than the promoted model).",
    tags={"dagster/max_runtime": "10800", RETRAIN_TAG: "true"},
)

nightly_schedule = ScheduleDefinition(
    name="nightly_refresh_schedule",
    job=nightly_refresh,
    cron_schedule="0 1 * * *",
    execution_timezone=DEPLOYMENT_TIMEZONE,
)
