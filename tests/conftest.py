"""Shared fixtures: a generated sample delivery and one full pipeline run on DuckDB.

The run is done once per session (it trains a real Splink model) and several tests read it.
"""

import os
from pathlib import Path

import pytest

from dtsen_pipeline.cli import write_instance_config
from tests.support import PipelineRun, make_settings, run_nightly

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
    import sqlalchemy as sa

    eng = sa.create_engine(duckdb_run.settings.warehouse_url)
    yield eng
    eng.dispose()
