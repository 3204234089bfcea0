"""One run at a time per warehouse: the lock itself on both warehouses, and two nightly runs
started together on PostgreSQL loading every raw record exactly once."""

import threading
import time

import pytest
import sqlalchemy as sa
from dagster import AssetKey, DagsterInstance

from dtsen_pipeline.cli import write_instance_config
from dtsen_pipeline.ingest.feeds import load_feed_specs
from dtsen_pipeline.run_lock import WarehouseBusyError, warehouse_run_lock
from tests.support import make_settings, temporary_database


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


@pytest.mark.postgres
@pytest.mark.slow
def test_two_runs_started_together_on_postgres_load_raw_records_once(tmp_path):
    from dtsen_pipeline.definitions import build_definitions
    from dtsen_pipeline.sample import generate

    landing = tmp_path / "landing"
    generate(persons=1_000, seed=7, out_dir=landing)
    with temporary_database("dtsen_twice") as url:
        settings = make_settings(tmp_path, landing, url)
        raw_keys = [AssetKey(["raw", feed]) for feed in load_feed_specs()]
        outcomes = {}

        def run(name: str) -> None:
            home = write_instance_config(tmp_path / f"home_{name}")
            job = build_definitions(settings).resolve_job_def("nightly_refresh")
            result = job.execute_in_process(instance=DagsterInstance.from_config(str(home)),
                                            asset_selection=raw_keys, raise_on_error=False)
            outcomes[name] = result.success

        threads = [threading.Thread(target=run, args=(name,)) for name in ("first", "second")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes == {"first": True, "second": True}  # the second waited, then found nothing new
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
