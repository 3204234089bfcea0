"""A run launcher that lets Dagster's run monitoring see a dead run worker on this host.

Dagster's `DefaultRunLauncher` starts each run in a process on the same machine but cannot tell
run monitoring whether that process is still alive, so a run whose process was killed (SIGKILL,
the kernel's out-of-memory killer, a reboot) stays STARTED until `max_runtime_seconds`, and no
run-failure sensor hears of it. This launcher answers the health check from the process id the
run worker writes into the run's event log ("Started process for run (pid: ...)", or the
in-process executor's "Executing steps in process (pid: ...)" for `dtsen run`). Run monitoring
then marks the run failed, and `audit_failed_runs` / `alert_failed_runs` record and report it.

It assumes what deploy/ sets up: the daemon and the run workers share one host (and one process
namespace). Configured in deploy/local/dagster.yaml and deploy/production/dagster.yaml.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from dagster import DagsterEventType, DagsterRun, DefaultRunLauncher
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._serdes import ConfigurableClassData

# A process whose start is this much later than the event that recorded its pid is another
# process that was given the same (recycled) pid.
PID_REUSE_TOLERANCE_SECONDS = 5.0


def recorded_worker_pid(events: list[Any]) -> tuple[int, float] | None:
    """(pid, event time) of the first engine event that names the run worker's process id.

    The first such event is the run worker: the gRPC launch writes it before any step runs, and
    an in-process `execute_job` writes it from the process that executes every step.
    """
    for entry in events:
        event = entry.dagster_event
        data = getattr(event, "event_specific_data", None) if event else None
        metadata = getattr(data, "metadata", None) or {}
        pid = metadata.get("pid")
        if pid is not None:
            try:
                return int(pid.value), float(entry.timestamp)
            except (TypeError, ValueError):
                continue
    return None


def _boot_time(proc: Path) -> float | None:
    try:
        for line in (proc / "stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def process_start_time(pid: int, proc: Path = Path("/proc")) -> float | None:
    """Start time (epoch seconds) of a live, non-zombie process; None when there is none.

    Reads /proc on Linux; elsewhere it only knows whether the pid exists (start time 0.0).
    """
    if not proc.exists():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return 0.0
        return 0.0
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "; comm may hold spaces
    state, start_ticks = fields[0], int(fields[19])
    if state in ("Z", "X"):  # a zombie has exited; only its exit status is left to collect
        return None
    boot = _boot_time(proc)
    if boot is None:
        return 0.0
    return boot + start_ticks / os.sysconf("SC_CLK_TCK")


def worker_status(recorded: tuple[int, float] | None, start_time_of=process_start_time) -> WorkerStatus:
    """RUNNING while the recorded process lives (or before one is recorded), FAILED once it is gone."""
    if recorded is None:  # launched, the worker has not written its pid yet
        return WorkerStatus.RUNNING
    pid, recorded_at = recorded
    started = start_time_of(pid)
    if started is None or started > recorded_at + PID_REUSE_TOLERANCE_SECONDS:
        return WorkerStatus.FAILED
    return WorkerStatus.RUNNING


class LocalProcessRunLauncher(DefaultRunLauncher):
    """`DefaultRunLauncher` plus a run-worker health check by process id (same host)."""

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]) -> Self:
        return cls(inst_data=inst_data)

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        events = self._instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT)
        recorded = recorded_worker_pid(list(events))
        status = worker_status(recorded)
        if status == WorkerStatus.FAILED:
            assert recorded is not None
            return CheckRunHealthResult(status, f"the run's process (pid {recorded[0]}) is no longer running")
        return CheckRunHealthResult(status)
