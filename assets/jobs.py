"""The nightly refresh job and its schedule (01:00 Asia/Jakarta)."""


from dagster import AssetSelection, ScheduleDefinition, define_asset_job

nightly_refresh = define_asset_job(
    "nightly_refresh",
    selection=AssetSelection.all(),
    description="Ingest every feed, validate, link persons and republish the golden tables.",
    tags={"dagster/max_runtime": "10800"},
)

nightly_schedule = ScheduleDefinition(
    name="nightly_refresh_schedule",
    job=nightly_refresh,
    cron_schedule="0 1 * * *",
    execution_timezone="Asia/Jakarta",
)
