"""Regencies as partitions (issue #17): a scope of several kabupaten makes each one a partition of
the nightly job, with its own landing subfolder, artifacts and warehouse. One regency's night
fails, or takes a broken delivery, on its own; a single regency re-runs alone."""

import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import (
    DagsterEventType,
    DagsterInstance,
    RunRequest,
    RunsFilter,
    SkipReason,
    build_reconstructable_job,
    build_schedule_context,
    build_sensor_context,
    execute_job,
)

from assets.ingest import SETTLE_SECONDS
from assets.sensors import landing_sensor
from dtsen_pipeline.cli import write_instance_config
from dtsen_pipeline.config import PROJECT_ROOT, Settings
from dtsen_pipeline.definitions import build_definitions
from dtsen_pipeline.regencies import PARTITION_TAG, PLACEHOLDER, ScopeError
from dtsen_pipeline.resources import PipelineSettings, WarehouseResource
from dtsen_pipeline.warehouse import read_sql
from tests.ingest.helpers import feed_csv, record, write
from tests.support import PG_ADMIN_URL, pg_admin_engine

TWO = "18.06,18.10"


def _settings(tmp: Path, scope: str) -> Settings:
    return Settings(warehouse_url=f"duckdb:///{tmp / 'warehouse.duckdb'}", landing_dir=tmp / "landing",
                    artifacts_dir=tmp / "artifacts", truth_dir=tmp / "truth", scope=scope)


def _night(defs) -> list[RunRequest]:
    """The run requests of the nightly schedule's tick at 01:00."""
    schedule = defs.resolve_schedule_def("nightly_refresh_schedule")
    with DagsterInstance.ephemeral() as instance:
        context = build_schedule_context(instance=instance, scheduled_execution_time=datetime(2026, 12, 7, 1),
                                         repository_def=defs.get_repository_def())
        return list(schedule.evaluate_tick(context).run_requests)


def test_several_kabupaten_make_the_nightly_job_partitioned_one_run_each_night(tmp_path):
    defs = build_definitions(_settings(tmp_path, TWO))
    job = defs.resolve_job_def("nightly_refresh")
    assert job.partitions_def.get_partition_keys() == ["18.06", "18.10"]
    assert defs.resolve_job_def("retrain_and_refresh").partitions_def.get_partition_keys() == ["18.06", "18.10"]
    requests = _night(defs)
    assert [r.partition_key for r in requests] == ["18.06", "18.10"]
    assert len({r.run_key for r in requests}) == 2


def test_one_kabupaten_stays_unpartitioned(tmp_path):
    defs = build_definitions(_settings(tmp_path, "18.06"))
    assert defs.resolve_job_def("nightly_refresh").partitions_def is None
    assert [r.partition_key for r in _night(defs)] == [None]


def test_a_regency_gets_its_own_folders_warehouse_and_scope(tmp_path):
    pipeline = PipelineSettings(landing_dir=str(tmp_path / "landing"), artifacts_dir=str(tmp_path / "artifacts"),
                                artifacts_url="http://127.0.0.1:3001", scope="18")
    pringsewu = pipeline.for_regency("18.10")
    assert (pringsewu.landing, pringsewu.artifacts) == (tmp_path / "landing" / "18.10", tmp_path / "artifacts" / "18.10")
    assert pringsewu.truth == tmp_path / "landing" / "_truth" / "18.10"
    assert pringsewu.scope == "18.10" and pringsewu.artifacts_url == "http://127.0.0.1:3001/18.10"
    assert pringsewu.deployment_artifacts == tmp_path / "artifacts"  # the pseudonym key is shared
    assert pipeline.for_regency(None) is pipeline
    with pytest.raises(ScopeError):
        pipeline.for_regency("17.01")
    warehouse = WarehouseResource(url=f"duckdb:///{tmp_path / 'w.duckdb'}")
    assert warehouse.for_regency("18.10").url == f"duckdb:///{tmp_path / 'w_1810.duckdb'}"


def _settled(path: Path) -> None:
    stamp = time.time() - SETTLE_SECONDS - 60
    os.utime(path, (stamp, stamp))


def test_the_landing_sensor_starts_only_the_regency_whose_files_changed(tmp_path):
    landing = tmp_path / "landing"
    _settled(write(landing / "18.10", "dtsen", "DTSEN_1810_202611.csv", feed_csv("dtsen", [record("dtsen")], sep=";")))
    (landing / "18.06").mkdir(parents=True)
    pipeline = PipelineSettings(landing_dir=str(landing), artifacts_dir=str(tmp_path / "a"), scope=TWO)
    warehouse = WarehouseResource(url=f"duckdb:///{tmp_path / 'w.duckdb'}")

    def tick(cursor):
        with DagsterInstance.ephemeral() as instance, build_sensor_context(
                instance=instance, cursor=cursor, resources={"pipeline": pipeline, "warehouse": warehouse}) as context:
            return landing_sensor(context), context.cursor

    result, cursor = tick(None)
    assert [r.partition_key for r in result] == ["18.10"]
    assert isinstance(result[0], RunRequest) and result[0].tags["dtsen/feeds"] == "dtsen"
    again, cursor = tick(cursor)
    assert isinstance(again, SkipReason)
    _settled(write(landing / "18.06", "pekon", "pekon_a.csv", feed_csv("pekon", [record("pekon")])))
    result, _ = tick(cursor)
    assert [r.partition_key for r in result] == ["18.06"]


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "DAGSTER_HOME": str(tmp / "home"), "DTSEN_LANDING_DIR": str(tmp / "landing"),
            "DTSEN_ARTIFACTS_DIR": str(tmp / "artifacts"), "DTSEN_WAREHOUSE_URL": f"duckdb:///{tmp / 'warehouse.duckdb'}",
            "DTSEN_SCOPE": TWO}


def _dtsen(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dtsen_pipeline.cli", "run", "--persons", "800", *args],
                          env=env, capture_output=True, text=True, timeout=900)


def _published(path: Path) -> tuple[int, set[str], str]:
    engine = sa.create_engine(f"duckdb:///{path}")
    try:
        rows = read_sql(engine, "SELECT count(*) AS n, min(run_id) AS run_id, "
                                "string_agg(DISTINCT substr(kode_desa, 1, 5), ',') AS regencies FROM golden.person")
        return int(rows["n"].iloc[0]), set(str(rows["regencies"].iloc[0]).split(",")), str(rows["run_id"].iloc[0])
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_regency_fails_takes_a_broken_delivery_and_reruns_on_its_own(tmp_path):
    env = _env(tmp_path)
    # Night 1 (a province sample generated first): Pringsewu's warehouse cannot be opened (a folder
    # where its file belongs): its night fails; Tanggamus's, run after it, still publishes.
    blocked = tmp_path / "warehouse_1810.duckdb"
    blocked.mkdir()
    night1 = _dtsen(env)
    assert night1.returncode == 1, night1.stdout[-3000:] + night1.stderr[-3000:]
    assert "kabupaten 18.06: SUCCESS" in night1.stdout and "kabupaten 18.10: FAILURE" in night1.stdout
    assert "provinsi: SUCCESS" in night1.stdout  # the province step reads the regencies that published
    tanggamus = tmp_path / "warehouse_1806.duckdb"
    persons, regencies, tanggamus_run = _published(tanggamus)
    assert 750 <= persons <= 850 and regencies == {"18.06"}
    before = hashlib.sha256(tanggamus.read_bytes()).hexdigest()

    # Mended, Pringsewu re-runs alone, with a broken DTSEN extract (no NIK column): that delivery is
    # rejected and named, the regency publishes from its other feeds; Tanggamus is not touched.
    blocked.rmdir()
    (extract,) = (tmp_path / "landing" / "18.10" / "dtsen").glob("*.csv")
    header, rest = extract.read_bytes().split(b"\n", 1)
    extract.write_bytes(header.replace(b";NIK;", b";NIK_ART;") + b"\n" + rest)
    rerun = _dtsen(env, "--kabupaten", "18.10")
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    persons, regencies, pringsewu_run = _published(tmp_path / "warehouse_1810.duckdb")
    assert 750 <= persons <= 850 and regencies == {"18.10"}
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'warehouse_1810.duckdb'}")
    try:
        status = read_sql(engine, "SELECT status FROM raw.delivery WHERE feed = 'dtsen'")["status"].tolist()
    finally:
        engine.dispose()
    assert status == ["rejected"]
    assert hashlib.sha256(tanggamus.read_bytes()).hexdigest() == before
    assert _published(tanggamus)[2] == tanggamus_run != pringsewu_run

    # The instance records each regency's runs under its partition: Tanggamus one, Pringsewu two.
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = instance.get_runs(RunsFilter(job_name="nightly_refresh"))
    by_regency = sorted((r.tags.get(PARTITION_TAG), r.status.value) for r in runs)
    assert by_regency == [("18.06", "SUCCESS"), ("18.10", "FAILURE"), ("18.10", "SUCCESS")]


def regency_job(warehouse_url: str, landing: str, artifacts: str):
    """The nightly job of a two-regency deployment given as plain values (step processes rebuild it)."""
    settings = Settings(warehouse_url=warehouse_url, landing_dir=Path(landing), artifacts_dir=Path(artifacts),
                        truth_dir=Path(landing) / "_no_truth", scope=TWO)
    return build_definitions(settings).resolve_job_def("nightly_refresh")


@pytest.fixture
def regency_databases(monkeypatch):
    """One PostgreSQL database per regency, named by the URL's `{kabupaten}`; the test's own
    pseudonym key and role names (roles are server-wide); all dropped after."""
    admin = pg_admin_engine()
    prefix = f"dtsen_part_{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}_{code.replace('.', '')}" for code in TWO.split(",")]
    roles = {"DTSEN_READER_ROLE": f"{prefix}_rd", "DTSEN_RESTRICTED_ROLE": f"{prefix}_rs",
             "DTSEN_PEKON_ROLE": f"{prefix}_pk"}
    for name, value in {**roles, "DTSEN_PSEUDONYM_KEY": "test-only-pseudonym-key-not-a-real-one-0123"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DTSEN_RUN_WORKERS", raising=False)
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{prefix}_{PLACEHOLDER}", names
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            for role in roles.values():
                conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.slow
def test_on_postgres_a_regency_runs_its_steps_side_by_side_in_its_own_database(tmp_path, regency_databases):
    from dtsen_pipeline.sample import generate

    url, (tanggamus_db, pringsewu_db) = regency_databases
    landing = tmp_path / "landing"
    generate(persons=800, seed=43, out_dir=landing / "18.10", kabupaten="18.10")
    job = build_reconstructable_job(__name__, regency_job.__name__, reconstructable_args=(
        url, str(landing), str(tmp_path / "artifacts")), reconstructor_working_directory=str(PROJECT_ROOT))
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with DagsterInstance.from_config(str(write_instance_config(tmp_path / "home"))) as instance:
            result = execute_job(job, instance=instance, tags={PARTITION_TAG: "18.10"})
            assert result.success
            starts = instance.get_records_for_run(result.run_id, of_type=DagsterEventType.STEP_START).records
            pids = {r.event_log_entry.dagster_event.pid for r in starts}
            messages = [r.event_log_entry.message or "" for r in instance.get_records_for_run(result.run_id).records]
    finally:  # execute_job leaves SIGTERM mapped to SIGINT's handler
        for number, handler in saved.items():
            signal.signal(number, handler)
    assert len(pids) > 2 and os.getpid() not in pids  # the multiprocess executor: a process per step
    assert any("run lock held by the orchestrating process" in m for m in messages)

    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    pringsewu = sa.create_engine(f"{base}/{pringsewu_db}")
    tanggamus = sa.create_engine(f"{base}/{tanggamus_db}")
    try:
        persons = read_sql(pringsewu, "SELECT count(*) AS n, min(substr(kode_desa, 1, 5)) AS lo, "
                                      "max(substr(kode_desa, 1, 5)) AS hi FROM golden.person")
        with tanggamus.connect() as conn:
            schemas = {row[0] for row in conn.exec_driver_sql("SELECT schema_name FROM information_schema.schemata")}
    finally:
        pringsewu.dispose()
        tanggamus.dispose()
    assert 750 <= int(persons["n"].iloc[0]) <= 850
    assert (persons["lo"].iloc[0], persons["hi"].iloc[0]) == ("18.10", "18.10")
    assert "golden" not in schemas and "raw" not in schemas  # Tanggamus's database untouched
