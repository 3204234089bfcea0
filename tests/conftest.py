"""Shared fixtures: a generated sample delivery and one full pipeline run on DuckDB.

The run is done once per session (it trains a real Splink model) and several tests read it.
"""

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from dtsen_pipeline.cli import write_instance_config
from tests.support import PipelineRun, make_settings, run_nightly, temporary_database

os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

SAMPLE_PERSONS = 3_000
SAMPLE_SEED = 7


@pytest.fixture(scope="session")
def sample_landing(tmp_path_factory) -> Path:
    from dtsen_pipeline.sample import generate

    landing = tmp_path_factory.mktemp("landing")
    generate(persons=SAMPLE_PERSONS, seed=SAMPLE_SEED, out_dir=landing)
    return landing


@pytest.fixture(scope="session")
def duckdb_run(tmp_path_factory, sample_landing) -> PipelineRun:
    from dagster import DagsterInstance

    tmp = tmp_path_factory.mktemp("run")
    home = write_instance_config(tmp / "dagster_home")
    settings = make_settings(tmp, sample_landing, f"duckdb:///{tmp / 'warehouse.duckdb'}")
    instance = DagsterInstance.from_config(str(home))
    run_id, success = run_nightly(settings, instance)
    return PipelineRun(settings=settings, landing=sample_landing, run_id=run_id, success=success, instance=instance)


@pytest.fixture(scope="module")
def engine(duckdb_run):
    """The session run's warehouse (tests that read what the run published)."""
    eng = sa.create_engine(duckdb_run.settings.warehouse_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse(request):
    """An empty warehouse engine for one test module, on DuckDB and on the PostgreSQL server (the
    SQL models are written in DuckDB's dialect and transpiled, so both are exercised). Without a
    server the PostgreSQL variant skips with the reason, unless CI is set: then it fails."""
    if request.param == "duckdb":
        engine = sa.create_engine("duckdb:///:memory:")
        yield engine
        engine.dispose()
        return
    with temporary_database("dtsen_test") as url:
        engine = sa.create_engine(url)
        yield engine
        engine.dispose()
