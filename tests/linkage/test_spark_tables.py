"""The linkage with Spark tables in and out (`dtsen link-tables`, linkage.spark_tables): Spark reads
the records from parquet, and the scored pairs, clusters and refused edges it writes as parquet are DuckDB's
pandas linkage of the same records with the same model; a full night that sees only part of a
table Spark wrote stops, naming the setting.

Spark runs for real (local mode); without pyspark or Java this skips, saying so, when CI is unset,
and fails under CI."""

import logging

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dtsen_pipeline import cli
from dtsen_pipeline.linkage.backend import SPARK, spark_running
from dtsen_pipeline.linkage.model import LinkageConfig, close_linker, linker_session, load_model
from dtsen_pipeline.linkage.run import train_model
from dtsen_pipeline.linkage.spark_tables import SparkNight, handoff_folder
from tests.linkage.agreement import duckdb_reference, same_clusters, same_pairs

LOG = logging.getLogger(__name__)


def test_spark_tables_in_and_out_give_the_pandas_linkage(spark_ready, sample_records, tmp_path, capsys):
    model_path = tmp_path / "model.json"
    expected = duckdb_reference(sample_records, model_path)

    records_path, out = tmp_path / "records.parquet", tmp_path / "out"
    pq.write_table(pa.Table.from_pandas(sample_records, preserve_index=False), records_path)
    assert cli.main(["link-tables", str(records_path), str(model_path), str(out)]) == 0
    assert not spark_running()
    printed = capsys.readouterr().out

    pairs = pq.read_table(out / "pairs").to_pandas()
    clusters = pq.read_table(out / "clusters").to_pandas()
    refused = pq.read_table(out / "refused_edges").to_pandas()
    assert f"{len(sample_records):,} records, {len(pairs):,} pairs, {clusters['cluster_id'].nunique():,} clusters" \
        in printed
    same_pairs(expected.pairs, pairs)
    agreement = same_clusters(expected.clusters, clusters, len(sample_records))
    assert len(refused) == len(expected.refused_edges) > 0
    assert f"{sum(expected.stats['refused_edges'].values()):,} edge(s) refused" in printed
    assert "dtsen_spark" not in printed and not any(str(v) in printed for v in sample_records["nik"].dropna()[:50])
    LOG.info(printed.strip() + f"; agreement with pandas on DuckDB {agreement.precision:.5f} / {agreement.recall:.5f}")


def test_a_night_that_sees_only_part_of_sparks_tables_stops_naming_the_setting(spark_ready, sample_records, tmp_path):
    """On a cluster whose checkpoint folder the step does not share with the executors, the step
    would see only some of the parquet parts Spark wrote: it stops instead of losing pairs."""
    model_path = tmp_path / "model.json"
    close_linker(train_model(sample_records, model_path, LinkageConfig()))
    config = LinkageConfig(backend=SPARK)
    linker = load_model(sample_records, model_path, config)
    try:
        folder = handoff_folder(linker_session(linker))
        night = SparkNight(linker, config, folder)
        parts = sorted((folder / "pairs").glob("part-*.parquet"))
        assert len(parts) >= 2  # one per task: what several executors would write
        parts[0].unlink()  # a part written on another machine
        with pytest.raises(RuntimeError, match="DTSEN_LINKAGE_SPARK_CHECKPOINT_DIR"):
            night.pairs()
        night.close()
        assert not folder.exists()
    finally:
        close_linker(linker)
