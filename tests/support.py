"""Helpers the pipeline tests share: settings for a temporary deployment and one nightly run."""

import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class PipelineRun:
    settings: object
    landing: Path
    run_id: str
    success: bool
    instance: object


def make_settings(tmp: Path, landing: Path, warehouse_url: str, scope: str = "18.06"):
    from dtsen_pipeline.config import Settings

    return Settings(warehouse_url=warehouse_url, landing_dir=landing, artifacts_dir=tmp / "artifacts",
                    truth_dir=landing / "_truth", scope=scope)


def sample_deployment(tmp: Path, persons: int, seed: int, kabupaten: str = "18.06"):
    """A generated landing folder for the Lampung `kabupaten`, settings scoped to it on a DuckDB
    warehouse of its own and a local Dagster instance under `tmp`: (landing, settings, instance)."""
    from dagster import DagsterInstance

    from dtsen_pipeline.cli import write_instance_config
    from dtsen_pipeline.sample import generate

    landing = tmp / "landing"
    generate(persons=persons, seed=seed, out_dir=landing, kabupaten=kabupaten)
    home = write_instance_config(tmp / "dagster_home")
    settings = make_settings(tmp, landing, f"duckdb:///{tmp / 'warehouse.duckdb'}", scope=kabupaten)
    return landing, settings, DagsterInstance.from_config(str(home))


def check_evaluations(instance, run_id: str) -> dict[tuple[str, str], object]:
    """The run's asset check evaluations by (asset key, check name)."""
    from dagster import DagsterEventType

    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records
    out = {}
    for r in records:
        e = r.event_log_entry.dagster_event.event_specific_data
        out[(e.asset_key.to_user_string(), e.check_name)] = e
    return out


def run_nightly(settings, instance) -> tuple[str, bool]:
    from dtsen_pipeline.definitions import build_definitions

    job = build_definitions(settings).resolve_job_def("nightly_refresh")
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    return result.run_id, result.success


PG_ADMIN_URL = os.environ.get("DTSEN_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pg_admin_engine():
    """The PostgreSQL server's admin connection (autocommit).

    Without a server the calling test skips, saying so, when CI is unset; under CI it fails.
    """
    import pytest
    import sqlalchemy as sa

    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("select 1")
    except sa.exc.OperationalError as exc:
        engine.dispose()
        message = f"no PostgreSQL server at {PG_ADMIN_URL.split('@')[-1]}: {type(exc.orig).__name__}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: PostgreSQL is required)")
        pytest.skip(message + " (skipped because CI is unset)")
    return engine


@contextmanager
def temporary_database(prefix: str, options: str = ""):
    """A fresh database on the server for one test module; yields its SQLAlchemy URL, drops it after.
    `options`: what CREATE DATABASE adds (a locale, say)."""
    admin = pg_admin_engine()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" {options}')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
