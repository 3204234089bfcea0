"""Feeds ingested and staged side by side (ingest.runner): same tables as one at a time, a failing
feed does not stop the others, and the Dagster multi-asset can run any subset."""

import datetime as dt
import os
import shutil

import pytest
import sqlalchemy as sa

import dtsen_pipeline.ingest.runner as runner
from dtsen_pipeline.ingest.feeds import FeedSpec, load_feed_specs
from dtsen_pipeline.ingest.runner import run_feeds
from dtsen_pipeline.ingest.staging_tables import quarantine_part
from dtsen_pipeline.warehouse import read_table

SPECS = load_feed_specs()
AS_OF = dt.date(2026, 11, 30)


def _run(tmp_path, landing, name: str, workers: int, **kwargs):
    engine = sa.create_engine(f"duckdb:///{tmp_path / f'{name}.duckdb'}")
    outcomes = run_feeds(engine, landing, SPECS.values(), ingest=set(SPECS), stage=set(SPECS), scope="18.06",
                         as_of=AS_OF, run_id=name, workers=workers, **kwargs)
    return engine, outcomes


def _tables(engine, feed: str):
    staged = read_table(engine, "staging", feed).sort_values("record_id", ignore_index=True)
    quarantine = read_table(engine, "quality", quarantine_part(feed))
    return staged, quarantine.sort_values(["source_file", "source_row"], ignore_index=True)


def test_two_workers_give_the_same_tables_as_one(tmp_path, sample_landing):
    one, outcomes_one = _run(tmp_path, sample_landing, "one", workers=1)
    two, outcomes_two = _run(tmp_path, sample_landing, "two", workers=2)
    assert list(outcomes_two) == list(SPECS)  # in declaration order, whatever order they ran in
    for name in SPECS:
        assert outcomes_one[name].error is None and outcomes_two[name].error is None, name
        assert outcomes_two[name].staged.rows_in == outcomes_one[name].staged.rows_in > 0
        for left, right in zip(_tables(one, name), _tables(two, name), strict=True):
            assert left.equals(right), name


def _fail(monkeypatch, step: str, feed: str, error: Exception) -> None:
    """Make the runner's `step` (ingest_feed, stage_in_force, or stage_and_gate when it runs behind the
    quality gate as in the asset) raise `error` for one feed only."""
    real = getattr(runner, step)

    def failing(*args, **kwargs):
        if any(isinstance(a, FeedSpec) and a.name == feed for a in args):
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, step, failing)


def test_a_failing_feed_does_not_stop_the_others(tmp_path, sample_landing, monkeypatch):
    _fail(monkeypatch, "stage_in_force", "pekon", ValueError("staging failed"))
    engine, outcomes = _run(tmp_path, sample_landing, "failing", workers=2)
    assert isinstance(outcomes["pekon"].error, ValueError)
    assert outcomes["pekon"].intake is not None and outcomes["pekon"].staged is None
    for name in SPECS.keys() - {"pekon"}:
        assert outcomes[name].error is None and outcomes[name].staged.rows_staged > 0, name
        assert len(read_table(engine, "staging", name)) == outcomes[name].staged.rows_staged


def test_a_feed_whose_ingestion_failed_is_not_staged(tmp_path, sample_landing, monkeypatch):
    _fail(monkeypatch, "ingest_feed", "bansos", OSError("landing folder unreadable"))
    engine, outcomes = _run(tmp_path, sample_landing, "no_bansos", workers=2)
    assert isinstance(outcomes["bansos"].error, OSError) and outcomes["bansos"].staged is None
    assert not sa.inspect(engine).has_table("bansos", schema="staging")
    assert outcomes["dtsen"].staged.rows_staged > 0


def test_the_ingest_workers_setting(monkeypatch):
    from dagster import DagsterInvalidConfigError

    from dtsen_pipeline.resources import PipelineSettings, from_environment, resolved

    def workers() -> int:
        return resolved(from_environment(PipelineSettings)).workers

    monkeypatch.delenv("DTSEN_INGEST_WORKERS", raising=False)
    assert workers() == 2
    monkeypatch.setenv("DTSEN_INGEST_WORKERS", "1")
    assert workers() == 1
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("DTSEN_INGEST_WORKERS", bad)
        with pytest.raises((ValueError, DagsterInvalidConfigError), match="DTSEN_INGEST_WORKERS"):
            workers()


def test_the_multi_asset_materializes_a_subset(tmp_path, sample_landing):
    from dagster import AssetKey, materialize

    from assets.ingest import ingest_and_stage_feeds
    from dtsen_pipeline.resources import default_resources
    from tests.support import make_settings

    landing = tmp_path / "landing"
    shutil.copytree(sample_landing / "verval", landing / "verval")
    shutil.copytree(sample_landing / "bansos", landing / "bansos")
    settings = make_settings(tmp_path, landing, f"duckdb:///{tmp_path / 'subset.duckdb'}")
    selection = [AssetKey(["raw", "verval"]), AssetKey(["staging", "verval"]), AssetKey(["raw", "bansos"])]
    result = materialize([ingest_and_stage_feeds], selection=selection, resources=default_resources(settings))
    assert result.success
    done = {event.asset_key for event in result.get_asset_materialization_events()}
    assert done == set(selection)
    engine = sa.create_engine(settings.warehouse_url)
    assert sa.inspect(engine).has_table("verval", schema="staging")
    assert not sa.inspect(engine).has_table("bansos", schema="staging")  # raw only: not selected
    assert sa.inspect(engine).has_table("bansos", schema="raw")


def test_the_multi_asset_publishes_the_other_feeds_then_fails(tmp_path, sample_landing, monkeypatch):
    from dagster import AssetKey, materialize

    from assets.ingest import ingest_and_stage_feeds
    from dtsen_pipeline.resources import default_resources
    from tests.support import make_settings

    _fail(monkeypatch, "stage_and_gate", "bansos", ValueError("staging failed"))
    settings = make_settings(tmp_path, sample_landing, f"duckdb:///{tmp_path / 'fails.duckdb'}")
    selection = [AssetKey([layer, feed]) for layer in ("raw", "staging") for feed in ("verval", "bansos")]
    result = materialize([ingest_and_stage_feeds], selection=selection, resources=default_resources(settings),
                         raise_on_error=False)
    assert not result.success
    done = {event.asset_key for event in result.get_asset_materialization_events()}
    assert done == set(selection) - {AssetKey(["staging", "bansos"])}
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "feed(s) bansos failed" in failure.step_failure_data.error.cause.message


@pytest.mark.parametrize("feed", ["pekon", "dtsen", "bansos"])
def test_records_just_loaded_read_as_from_the_warehouse(tmp_path, sample_landing, feed):
    from dtsen_pipeline.ingest.intake import ingest_feed
    from dtsen_pipeline.ingest.raw_store import read_in_force

    spec = SPECS[feed]
    landing = tmp_path / "landing"
    files = sorted((sample_landing / feed).iterdir())
    (landing / feed).mkdir(parents=True)
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'loaded.duckdb'}")
    half = max(1, len(files) // 2)
    for batch in [b for b in (files[:half], files[half:]) if b]:  # a second run adds the rest
        for path in batch:
            shutil.copy(path, landing / feed / path.name)
        intake = ingest_feed(engine, landing, spec, run_id="r")
        assert 0 < len(intake.loaded) <= len(batch)  # empty and duplicate files are not loaded
        from_memory, from_warehouse = read_in_force(engine, spec, intake.loaded), read_in_force(engine, spec)
        assert len(from_warehouse) == sum(d.records for d in intake.in_force) > 0
        assert from_memory.equals(from_warehouse)
        assert list(from_memory.dtypes) == list(from_warehouse.dtypes)


def test_a_scheduled_run_takes_only_files_that_stopped_changing(tmp_path, sample_landing):
    from dagster import AssetKey, materialize

    from assets.ingest import ingest_and_stage_feeds
    from dtsen_pipeline.resources import default_resources
    from tests.support import make_settings

    landing = tmp_path / "landing"
    shutil.copytree(sample_landing / "verval", landing / "verval")
    for path in (landing / "verval").iterdir():  # copied just now: still "changing" (copytree kept the old time)
        os.utime(path)
    settings = make_settings(tmp_path, landing, f"duckdb:///{tmp_path / 'scheduled.duckdb'}")
    selection = [AssetKey(["raw", "verval"])]
    scheduled = materialize([ingest_and_stage_feeds], selection=selection, resources=default_resources(settings),
                            tags={"dagster/schedule_name": "nightly_refresh_schedule"})
    meta = scheduled.asset_materializations_for_node("ingest_and_stage_feeds")[0].metadata
    assert meta["deliveries_loaded"].value == 0 and len(meta["files_still_changing"].value) >= 1
    manual = materialize([ingest_and_stage_feeds], selection=selection, resources=default_resources(settings))
    meta = manual.asset_materializations_for_node("ingest_and_stage_feeds")[0].metadata
    assert meta["deliveries_loaded"].value >= 1 and meta["files_still_changing"].value == []


def test_the_staging_gate_reckons_ages_at_the_run_date(tmp_path, monkeypatch):
    from dtsen_pipeline.quality.gate import StagingGate

    dates = []
    monkeypatch.setattr(StagingGate, "validate", lambda self, feed: dates.append(self.as_of))
    monkeypatch.setattr(runner, "count_in_force", lambda engine, feed: 0)
    monkeypatch.setattr(runner, "stage_and_gate", lambda *args, **kwargs: None)
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'gate.duckdb'}")
    for gate, expected in ((StagingGate(), AS_OF), (StagingGate(as_of=dt.date(2026, 1, 1)), dt.date(2026, 1, 1))):
        run_feeds(engine, tmp_path, [SPECS["dukcapil"]], ingest=set(), stage={"dukcapil"}, scope="18.06",
                  as_of=AS_OF, run_id="gate", workers=1, gate=gate)
        assert dates.pop() == expected  # the run's date, as staging uses, unless the gate names one
