"""A run whose process died is marked failed by Dagster's run monitoring and reaches
audit.run_failure (#14 item 9).

The unit tests check the health check on real processes (alive, exited, zombie, pid recycled). The
end-to-end test kills a real `dtsen run` with SIGKILL while the real daemon (`dagster-daemon run`,
the local instance configuration with a short poll interval) watches: run monitoring marks the run
FAILURE through `LocalProcessRunLauncher`, and the `audit_failed_runs` sensor writes its row.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus
from dagster._core.launcher import WorkerStatus

from dtsen_pipeline.run_launcher import (
    PID_REUSE_TOLERANCE_SECONDS,
    LocalProcessRunLauncher,
    process_start_time,
    recorded_worker_pid,
    worker_status,
)
from dtsen_pipeline.warehouse import read_sql

ROOT = Path(__file__).resolve().parents[2]


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


def test_a_live_process_is_running_and_a_killed_one_is_failed():
    process = _sleeper()
    try:
        started = process_start_time(process.pid)
        assert started is not None and abs(started - time.time()) < 60
        assert worker_status((process.pid, time.time())) == WorkerStatus.RUNNING
        process.kill()
        time.sleep(0.5)  # not yet reaped: a zombie, which has exited all the same
        assert process_start_time(process.pid) is None
        assert worker_status((process.pid, time.time())) == WorkerStatus.FAILED
    finally:
        process.kill()
        process.wait()
    assert worker_status((process.pid, time.time())) == WorkerStatus.FAILED  # reaped: gone


def test_a_recycled_pid_is_not_taken_for_the_run_worker():
    process = _sleeper()
    try:
        recorded_long_ago = time.time() - 3600  # the pid was written an hour before this process began
        assert worker_status((process.pid, recorded_long_ago)) == WorkerStatus.FAILED
        assert worker_status((process.pid, time.time() - PID_REUSE_TOLERANCE_SECONDS / 2)) == WorkerStatus.RUNNING
    finally:
        process.kill()
        process.wait()


def test_a_run_that_has_not_written_its_pid_yet_counts_as_running():
    assert worker_status(None) == WorkerStatus.RUNNING
    assert recorded_worker_pid([]) is None


def test_the_instance_configurations_use_the_launcher_with_monitoring(tmp_path):
    for name in ("local", "production"):
        text = (ROOT / "deploy" / name / "dagster.yaml").read_text()
        assert "class: LocalProcessRunLauncher" in text and "max_resume_run_attempts: 0" in text
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "deploy" / "local" / "dagster.yaml").read_text())
    with DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_launcher, LocalProcessRunLauncher)
        assert instance.run_monitoring_enabled and instance.run_launcher.supports_check_run_worker_health


# End to end: a real run, a real daemon, a real SIGKILL.

def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "DTSEN_LANDING_DIR": str(tmp_path / "landing"),
            "DTSEN_ARTIFACTS_DIR": str(tmp_path / "artifacts"), "DTSEN_TRUTH_DIR": str(tmp_path / "landing" / "_truth"),
            "DTSEN_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'warehouse.duckdb'}"}


def _write_instance(home: Path) -> None:
    """The local instance configuration with run monitoring polling every 2 s instead of 60 s."""
    home.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "deploy" / "local" / "dagster.yaml").read_text()
    assert "poll_interval_seconds: 60" in text
    (home / "dagster.yaml").write_text(text.replace("poll_interval_seconds: 60", "poll_interval_seconds: 2"))


def _wait(what: str, condition, seconds: float = 300, alive: subprocess.Popen | None = None,
          interval: float = 0.5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if alive is not None:
            assert alive.poll() is None, f"the process ended before {what}"
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def _new_run_in_step(home: str, known: set[str], step: str) -> str | None:
    with DagsterInstance.from_config(home) as instance:
        for run in instance.get_runs():
            if run.run_id not in known and any(
                    e.step_key == step for e in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_START)):
                return run.run_id
    return None


def _sensor_has_ticked(home: str, name: str) -> bool:
    with DagsterInstance.from_config(home) as instance:
        states = [s for s in instance.all_instigator_state() if s.instigator_name == name]
        return bool(states) and bool(instance.get_ticks(states[0].instigator_origin_id, states[0].selector_id, limit=1))


def _run_status(home: str, run_id: str) -> DagsterRunStatus:
    with DagsterInstance.from_config(home) as instance:
        run = instance.get_run_by_id(run_id)
        assert run is not None
        return run.status


def _audited_failure(url: str, run_id: str) -> bool:
    engine = sa.create_engine(url)
    try:
        if not sa.inspect(engine).has_table("run_failure", schema="audit"):
            return False
        rows = read_sql(engine, "SELECT run_id FROM audit.run_failure")
        return run_id in set(rows["run_id"])
    except sa.exc.OperationalError:  # the daemon's sensor holds the DuckDB file for a moment
        return False
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_killed_run_is_marked_failed_by_run_monitoring_and_audited(tmp_path):
    env = _env(tmp_path)
    home = env["DAGSTER_HOME"]
    _write_instance(Path(home))
    first = subprocess.run([sys.executable, "-m", "dtsen_pipeline.cli", "run", "--persons", "800", "--seed", "37"],
                           env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    with DagsterInstance.from_config(home) as instance:
        known = {r.run_id for r in instance.get_runs()}

    daemon_log = open(tmp_path / "daemon.log", "w")
    daemon = subprocess.Popen([str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w",
                               str(ROOT / "workspace.yaml")], env=env, cwd=ROOT, stdout=daemon_log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    victim = None
    try:
        # The failure sensor sets its cursor on its first tick, and the landing sensor reads the
        # registry from the (single-process) DuckDB warehouse on its first: both before the run.
        for sensor in ("audit_failed_runs", "landing_sensor"):
            _wait(f"the first tick of {sensor}", lambda s=sensor: _sensor_has_ticked(home, s), alive=daemon)
        victim = subprocess.Popen([sys.executable, "-m", "dtsen_pipeline.cli", "run"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=open(tmp_path / "victim.log", "w"))
        run_id = _wait("the victim's linkage step", lambda: _new_run_in_step(home, known, "person_linkage"),
                       alive=victim)
        time.sleep(1.5)  # inside the linkage work, watched by run monitoring
        assert victim.poll() is None and _run_status(home, run_id) == DagsterRunStatus.STARTED  # alive: untouched
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=60)

        _wait("run monitoring to mark the run failed",
              lambda: _run_status(home, run_id) == DagsterRunStatus.FAILURE, seconds=120, alive=daemon)
        with DagsterInstance.from_config(home) as instance:
            failures = instance.all_logs(run_id, of_type=DagsterEventType.RUN_FAILURE)
        assert any("no longer running" in (e.message or "") for e in failures)
        # Every 5 s, not 0.5: each look opens the DuckDB file, and a sensor tick that finds it open
        # fails and waits for the next (the CI of d674e02, under load, missed all of 180 s).
        _wait("audit.run_failure to hold the run", lambda: _audited_failure(env["DTSEN_WAREHOUSE_URL"], run_id),
              seconds=240, alive=daemon, interval=5)
    finally:
        if victim is not None and victim.poll() is None:
            victim.kill()
            victim.wait()
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
        daemon_log.close()
