"""One run at a time per warehouse: the lock itself on both warehouses, and two nightly runs
started together on PostgreSQL loading every raw record exactly once."""

import os
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from dtsen_pipeline.cli import write_instance_config
from dtsen_pipeline.config import PROJECT_ROOT
from dtsen_pipeline.ingest.feeds import load_feed_specs
from dtsen_pipeline.run_lock import WarehouseBusyError, warehouse_run_lock
from tests.support import temporary_database


def _held_elsewhere(url: str, hold: float, ready: threading.Event) -> threading.Thread:
    def hold_lock():
        with warehouse_run_lock(url):
            ready.set()
            time.sleep(hold)

    thread = threading.Thread(target=hold_lock)
    thread.start()
    assert ready.wait(30)
    return thread


def _lock_behaviour(url: str) -> None:
    ready = threading.Event()
    holder = _held_elsewhere(url, hold=3.0, ready=ready)
    with pytest.raises(WarehouseBusyError, match="another run holds the warehouse lock"):
        with warehouse_run_lock(url, wait_seconds=0):
            pass
    started = time.monotonic()
    with warehouse_run_lock(url, wait_seconds=30):  # waits for the holder, then gets it
        assert time.monotonic() - started > 1.0
    holder.join()
    with warehouse_run_lock(url, wait_seconds=0):  # released after use
        pass


def test_duckdb_run_lock_excludes_a_second_run_and_waits(tmp_path):
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    _lock_behaviour(url)
    assert (tmp_path / "warehouse.duckdb.run.lock").exists()


@pytest.mark.postgres
def test_postgres_run_lock_excludes_a_second_run_and_waits():
    with temporary_database("dtsen_lock") as url:
        _lock_behaviour(url)


_RAW_ONLY_RUN = """
import sys
from dagster import AssetKey, DagsterInstance
from dtsen_pipeline.definitions import build_definitions
from dtsen_pipeline.ingest.feeds import load_feed_specs
job = build_definitions().resolve_job_def("nightly_refresh")
result = job.execute_in_process(instance=DagsterInstance.get(), raise_on_error=False,
                                asset_selection=[AssetKey(["raw", feed]) for feed in load_feed_specs()])
sys.exit(0 if result.success else 1)
"""


@pytest.mark.postgres
@pytest.mark.slow
def test_two_runs_started_together_on_postgres_load_raw_records_once(tmp_path):
    """Two processes, as Dagster's run launcher starts them, both ingesting the same new files."""
    from dtsen_pipeline.sample import generate

    landing = tmp_path / "landing"
    generate(persons=1_000, seed=7, out_dir=landing)
    with temporary_database("dtsen_twice") as url:
        runs = []
        for name in ("first", "second"):
            home = write_instance_config(tmp_path / f"home_{name}")
            env = {**os.environ, "DAGSTER_HOME": str(home), "DTSEN_WAREHOUSE_URL": url,
                   "DTSEN_LANDING_DIR": str(landing), "DTSEN_ARTIFACTS_DIR": str(tmp_path / f"art_{name}"),
                   "DTSEN_RUN_LOCK_WAIT": "300"}
            runs.append(subprocess.Popen([sys.executable, "-c", _RAW_ONLY_RUN], env=env, cwd=PROJECT_ROOT,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        codes = [run.wait(timeout=600) for run in runs]
        assert codes == [0, 0], [run.stderr.read()[-2000:] for run in runs]  # the second waited, then found nothing new
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            for feed in load_feed_specs():
                loaded = conn.exec_driver_sql(
                    f"SELECT coalesce(sum(records), 0) FROM raw.delivery WHERE feed = '{feed}' "
                    "AND status = 'loaded'").scalar_one()
                rows, distinct = conn.exec_driver_sql(
                    f'SELECT count(*), count(DISTINCT (delivery_id, source_row)) FROM raw."{feed}"').one()
                assert rows == distinct == loaded > 0, feed
                entries, names = conn.exec_driver_sql(
                    "SELECT count(*), count(DISTINCT (source_file, delivery_id)) FROM raw.delivery "
                    f"WHERE feed = '{feed}'").one()
                assert entries == names, feed
        engine.dispose()
