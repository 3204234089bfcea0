"""A run that fails before publishing still leaves an audit record (who, when, which steps)."""

from dagster import DagsterEventType, DagsterInstance, build_run_status_sensor_context, job, op

from assets.sensors import audit_failed_runs
from dtsen_pipeline.resources import WarehouseResource
from dtsen_pipeline.warehouse import read_table


@op
def load_feed() -> int:
    return 1


@op
def validate(rows: int) -> None:
    raise ValueError(f"feed dtsen: {rows} row(s) broke a blocking rule")


@job(name="nightly_refresh")  # the audit keeps refresh runs only
def failing_refresh():
    validate(load_feed())


def test_failed_run_is_audited_without_error_text(tmp_path):
    instance = DagsterInstance.ephemeral()
    result = failing_refresh.execute_in_process(instance=instance, raise_on_error=False,
                                                tags={"dagster/schedule_name": "nightly_refresh_schedule"})
    assert not result.success
    failure = instance.get_records_for_run(result.run_id, of_type=DagsterEventType.RUN_FAILURE).records[0]
    warehouse = WarehouseResource(url=f"duckdb:///{tmp_path / 'w.duckdb'}")
    with build_run_status_sensor_context(
            sensor_name="audit_failed_runs", dagster_instance=instance,
            dagster_run=instance.get_run_by_id(result.run_id),
            dagster_event=failure.event_log_entry.dagster_event,
            resources={"warehouse": warehouse}) as status:
        context = status.for_run_failure()
        audit_failed_runs(context)
        audit_failed_runs(context)  # a repeated evaluation does not duplicate the record
    rows = read_table(warehouse.engine(), "audit", "run_failure")
    assert rows["run_id"].tolist() == [result.run_id]
    row = rows.iloc[0]
    assert row["job_name"] == "nightly_refresh"
    assert row["failed_steps"] == '["validate"]'
    assert row["triggered_by"] == "schedule:nightly_refresh_schedule"
    assert row["failed_at"] >= row["started_at"]
    assert "broke" not in " ".join(map(str, row.values))
    warehouse.engine().dispose()


def test_a_failed_dtsen_run_audits_itself_and_the_sensor_adds_no_second_row(tmp_path):
    from dtsen_pipeline.cli import audit_failure
    from dtsen_pipeline.config import Settings

    instance = DagsterInstance.ephemeral()
    result = failing_refresh.execute_in_process(instance=instance, raise_on_error=False)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    settings = Settings(warehouse_url=url, landing_dir=tmp_path, artifacts_dir=tmp_path, truth_dir=tmp_path,
                        scope="18.06")
    audit_failure(settings, instance, result.run_id, ["validate"])
    warehouse = WarehouseResource(url=url)
    failure = instance.get_records_for_run(result.run_id, of_type=DagsterEventType.RUN_FAILURE).records[0]
    with build_run_status_sensor_context(
            sensor_name="audit_failed_runs", dagster_instance=instance, dagster_run=instance.get_run_by_id(result.run_id),
            dagster_event=failure.event_log_entry.dagster_event, resources={"warehouse": warehouse}) as status:
        audit_failed_runs(status.for_run_failure())
    rows = read_table(warehouse.engine(), "audit", "run_failure")
    assert rows["run_id"].tolist() == [result.run_id] and rows["failed_steps"].tolist() == ['["validate"]']
    assert rows["triggered_by"].iloc[0].startswith("manual:")
    warehouse.engine().dispose()
