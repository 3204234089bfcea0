"""The national path from the warehouse on: `dtsen export-staged` writes the staged records as
parquet, Spark builds the linkage input from them (linkage.spark_input) value for value as pandas
builds it (linkage.prepare), and `dtsen link-tables` given the export links them as the nightly
linkage does. No record passes through pandas on the way.

Spark runs for real (local mode); without pyspark or Java this skips, saying so, when CI is unset,
and fails under CI."""

import logging
import shutil
from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dtsen_pipeline import cli
from dtsen_pipeline.ingest.feeds import load_feed_specs, person_feeds
from dtsen_pipeline.linkage.backend import SPARK, open_session, spark_running
from dtsen_pipeline.linkage.prepare import LINKAGE_COLUMNS, linkage_input
from dtsen_pipeline.linkage.spark_input import linkage_input_on_spark
from dtsen_pipeline.linkage.staged_export import export_staged
from tests.linkage.agreement import duckdb_reference, same_clusters, same_pairs

LOG = logging.getLogger(__name__)


def _comparable(values: list) -> list:
    return [None if pd.isna(v) else v for v in values]


# Rows the sample may not hold: no name, only low-information tokens, two longest tokens, stray
# whitespace, an address of punctuation only, no date but a year, an id that is not 16 digits.
EDGE_ROWS = pd.DataFrame({
    "record_id": ["e1", "e2", "e3", "e4", "e5"],
    "feed": ["pekon"] * 5,
    "nik": [None, "1806123456780001", "180612345678000", "1806123456780002", None],
    "no_kk": ["1806120101010001", None, "18061201010100011", None, None],
    "name_key": [None, "SITI NUR", "AGUS BUDI ANTO", "  NI\tWAYAN  ", ""],
    "nik_prefix15": [None, "180612345678000", None, "180612345678000", None],
    "kk_prefix15": ["180612010101000", None, None, None, None],
    "tgl_lahir": [None, date(1985, 2, 1), None, date(2001, 12, 31), None],
    "birth_year": [1970, None, None, 2001, None],
    "dob_imprecise": [True, False, None, False, None],
    "jenis_kelamin": ["1", "2", None, "2", "1"],
    "kode_desa": ["1806012001"] * 5,
    "kode_kecamatan": ["180601"] * 5,
    "alamat": ["--", "Gg. Bangka No.62", None, "dusun  v / rt 02", "JL. RAYA, 3"],
})


def _same_records(built: pd.DataFrame, expected: pd.DataFrame) -> None:
    built = built.sort_values("unique_id", ignore_index=True)
    expected = expected.sort_values("unique_id", ignore_index=True)
    assert list(built.columns) == list(LINKAGE_COLUMNS)
    assert len(built) == len(expected)
    for column in LINKAGE_COLUMNS:
        assert _comparable(built[column].tolist()) == _comparable(expected[column].tolist()), column


def test_spark_builds_the_linkage_input_pandas_builds(spark_ready, engine, sample_records, tmp_path):
    export_staged(engine, person_feeds(load_feed_specs()), tmp_path / "staged")
    pq.write_table(pa.Table.from_pandas(EDGE_ROWS, preserve_index=False), tmp_path / "edge.parquet")
    session = open_session(SPARK)
    try:
        for name in ("staged", "edge.parquet"):
            linkage_input_on_spark(session.spark.read.parquet(str(tmp_path / name))).write.parquet(
                str(tmp_path / f"built_{name}"))
    finally:
        session.close()

    assert len(sample_records) > 5_000
    _same_records(pq.read_table(tmp_path / "built_staged").to_pandas(), sample_records)
    edge = pq.read_table(tmp_path / "built_edge.parquet").to_pandas()
    _same_records(edge, linkage_input(EDGE_ROWS))
    informative = edge.sort_values("unique_id")["informative_token"].tolist()
    assert _comparable(informative) == [None, "NUR", "AGUS", "WAYAN", None]
    # The sample exercises the expressions' other cases.
    assert sample_records["informative_token"].ne(sample_records["last_token"]).sum() > 100
    assert sample_records["nik"].isna().sum() > 10 and sample_records["dob"].isna().sum() > 10


def test_link_tables_links_the_staged_export_as_the_nightly_linkage(spark_ready, duckdb_run, sample_records,
                                                                    tmp_path, monkeypatch, capsys):
    model_path = tmp_path / "model.json"
    expected = duckdb_reference(sample_records, model_path)
    monkeypatch.setenv("DTSEN_WAREHOUSE_URL", duckdb_run.settings.warehouse_url)
    # Each regency's export in a folder of its own, read as one table.
    staged, out = tmp_path / "staged", tmp_path / "out"
    assert cli.main(["export-staged", str(staged / "18.06")]) == 0
    assert cli.main(["link-tables", str(staged), str(model_path), str(out)]) == 0
    assert not spark_running()
    printed = capsys.readouterr().out

    pairs = pq.read_table(out / "pairs").to_pandas()
    clusters = pq.read_table(out / "clusters").to_pandas()
    assert f"{len(sample_records):,} staged person records written" in printed
    assert f"{len(sample_records):,} records, {len(pairs):,} pairs" in printed
    same_pairs(expected.pairs, pairs)
    agreement = same_clusters(expected.clusters, clusters, len(sample_records))
    assert not any(str(v) in printed for v in sample_records["nik"].dropna()[:50])

    # A second regency's export whose files have the same names: refused unless the ids say whose.
    shutil.copytree(staged / "18.06", staged / "18.10")
    assert cli.main(["link-tables", str(staged), str(model_path), str(tmp_path / "out2")]) == 2
    refusal = capsys.readouterr().out
    assert f"error: {len(sample_records):,} record id(s) are held by more than one record" in refusal
    assert "--kabupaten" in refusal and not (tmp_path / "out2" / "clusters").exists()
    LOG.info(printed.strip() + f"; agreement with the pandas linkage on DuckDB {agreement.precision:.5f} / "
             f"{agreement.recall:.5f}")
