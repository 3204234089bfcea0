"""End to end with Dagster: a broken new delivery after a good one.

The first nightly run ingests a generated sample. Then the DTSEN extract of the next month
arrives without its NIK column. The second run must still succeed and publish: DTSEN stays
on the previous extract, the other feeds go on, and the run's metadata names the rejected
file and the missing column.
"""

import pytest
import sqlalchemy as sa
from dagster import DagsterEventType, DagsterInstance

from dtsen_pipeline.cli import write_instance_config
from dtsen_pipeline.warehouse import count_rows, read_sql
from tests.support import make_settings, run_nightly

pytestmark = pytest.mark.slow

PERSONS = 1_500


def _materializations(instance, run_id) -> dict[str, dict]:
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
    out = {}
    for record in records:
        materialization = record.event_log_entry.dagster_event.event_specific_data.materialization
        out[materialization.asset_key.to_user_string()] = {k: v.value for k, v in materialization.metadata.items()}
    return out


def _failed_checks(instance, run_id) -> list[str]:
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records
    evaluations = [r.event_log_entry.dagster_event.event_specific_data for r in records]
    return [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in evaluations if not e.passed]


def test_a_broken_delivery_keeps_the_previous_one_and_the_run_publishes(tmp_path):
    from dtsen_pipeline.sample import generate

    landing = tmp_path / "landing"
    generate(persons=PERSONS, seed=5, out_dir=landing)
    home = write_instance_config(tmp_path / "dagster_home")
    settings = make_settings(tmp_path, landing, f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    instance = DagsterInstance.from_config(str(home))

    first_run, ok = run_nightly(settings, instance)
    assert ok
    engine = sa.create_engine(settings.warehouse_url)
    dtsen_before = count_rows(engine, "staging", "dtsen")
    (good,) = sorted((landing / "dtsen").glob("*.csv"))
    engine.dispose()

    header, rest = good.read_bytes().split(b"\n", 1)
    broken = landing / "dtsen" / "DTSEN_1806_202612.csv"
    broken.write_bytes(header.replace(b";NIK;", b";NIK_ART;") + b"\n" + rest)

    second_run, ok = run_nightly(settings, instance)
    assert ok
    assert _failed_checks(instance, second_run) == []
    meta = _materializations(instance, second_run)

    raw = meta["raw/dtsen"]
    assert raw["deliveries_not_loaded"] == 1 and raw["rows_added"] == 0
    assert raw["problems"] == ("- `rejected` file dtsen/DTSEN_1806_202612.csv: "
                               "missing required column(s) NIK")
    assert [d["source_file"] for d in raw["deliveries_in_force"]] == [f"dtsen/{good.name}"]
    assert meta["staging/dtsen"]["rows_in"] == raw["rows_in_force"]

    for feed in ("dukcapil", "bansos", "pekon", "verval"):
        assert f"staging/{feed}" in meta, feed  # the other feeds went on
    assert {"golden/person", "golden/household"} <= set(meta)  # and the run published

    engine = sa.create_engine(settings.warehouse_url)
    try:
        assert count_rows(engine, "staging", "dtsen") == dtsen_before
        files = read_sql(engine, "SELECT DISTINCT source_file FROM staging.dtsen")
        assert list(files.source_file) == [f"dtsen/{good.name}"]
        registry = read_sql(engine, "SELECT source_file, status, in_force FROM raw.delivery "
                                    "WHERE feed = 'dtsen' ORDER BY source_file")
        assert registry.to_dict(orient="records") == [
            {"source_file": f"dtsen/{good.name}", "status": "loaded", "in_force": True},
            {"source_file": "dtsen/DTSEN_1806_202612.csv", "status": "rejected", "in_force": False}]
        in_dtsen = read_sql(engine, "SELECT count(*) AS n FROM golden.person WHERE in_dtsen").n[0]
        assert in_dtsen > 0.5 * PERSONS
    finally:
        engine.dispose()
    warnings = [e.user_message for e in instance.all_logs(second_run) if "still in force" in (e.user_message or "")]
    assert any(f"dtsen/{good.name}" in w for w in warnings)
