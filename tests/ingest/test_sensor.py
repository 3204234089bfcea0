"""The landing sensor asks for a nightly_refresh run when new or changed files arrive, once."""

import os
import time

from dagster import DagsterInstance, RunRequest, SkipReason, build_sensor_context

from assets.sensors import SETTLE_SECONDS, landing_sensor
from dtsen_pipeline.ingest.feeds import load_feed_specs
from dtsen_pipeline.ingest.intake import ingest_feed
from dtsen_pipeline.ingest.landing import changed_files, registered_listing
from dtsen_pipeline.resources import PipelineSettings, WarehouseResource
from tests.ingest.helpers import feed_csv, record, write


def _settled(path, age: float = SETTLE_SECONDS + 60) -> None:
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))


def _tick(landing, cursor, warehouse_url: str | None = None):
    pipeline = PipelineSettings(landing_dir=str(landing), artifacts_dir=str(landing / "a"),
                                truth_dir=str(landing / "t"))
    warehouse = WarehouseResource(url=warehouse_url or f"duckdb:///{landing.parent / 'sensor_warehouse.duckdb'}")
    with DagsterInstance.ephemeral() as instance:
        with build_sensor_context(instance=instance, cursor=cursor,
                                  resources={"pipeline": pipeline, "warehouse": warehouse}) as context:
            result = landing_sensor(context)
            return result, context.cursor


def test_files_a_run_has_loaded_start_no_second_run(tmp_path):
    """`make run` then `make ui`: the new instance's sensor has no cursor, and the landing folder
    holds the files the run loaded. They are in the delivery registry: no run. A file no run has
    examined still starts one, for that file alone."""
    landing = tmp_path / "landing"
    loaded = write(landing, "dtsen", "DTSEN_1806_202611.csv", feed_csv("dtsen", [record("dtsen")], sep=";"))
    _settled(loaded)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    ingest_feed(WarehouseResource(url=url).engine(), landing, load_feed_specs()["dtsen"], run_id="make-run")

    result, cursor = _tick(landing, None, url)
    assert isinstance(result, SkipReason)
    assert "DTSEN_1806_202611.csv" in cursor  # the registered file is the starting point

    _settled(write(landing, "pekon", "pekon_a.csv", feed_csv("pekon", [record("pekon")])))
    result, _ = _tick(landing, None, url)
    assert isinstance(result, RunRequest)
    assert result.tags["dtsen/feeds"] == "pekon" and result.tags["dtsen/changed_files"] == "1"


def test_a_registered_file_touched_since_counts_as_new():
    listing = {"dtsen/a.csv": "10:1700000000123456789", "dtsen/b.csv": "20:1700000000000000000"}
    registered = [("dtsen/a.csv", 10, 1700000000.123456), ("dtsen/b.csv", 20, 1699999000.0)]
    assert registered_listing(listing, registered) == {"dtsen/a.csv": "10:1700000000123456789"}
    assert registered_listing(listing, [("dtsen/a.csv", 11, 1700000000.123456)]) == {}  # size differs


def test_new_changed_and_unchanged_files(tmp_path):
    landing = tmp_path / "landing"
    first = write(landing, "dtsen", "DTSEN_1806_202611.csv", feed_csv("dtsen", [record("dtsen")], sep=";"))
    _settled(first)
    result, cursor = _tick(landing, None)
    assert isinstance(result, RunRequest)
    assert result.tags["dtsen/feeds"] == "dtsen" and result.tags["dtsen/changed_files"] == "1"

    again, cursor2 = _tick(landing, cursor)  # nothing new: no second run
    assert isinstance(again, SkipReason) and cursor2 == cursor

    second = write(landing, "pekon", "pekon_a.csv", feed_csv("pekon", [record("pekon")]))
    _settled(second)
    result, cursor = _tick(landing, cursor)
    assert isinstance(result, RunRequest) and result.tags["dtsen/feeds"] == "pekon"

    second.write_bytes(feed_csv("pekon", [record("pekon"), record("pekon")]))  # replaced in place
    _settled(second, age=SETTLE_SECONDS + 30)
    result, cursor = _tick(landing, cursor)
    assert isinstance(result, RunRequest) and result.tags["dtsen/changed_files"] == "1"


def test_a_file_still_being_copied_waits_for_a_later_tick(tmp_path):
    landing = tmp_path / "landing"
    write(landing, "verval", "VERVAL_2026-11_PEKON.csv", feed_csv("verval", [record("verval")]))  # mtime: now
    result, cursor = _tick(landing, None)
    assert isinstance(result, SkipReason)
    _settled(landing / "verval" / "VERVAL_2026-11_PEKON.csv")
    result, _ = _tick(landing, cursor)
    assert isinstance(result, RunRequest)


def test_files_the_feeds_do_not_read_and_removals_start_nothing(tmp_path):
    landing = tmp_path / "landing"
    for name in ("notes.txt", ".~lock.x.csv#", "~$KPM.xlsx"):
        _settled(write(landing, "bansos", name, b"x"))
    _settled(write(landing, "_truth", "records.csv", b"x"))
    result, cursor = _tick(landing, None)
    assert isinstance(result, SkipReason)
    assert changed_files({"pekon/a.csv": "1:1"}, {}) == []


def test_the_sensor_targets_the_nightly_job():
    assert landing_sensor.job_name == "nightly_refresh"
    assert landing_sensor.minimum_interval_seconds >= 60


def test_the_sensor_loads_with_the_ingest_assets_and_the_job(tmp_path):
    from dagster import Definitions

    from assets.ingest import conservation_checks, ingest_and_stage_feeds, quarantine
    from assets.jobs import nightly_refresh
    from dtsen_pipeline.config import Settings
    from dtsen_pipeline.resources import default_resources

    settings = Settings(warehouse_url=f"duckdb:///{tmp_path / 'w.duckdb'}", landing_dir=tmp_path,
                        artifacts_dir=tmp_path, truth_dir=tmp_path, scope="18.06")
    defs = Definitions(assets=[ingest_and_stage_feeds, quarantine], asset_checks=conservation_checks,
                       jobs=[nightly_refresh], sensors=[landing_sensor], resources=default_resources(settings))
    Definitions.validate_loadable(defs)
    assert defs.resolve_sensor_def("landing_sensor").job_name == "nightly_refresh"


def test_a_tick_leaves_the_warehouse_free_and_skips_while_a_run_holds_it(tmp_path):
    """The sensor lives in the long-running code server: after a tick the embedded DuckDB file must
    be free for a run's process; while another process holds it, the tick skips without a cursor,
    so the registry is read on a later tick."""
    import subprocess
    import sys

    import duckdb

    landing = tmp_path / "landing"
    _settled(write(landing, "dtsen", "DTSEN_1806_202611.csv", feed_csv("dtsen", [record("dtsen")], sep=";")))
    path = tmp_path / "w.duckdb"
    engine = WarehouseResource(url=f"duckdb:///{path}").engine()
    ingest_feed(engine, landing, load_feed_specs()["dtsen"], run_id="make-run")
    engine.dispose()
    opener = [sys.executable, "-c", f"import duckdb; duckdb.connect({str(path)!r}).close()"]
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(path)!r}); "
                               "print('held', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result, cursor = _tick(landing, None, f"duckdb:///{path}")
        assert isinstance(result, SkipReason) and "in use" in result.skip_message and cursor is None
    finally:
        holder.kill()
        holder.wait()
    result, cursor = _tick(landing, None, f"duckdb:///{path}")
    assert isinstance(result, SkipReason) and cursor is not None
    assert subprocess.run(opener, capture_output=True).returncode == 0  # another process opens it at once
    duckdb.connect(str(path)).close()
