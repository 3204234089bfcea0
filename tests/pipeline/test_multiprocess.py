"""On PostgreSQL a run's independent steps run side by side, each in a process of its own; on
DuckDB a run stays one process (dtsen_pipeline.executor).

The end-to-end test runs the nightly job twice on the session's sample, once in one process and
once through the multiprocess executor, each on a fresh PostgreSQL database, and compares what
they publish. It needs the server at 127.0.0.1:5432; without one it skips only when CI is unset.
"""

import os
import signal
import uuid
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from dagster import (
    DagsterEventType,
    DagsterInstance,
    build_reconstructable_job,
    execute_job,
    in_process_executor,
)

from dtsen_pipeline.cli import write_instance_config
from dtsen_pipeline.config import PROJECT_ROOT, Settings
from dtsen_pipeline.definitions import ExecutorSettings, build_definitions, executor_settings
from dtsen_pipeline.resources import SettingError, default_resources
from tests.support import make_settings, pg_admin_engine, run_nightly, temporary_database

PG_URL = "postgresql+psycopg://dtsen@db.example:5432/dtsen"
GOLDEN = ("person", "household", "person_source", "flag", "id_change")


def nightly_job_for(warehouse_url: str, landing: str, artifacts: str, truth: str):
    """The nightly job of a deployment given as plain values: each step process rebuilds it from
    these arguments (a reconstructable job), not from a test's in-memory Settings."""
    settings = Settings(warehouse_url=warehouse_url, landing_dir=Path(landing), artifacts_dir=Path(artifacts),
                        truth_dir=Path(truth), scope="18.06")
    return build_definitions(settings).resolve_job_def("nightly_refresh")


def _executor(url: str, tmp_path: Path):
    return nightly_job_for(url, str(tmp_path), str(tmp_path / "artifacts"), str(tmp_path)).executor_def


def _max_concurrent_default(executor_def) -> int:
    return executor_def.config_schema.as_field().config_type.fields["max_concurrent"].default_value


def test_duckdb_runs_stay_in_one_process(tmp_path, monkeypatch):
    monkeypatch.setenv("DTSEN_RUN_WORKERS", "4")  # not used on DuckDB
    assert _executor(f"duckdb:///{tmp_path / 'w.duckdb'}", tmp_path) is in_process_executor


def test_postgres_runs_steps_side_by_side_on_run_workers_processes(tmp_path, monkeypatch):
    monkeypatch.delenv("DTSEN_RUN_WORKERS", raising=False)
    executor_def = _executor(PG_URL, tmp_path)
    assert executor_def.name == "multiprocess" and _max_concurrent_default(executor_def) == 2
    monkeypatch.setenv("DTSEN_RUN_WORKERS", "3")
    assert _max_concurrent_default(_executor(PG_URL, tmp_path)) == 3
    monkeypatch.setenv("DTSEN_RUN_WORKERS", "1")  # one at a time: in the run's own process, no step processes
    assert _executor(PG_URL, tmp_path) is in_process_executor


def test_the_executor_settings_from_the_environment_are_plain_values(tmp_path, monkeypatch):
    """As `dtsen run` and the daemon's runs load the code location: every value from the environment."""
    monkeypatch.setenv("DTSEN_WAREHOUSE_URL", PG_URL)
    monkeypatch.setenv("DTSEN_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.setenv("DTSEN_RUN_LOCK_WAIT", "7")
    monkeypatch.setenv("DTSEN_RUN_WORKERS", "2")
    chosen = executor_settings(default_resources())
    assert chosen == ExecutorSettings(PG_URL, 2, 7.0, str(tmp_path / "artifacts"))
    assert type(chosen.warehouse_url) is str and type(chosen.artifacts_dir) is str


def test_run_workers_must_be_at_least_one(tmp_path, monkeypatch):
    monkeypatch.setenv("DTSEN_RUN_WORKERS", "0")
    with pytest.raises(SettingError, match="DTSEN_RUN_WORKERS"):
        _executor(PG_URL, tmp_path)


def _golden(url: str) -> dict[str, object]:
    """Row counts of the golden tables and the published person ids with their source records."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            counts = {t: conn.exec_driver_sql(f"SELECT count(*) FROM golden.{t}").scalar_one() for t in GOLDEN}
            persons = pd.read_sql(sa.text("SELECT person_id FROM golden.person"), conn)
            sources = pd.read_sql(sa.text("SELECT * FROM golden.person_source"), conn)
    finally:
        engine.dispose()
    links = sources[["person_id", "record_id"]] if "record_id" in sources.columns else sources[["person_id"]]
    return {"counts": counts, "person_ids": sorted(persons["person_id"]),
            "links": sorted(map(tuple, links.astype(str).to_numpy().tolist()))}


def _step_spans(instance, run_id: str) -> dict[str, tuple[float, float, int]]:
    """step key -> (start time, end time, pid of the process that ran it)."""
    starts, ends = {}, {}
    for record in instance.get_records_for_run(run_id).records:
        entry = record.event_log_entry
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            starts[event.step_key] = (entry.timestamp, event.pid)
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            ends[event.step_key] = entry.timestamp
    return {key: (start, ends[key], pid) for key, (start, pid) in starts.items() if key in ends}


@pytest.fixture
def publication_env(monkeypatch):
    """A test pseudonym key and role names of this test only (roles are server-wide), dropped after."""
    suffix = uuid.uuid4().hex[:8]
    roles = {"DTSEN_READER_ROLE": f"dtsen_rd_mp{suffix}", "DTSEN_RESTRICTED_ROLE": f"dtsen_rs_mp{suffix}",
             "DTSEN_PEKON_ROLE": f"dtsen_pk_mp{suffix}"}
    for name, value in {**roles, "DTSEN_PSEUDONYM_KEY": "test-only-pseudonym-key-not-a-real-one-0123"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DTSEN_RUN_WORKERS", raising=False)
    yield
    admin = pg_admin_engine()
    with admin.connect() as conn:
        for role in roles.values():
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
    admin.dispose()


@pytest.fixture
def signal_dispositions():
    """execute_job maps SIGTERM to SIGINT's disposition (Dagster's interrupt handling) and leaves it
    so; put both back, so later tests' child processes do not inherit it."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.mark.postgres
@pytest.mark.slow
def test_multiprocess_run_on_postgres_publishes_what_one_process_publishes(tmp_path, sample_landing,
                                                                           publication_env, signal_dispositions):
    with temporary_database("dtsen_inproc") as one_url, temporary_database("dtsen_multi") as multi_url:
        one = make_settings(tmp_path / "one", sample_landing, one_url)
        one_instance = DagsterInstance.from_config(str(write_instance_config(tmp_path / "one" / "home")))
        one_run, one_success = run_nightly(one, one_instance)  # execute_in_process: every step in this process
        assert one_success
        one_spans = _step_spans(one_instance, one_run)
        assert {pid for _, _, pid in one_spans.values()} == {os.getpid()}

        multi = make_settings(tmp_path / "multi", sample_landing, multi_url)
        job = build_reconstructable_job(__name__, nightly_job_for.__name__, reconstructable_args=(
            multi.warehouse_url, str(multi.landing_dir), str(multi.artifacts_dir), str(multi.truth_dir)),
            reconstructor_working_directory=str(PROJECT_ROOT))  # where step processes import `tests` from
        with DagsterInstance.from_config(str(write_instance_config(tmp_path / "multi" / "home"))) as instance:
            result = execute_job(job, instance=instance)
            assert result.success
            spans = _step_spans(instance, result.run_id)
            messages = [r.event_log_entry.message or "" for r in instance.get_records_for_run(result.run_id).records]
            logs = [r.event_log_entry.user_message for r in instance.get_records_for_run(result.run_id).records]

        assert _golden(multi_url) == _golden(one_url)

        pids = {pid for _, _, pid in spans.values()}
        assert set(spans) == set(one_spans)  # the same steps ran
        assert os.getpid() not in pids and len(pids) == len(spans)  # one process per step, none in this one
        overlapping = [(a, b) for a, (sa_, ea, _) in spans.items() for b, (sb, eb, _) in spans.items()
                       if a < b and sa_ < eb and sb < ea]
        assert overlapping, "no two steps ran at the same time"
        # The orchestrating process held the run lock; the steps that ask for it found it held for their run.
        assert any("run lock held by the orchestrating process" in m for m in messages)
        assert sum("held by this run's orchestrating process" in m for m in logs) == 2  # ingest and publication
