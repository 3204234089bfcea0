"""`make run` and `make ui` use one local Dagster instance, set up from the project's template."""

import yaml

from dtsen_pipeline import cli
from dtsen_pipeline.config import PROJECT_ROOT


def test_dtsen_instance_sets_up_the_home_dtsen_run_records_in(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert cli.main(["instance"]) == 0
    assert capsys.readouterr().out.strip() == str(home) == str(cli.ensure_dagster_home())
    config = home / "dagster.yaml"
    assert config.read_text() == cli.LOCAL_INSTANCE_YAML.read_text()
    assert yaml.safe_load(config.read_text())["telemetry"] == {"enabled": False}
    config.write_text("telemetry:\n  enabled: false\n# the deployment's own\n")
    cli.write_instance_config(home)
    assert config.read_text().endswith("# the deployment's own\n")  # an instance's own config is kept


def test_make_ui_sets_up_the_instance_through_the_cli_not_its_own_copy():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    ui = makefile.split("\nui:")[1].split("\n\n")[0]
    assert "dtsen instance" in ui and "dagster.yaml" not in ui and "printf" not in ui


def test_the_run_queue_lets_one_refresh_run_at_a_time(tmp_path):
    """The schedule, the landing sensor and a launch from the UI queue behind each other: with a
    refresh in progress, the queue holds the next one (of either refresh job), not other jobs."""
    from dagster import DagsterInstance, DefaultScheduleStatus
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster._core.storage.dagster_run import DagsterRun
    from dagster._utils.tags import TagConcurrencyLimitsCounter

    from assets.jobs import nightly_refresh, nightly_schedule, retrain_and_refresh

    home = tmp_path / "home"
    cli.write_instance_config(home)
    with DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        limits = instance.run_coordinator.get_run_queue_config().tag_concurrency_limits
        assert instance.run_monitoring_enabled  # a dead run is marked failed, not left STARTED
    running = DagsterRun(job_name="nightly_refresh", run_id="a", tags=dict(nightly_refresh.tags))
    queue = TagConcurrencyLimitsCounter(limits, [running])
    assert queue.is_blocked(DagsterRun(job_name="nightly_refresh", run_id="b", tags=dict(nightly_refresh.tags)))
    assert queue.is_blocked(DagsterRun(job_name="retrain_and_refresh", run_id="c", tags=dict(retrain_and_refresh.tags)))
    assert not queue.is_blocked(DagsterRun(job_name="other", run_id="d", tags={}))
    assert not TagConcurrencyLimitsCounter(limits, []).is_blocked(running)

    production = yaml.safe_load((PROJECT_ROOT / "deploy" / "production" / "dagster.yaml").read_text())
    assert production["run_queue"] == yaml.safe_load(cli.LOCAL_INSTANCE_YAML.read_text())["run_queue"]
    assert nightly_schedule.default_status == DefaultScheduleStatus.RUNNING  # as docs/operations.md says
