"""The province step end to end (issue #17): two regencies of a province sample published by their
own partition runs, then province_refresh links their persons and publishes who moved where,
scored against the generator's truth."""

import pytest
import sqlalchemy as sa
from dagster import DagsterEventType, DagsterInstance

from dtsen_pipeline.cli import write_instance_config
from dtsen_pipeline.config import Settings
from dtsen_pipeline.definitions import build_definitions
from dtsen_pipeline.province.movers import COLUMNS as MOVER_COLUMNS
from dtsen_pipeline.sample.province import generate_province
from dtsen_pipeline.warehouse import read_sql

pytestmark = pytest.mark.slow

REGENCIES = ("18.06", "18.10")


def _metadata_text(instance, run_id: str) -> str:
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
    return " ".join(str(v.value) for r in records
                    for v in r.event_log_entry.dagster_event.event_specific_data.materialization.metadata.values())


def test_movers_between_two_regencies_are_linked_and_published(tmp_path):
    landing = tmp_path / "landing"
    summary = generate_province(list(REGENCIES), 1_500, 73, landing)
    settings = Settings(warehouse_url=f"duckdb:///{tmp_path / 'warehouse.duckdb'}", landing_dir=landing,
                        artifacts_dir=tmp_path / "artifacts", truth_dir=landing / "_truth", scope=",".join(REGENCIES))
    defs = build_definitions(settings)
    instance = DagsterInstance.from_config(str(write_instance_config(tmp_path / "home")))
    nightly = defs.resolve_job_def("nightly_refresh")
    for code in REGENCIES:
        assert nightly.execute_in_process(instance=instance, partition_key=code, raise_on_error=False).success
    result = defs.resolve_job_def("province_refresh").execute_in_process(instance=instance, raise_on_error=False)
    assert result.success

    province = sa.create_engine(f"duckdb:///{tmp_path / 'warehouse_18.duckdb'}")
    try:
        scores = dict(read_sql(province, "SELECT metric, value FROM province.evaluation").itertuples(index=False))
        movers = read_sql(province, "SELECT * FROM province.mover")
        persons = read_sql(province, "SELECT count(*) AS n, count(DISTINCT province_person_id) AS ids "
                                     "FROM province.person")
    finally:
        province.dispose()
    assert scores["true_movers"] == summary.movers > 10
    assert scores["precision"] >= 0.95 and scores["recall"] >= 0.95, scores
    assert scores["true_movers_published_both_sides"] >= 0.8 * scores["true_movers"]
    assert list(movers.columns) == [*MOVER_COLUMNS, "run_id"]  # ids, villages and flags: no NIK, name or date
    moved = movers[movers["kind"] == "PINDAH_ANTAR_KABUPATEN"]
    assert (moved["from_regency"] != moved["to_regency"]).all()
    assert moved["to_kode_desa"].str[:5].eq(moved["to_regency"]).all()

    published = 0
    niks = set()
    for code in REGENCIES:
        engine = sa.create_engine(f"duckdb:///{tmp_path / ('warehouse_' + code.replace('.', '') + '.duckdb')}")
        try:
            golden = read_sql(engine, "SELECT nik FROM golden.person")
        finally:
            engine.dispose()
        published += len(golden)
        niks |= set(golden["nik"].dropna())
    assert int(persons["n"].iloc[0]) == published  # every regency person has a province id
    # Two regencies: a linked person is two regency persons under one province id.
    assert int(persons["ids"].iloc[0]) == published - movers["province_person_id"].nunique()
    text = _metadata_text(instance, result.run_id)
    assert len(niks) > 2000 and not any(nik in text for nik in niks)  # counts and scores only
