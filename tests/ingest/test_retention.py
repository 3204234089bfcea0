"""Raw retention: deliveries superseded for longer than DTSEN_RAW_RETENTION_DAYS leave raw.<feed>
(archived first when asked); nothing in force changes, and a pruned file sent again is read again.

The pure rules first, then whole intake passes on DuckDB and PostgreSQL (`warehouse` fixture).
"""

import datetime as dt
import os
import stat

import pandas as pd
import pytest
from dagster import DagsterInvalidConfigError

from dtsen_pipeline.clock import utc_now
from dtsen_pipeline.ingest.deliveries import PRUNED, Delivery, mark_superseded
from dtsen_pipeline.ingest.raw_store import count_in_force, count_raw, load_registry, read_stored
from dtsen_pipeline.ingest.retention import RawRetention, expired, mark_pruned, prune_raw
from dtsen_pipeline.ingest.runner import run_feeds
from dtsen_pipeline.ingest.staging_tables import quarantine_part
from dtsen_pipeline.resources import PipelineSettings, from_environment, resolved
from dtsen_pipeline.warehouse import count_rows, read_table
from tests.ingest.helpers import AS_OF, SPECS, feed_csv, man_nik, record, run_feed, write

T0 = pd.Timestamp("2026-01-01 01:00")


def _delivery(name: str, *, in_force: bool = False, status: str = "loaded",
              superseded: pd.Timestamp | None = None) -> Delivery:
    return Delivery(feed="dtsen", delivery_id=f"id-{name}", source_file=f"dtsen/{name}", record_file=f"dtsen/{name}",
                    status=status, records=3, size=1, mtime=0.0, first_seen=T0, first_run="r", in_force=in_force,
                    superseded=superseded)


def test_a_delivery_is_dated_when_it_leaves_force_and_undated_when_it_returns():
    now = pd.Timestamp("2026-02-01")
    marked = mark_superseded([_delivery("old"), _delivery("new", in_force=True), _delivery("bad", status="rejected"),
                              _delivery("older", superseded=T0)], now)
    assert [d.superseded for d in marked] == [now, None, None, T0]  # an earlier date is kept
    back = mark_superseded([_delivery("old", in_force=True, superseded=now)], pd.Timestamp("2026-03-01"))
    assert back[0].superseded is None


def test_only_loaded_deliveries_out_of_force_beyond_the_retention_expire():
    now = pd.Timestamp("2026-12-01")
    registry = [_delivery("long_ago", superseded=now - pd.Timedelta(days=181)),
                _delivery("recent", superseded=now - pd.Timedelta(days=179)),
                _delivery("in_force", in_force=True),
                _delivery("held", status="held_back", superseded=now - pd.Timedelta(days=400)),
                _delivery("undated")]
    assert [d.source_file for d in expired(registry, 180, now)] == ["dtsen/long_ago"]
    assert expired(registry, 0, now) == []  # 0 keeps every record
    pruned = mark_pruned(registry, {"id-long_ago"}, 180, now, archived=True)
    assert [d.status for d in pruned] == [PRUNED, "loaded", "loaded", "held_back", "loaded"]
    assert pruned[0].note == ("records pruned 2026-12-01: out of force since 2026-06-03, beyond the raw retention "
                              "of 180 days; archived as dtsen/id-long_ago.parquet")


def test_the_retention_setting_is_a_whole_number_of_days(monkeypatch, tmp_path):
    def retention() -> RawRetention:
        return resolved(from_environment(PipelineSettings)).retention

    monkeypatch.delenv("DTSEN_RAW_RETENTION_DAYS", raising=False)
    monkeypatch.delenv("DTSEN_RAW_ARCHIVE_DIR", raising=False)
    assert retention() == RawRetention(days=180, archive_dir=None)
    monkeypatch.setenv("DTSEN_RAW_RETENTION_DAYS", "0")
    monkeypatch.setenv("DTSEN_RAW_ARCHIVE_DIR", str(tmp_path))
    assert retention() == RawRetention(days=0, archive_dir=tmp_path)
    for bad in ("-1", "sebulan", "1.5"):
        monkeypatch.setenv("DTSEN_RAW_RETENTION_DAYS", bad)
        with pytest.raises((ValueError, DagsterInvalidConfigError), match="DTSEN_RAW_RETENTION_DAYS"):
            retention()


def _months(landing, engine, feed_run) -> tuple[str, list[str]]:
    """October (3 people), superseded by November (2 people) on 1 February; returns October's
    delivery id and its record ids."""
    october = [record("dtsen", nik=man_nik(i), nama=f"ORANG {i}") for i in range(1, 4)]
    write(landing, "dtsen", "DTSEN_1806_202610.csv", feed_csv("dtsen", october, sep=";"))
    first = feed_run(dt.datetime(2026, 1, 1), "r1")
    october_ids = sorted(first.staged["record_id"])
    november = [record("dtsen", nik=man_nik(i), nama=f"ORANG {i}") for i in range(1, 3)]
    write(landing, "dtsen", "DTSEN_1806_202611.csv", feed_csv("dtsen", november, sep=";"))
    feed_run(dt.datetime(2026, 2, 1), "r2")
    (october_id,) = [d.delivery_id for d in load_registry(engine, "dtsen") if not d.in_force]
    return october_id, october_ids


def _conserved(engine) -> None:
    staged = count_rows(engine, "staging", "dtsen")
    quarantined = count_rows(engine, "quality", quarantine_part("dtsen"))
    assert count_in_force(engine, "dtsen") == staged + quarantined == 2


def test_superseded_records_are_archived_then_pruned_and_a_resent_file_is_read_again(warehouse, tmp_path):
    engine, landing, archive = warehouse, tmp_path / "landing", tmp_path / "archive"
    retention = RawRetention(days=180, archive_dir=archive)

    def feed_run(now: dt.datetime, run_id: str):
        return run_feed(engine, landing, "dtsen", run_id=run_id, now=now)

    october_id, october_ids = _months(landing, engine, feed_run)
    raw_october = read_stored(engine, SPECS["dtsen"], [october_id])
    assert count_raw(engine, "dtsen") == 5
    assert prune_raw(engine, SPECS["dtsen"], retention, now=pd.Timestamp("2026-07-30")).records == 0  # 179 days

    pruned = prune_raw(engine, SPECS["dtsen"], retention, now=pd.Timestamp("2026-08-01"))
    assert (pruned.deliveries, pruned.records) == (1, 3)
    assert count_raw(engine, "dtsen") == 2  # November's records only
    _conserved(engine)  # what is in force, staged and quarantined did not move
    entry = next(d for d in load_registry(engine, "dtsen") if d.delivery_id == october_id)
    assert (entry.status, entry.in_force, entry.records) == (PRUNED, False, 3)
    assert entry.superseded == pd.Timestamp("2026-02-01")
    assert "beyond the raw retention of 180 days" in entry.note

    archived = archive / "dtsen" / f"{october_id}.parquet"  # named by content hash: no name, no NIK
    assert stat.S_IMODE(os.stat(archived).st_mode) == 0o600
    kept = pd.read_parquet(archived).sort_values("source_row", ignore_index=True)
    pd.testing.assert_frame_equal(kept[raw_october.columns].astype(str), raw_october.astype(str))
    assert prune_raw(engine, SPECS["dtsen"], retention, now=pd.Timestamp("2026-09-01")).deliveries == 0

    unchanged = feed_run(dt.datetime(2026, 8, 2), "r3")  # October's file still in the inbox: not read again
    assert unchanged.intake.reports == [] and count_raw(engine, "dtsen") == 2

    resent = landing / "dtsen" / "DTSEN_1806_202610.csv"
    os.utime(resent, (resent.stat().st_atime, resent.stat().st_mtime + 60))  # the office sends it again
    again = feed_run(dt.datetime(2026, 8, 3), "r4")
    assert [r.status for r in again.intake.reports] == ["loaded"]
    assert sorted(again.staged["record_id"]) == october_ids  # its records carry the ids they had
    statuses = {d.source_file: (d.status, d.in_force) for d in load_registry(engine, "dtsen")}
    assert statuses == {"dtsen/DTSEN_1806_202610.csv": ("loaded", True),
                        "dtsen/DTSEN_1806_202611.csv": ("loaded", False)}


def test_the_runner_prunes_after_ingestion_and_reports_counts_only(tmp_path):
    from tests.ingest.helpers import engine_at

    engine, landing = engine_at(tmp_path / "w.duckdb"), tmp_path / "landing"
    long_ago = utc_now() - dt.timedelta(days=200)

    def feed_run(now: dt.datetime, run_id: str):
        return run_feed(engine, landing, "dtsen", run_id=run_id, now=now - dt.datetime(2026, 1, 1) + long_ago)

    october_id, _ = _months(landing, engine, feed_run)
    outcomes = run_feeds(engine, landing, [SPECS["dtsen"]], ingest={"dtsen"}, stage={"dtsen"}, scope="18.06",
                         as_of=AS_OF, run_id="r3", retention=RawRetention(days=90))
    intake = outcomes["dtsen"].intake
    assert (intake.deliveries_pruned, intake.records_pruned) == (1, 3)
    assert intake.summary()["records_pruned"] == 3
    assert {d.delivery_id: d.status for d in intake.registry}[october_id] == PRUNED
    assert len(read_table(engine, "staging", "dtsen")) == 2
    kept = run_feeds(engine, landing, [SPECS["dtsen"]], ingest={"dtsen"}, stage=set(), scope="18.06",
                     as_of=AS_OF, run_id="r4", retention=RawRetention(days=0))
    assert kept["dtsen"].intake.deliveries_pruned == 0 and count_raw(engine, "dtsen") == 2
    engine.dispose()
