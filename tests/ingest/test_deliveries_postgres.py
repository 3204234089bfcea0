"""The delivery registry and raw history on PostgreSQL (production's warehouse).

Needs the server at 127.0.0.1:5432 (trust auth); skips without one only when CI is unset.
"""

import datetime as dt

import pytest
import sqlalchemy as sa

from dtsen_pipeline.ingest.raw_store import count_in_force, count_raw, load_registry
from tests.ingest.helpers import csv_bytes, feed_csv, man_nik, record, run_feed, write
from tests.support import temporary_database

pytestmark = pytest.mark.postgres

@pytest.fixture(scope="module")
def pg_engine():
    with temporary_database("dtsen_ingest") as url:
        engine = sa.create_engine(url)
        yield engine
        engine.dispose()


def test_snapshot_history_duplicates_and_new_columns_on_postgres(pg_engine, tmp_path):
    landing = tmp_path / "landing"
    october = [record("dtsen", nik=man_nik(i), nama=f"ORANG {i}") for i in range(1, 4)]
    data = feed_csv("dtsen", october, sep=";", bom=True)
    write(landing, "dtsen", "DTSEN_1806_202610.csv", data)
    write(landing, "dtsen", "copy.csv", data)
    first = run_feed(pg_engine, landing, "dtsen", run_id="r1", now=dt.datetime(2026, 11, 1))
    assert sorted(r.status for r in first.intake.reports) == ["duplicate", "loaded"]
    assert len(first.staged) == 3

    header = [*record("dtsen"), "KOLOM_BARU"]
    november = [[*record("dtsen", nik=man_nik(i), nama=f"ORANG {i}").values(), "x"] for i in range(1, 3)]
    write(landing, "dtsen", "DTSEN_1806_202611.csv", csv_bytes([header, *november], sep=";"))
    second = run_feed(pg_engine, landing, "dtsen", run_id="r2", now=dt.datetime(2026, 12, 1))
    assert set(second.staged["source_file"]) == {"dtsen/DTSEN_1806_202611.csv"}
    assert count_raw(pg_engine, "dtsen") == 5
    assert count_in_force(pg_engine, "dtsen") == len(second.staged) + len(second.quarantine) == 2
    registry = {d.source_file: d for d in load_registry(pg_engine, "dtsen")}
    assert registry["dtsen/DTSEN_1806_202611.csv"].in_force
    assert registry["dtsen/copy.csv"].status == "duplicate"
    assert registry["dtsen/DTSEN_1806_202610.csv"].first_run == "r1"


def test_feeds_side_by_side_on_a_fresh_postgres_warehouse(tmp_path, sample_landing):
    """Two workers on an empty PostgreSQL database: schemas and the registry are created taking
    turns, each feed's loads run beside the other's, and the tables equal one worker's on DuckDB."""
    from dtsen_pipeline.ingest.feeds import load_feed_specs
    from dtsen_pipeline.ingest.runner import run_feeds
    from dtsen_pipeline.ingest.staging_tables import quarantine_part
    from dtsen_pipeline.warehouse import read_table

    specs = load_feed_specs()

    def run(engine, workers):
        outcomes = run_feeds(engine, sample_landing, specs.values(), ingest=set(specs), stage=set(specs),
                             scope="18.06", as_of=dt.date(2026, 11, 30), run_id="side-by-side", workers=workers)
        assert all(o.error is None for o in outcomes.values()), {k: o.error for k, o in outcomes.items()}
        return {feed: (sorted(read_table(engine, "staging", feed)["record_id"]),
                       sorted(read_table(engine, "quality", quarantine_part(feed))[["source_file", "source_row",
                                                                                   "reason"]].itertuples(index=False)))
                for feed in specs}

    reference = run(sa.create_engine(f"duckdb:///{tmp_path / 'one.duckdb'}"), workers=1)
    with temporary_database("dtsen_side_by_side") as url:
        engine = sa.create_engine(url)
        try:
            assert run(engine, workers=2) == reference
            assert len(load_registry(engine, "pekon")) > 100  # one registry, every feed's rows
        finally:
            engine.dispose()


def test_headers_with_percent_signs_or_over_63_bytes_load_again_and_again_on_postgres(pg_engine, tmp_path):
    landing = tmp_path / "landing_headers"
    long_header = "Keterangan tambahan dari petugas pendamping sosial kecamatan " * 2
    header = [*record("pekon"), "Persentase bantuan (%)", long_header]
    for day, village in ((1, "18.06.01.2016"), (2, "18.06.01.2019")):  # two pekon: two snapshots in force
        rows = [header, [*record("pekon", nik=man_nik(day), _village=village).values(), "50", "catatan"]]
        write(landing, "pekon", f"pekon_{day}.csv", csv_bytes(rows))
        result = run_feed(pg_engine, landing, "pekon", run_id=f"h{day}", now=dt.datetime(2026, 11, day))
        assert [r.status for r in result.intake.reports] == ["loaded"], day
    with pg_engine.connect() as conn:
        columns = [c["name"] for c in sa.inspect(conn).get_columns("pekon", schema="raw")]
    assert "persentase_bantuan" in columns
    assert sum(c.startswith("keterangan_tambahan") for c in columns) == 1
    assert all(len(c.encode()) <= 63 for c in columns)
    assert count_raw(pg_engine, "pekon") == 2


def test_a_delivery_failing_its_staging_suite_is_held_back_on_postgres(pg_engine, tmp_path):
    """The gate's hold-back on PostgreSQL: registry and raw in one transaction, the earlier delivery
    staged again."""
    from dtsen_pipeline.ingest.feeds import load_feed_specs
    from dtsen_pipeline.ingest.runner import run_feeds
    from dtsen_pipeline.quality.gate import HELD_BACK, StagingGate

    landing = tmp_path / "landing_gate"
    spec = load_feed_specs()["dukcapil"]
    def kk(i: int) -> str:  # one family card per person, each with its head
        return f"18060101011{i:05d}"

    good = [record("dukcapil", nik=man_nik(i), no_kk=kk(i), nama=f"WARGA {i}") for i in range(1, 11)]
    write(landing, "dukcapil", "DUKCAPIL_1806_20261115.csv", feed_csv("dukcapil", good))

    def run(run_id: str):
        outcome = run_feeds(pg_engine, landing, [spec], ingest={"dukcapil"}, stage={"dukcapil"}, scope="18.06",
                            as_of=dt.date(2026, 11, 30), run_id=run_id, gate=StagingGate())["dukcapil"]
        assert outcome.error is None, outcome.error
        return outcome

    first = run("g1").gated.decision
    assert first.decision == "passed", first.message
    damaged = [record("dukcapil", nik=f"{man_nik(i)[0]}.{man_nik(i)[1:6]}E+15" if i <= 4 else man_nik(i),
                      no_kk=kk(i), nama=f"WARGA {i}") for i in range(1, 11)]
    write(landing, "dukcapil", "DUKCAPIL_1806_20261215.csv", feed_csv("dukcapil", damaged))
    second = run("g2")
    assert second.gated.decision.decision == HELD_BACK and second.gated.decision.rules == ["NIK-02"]
    statuses = {d.source_file: (d.status, d.in_force) for d in load_registry(pg_engine, "dukcapil")}
    assert statuses == {"dukcapil/DUKCAPIL_1806_20261115.csv": ("loaded", True),
                        "dukcapil/DUKCAPIL_1806_20261215.csv": (HELD_BACK, False)}
    assert count_raw(pg_engine, "dukcapil") == 10 and count_in_force(pg_engine, "dukcapil") == 10
    with pg_engine.connect() as conn:
        staged = conn.exec_driver_sql("SELECT DISTINCT source_file FROM staging.dukcapil").scalars().all()
    assert staged == ["dukcapil/DUKCAPIL_1806_20261115.csv"]
