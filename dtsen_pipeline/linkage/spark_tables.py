"""The linkage with Spark tables in and out: the national path.

A regency's nightly step builds its records in pandas and links them on the chosen backend
(`linkage.run`). Beyond one machine the records are too many for one process: they are a Spark
table (parquet on the cluster's storage, written by the regencies' steps or an export), and so
are the results. `link_tables` scores every candidate pair with the promoted model, writes the
pairs above the predict threshold as parquet, runs the guarded clustering on them partition by
partition (`linkage.spark_clustering`) and writes the clusters and the refused edges as parquet:
no record and no pair passes through pandas or the driver, only counts do.

The records carry `linkage.prepare`'s linkage input columns, `unique_id` a string.

The nightly step's full nights on the Spark backend go the same way (`SparkNight`): the records
are the linker's input table, already in Spark; Spark writes the scored pairs and the clusters as
parquet where the step reads them with Arrow, and no pair passes through the driver.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from dtsen_pipeline.frames import arrow_to_pandas
from dtsen_pipeline.linkage.clustering import ClusterGuards, ClusteringResult
from dtsen_pipeline.linkage.model import (
    LinkageConfig,
    linker_on_table,
    linker_records_table,
    linker_session,
    record_ids,
    write_scored_pairs,
)
from dtsen_pipeline.linkage.spark_clustering import (
    GUARD_COLUMNS,
    ID_PAIR,
    SparkClustering,
    guarded_clusters_on_spark,
)

PAIRS, CLUSTERS, REFUSED = "pairs", "clusters", "refused_edges"
CODE_WIDTH = 12  # digits of a record's code as text (a trillion records)


class DuplicateRecordIds(ValueError):
    """Records that share an id: Splink would pair them as one record."""


@dataclass(frozen=True)
class TableLinkage:
    """Where `link_tables` wrote its three tables (parquet folders), and their counts."""

    pairs: str
    clusters: str
    refused_edges: str
    counts: dict[str, int]  # pairs, clusters, records, partitions, largest_partition
    refused: dict[str, int]  # refusals per guard


def link_tables(session: Any, records: Any, model: dict, config: LinkageConfig, out: str,
                guards: ClusterGuards | None = None, must_link: Any = None,
                cannot_link: Any = None) -> TableLinkage:
    """Link `records` (a Spark DataFrame of `session`, a `backend.SparkSplinkSession`) with the saved
    `model`; the pairs, clusters and refused edges go to `out`/pairs, /clusters, /refused_edges as
    parquet (`out`: a folder or a URL Spark writes to). Must/cannot links: Spark DataFrames of id
    pairs. The session stays open (the caller's)."""
    paths = {name: str(Path(out) / name) if "://" not in out else f"{out.rstrip('/')}/{name}"
             for name in (PAIRS, CLUSTERS, REFUSED)}
    records = records.persist()
    try:
        shared = records.groupBy("unique_id").count().filter("count > 1").count()
        if shared:
            raise DuplicateRecordIds(
                f"{shared:,} record id(s) are held by more than one record: tables of several regencies are linked "
                "together only with the regency in their ids (dtsen export-staged --kabupaten)")
        linker = linker_on_table(session, records, model)
        pairs = write_scored_pairs(linker, config, paths[PAIRS])
        clustering = guarded_clusters_on_spark(session.db_api, records.select(*GUARD_COLUMNS), pairs,
                                               config.cluster_threshold, guards, must_link, cannot_link)
        written = write_clustering(clustering, paths[CLUSTERS], paths[REFUSED])
        spark = session.spark
        clusters = spark.read.parquet(paths[CLUSTERS])
        counts = {"records": written[CLUSTERS], "pairs": spark.read.parquet(paths[PAIRS]).count(),
                  "clusters": clusters.select("cluster_id").distinct().count(),
                  "partitions": clustering.partitions, "largest_partition": clustering.largest_partition}
    finally:
        records.unpersist()
    return TableLinkage(paths[PAIRS], paths[CLUSTERS], paths[REFUSED], counts, dict(clustering.refused))


def write_clustering(result: SparkClustering, clusters: str, refused: str) -> dict[str, int]:
    """Write the clusters and the refused edges of a Spark clustering as parquet at `clusters` and
    `refused`, then release its cached output; the rows of each, as Spark counted them."""
    try:
        result.clusters.write.mode("overwrite").parquet(clusters)
        result.refused_edges.write.mode("overwrite").parquet(refused)
        return {CLUSTERS: result.clusters.count(), REFUSED: result.refused_edges.count()}
    finally:
        result.release()


def handoff_folder(session: Any) -> Path | None:
    """A new folder beside Splink's checkpoints where Spark writes tables this process reads with
    Arrow: the private temp folder on a local Spark, the shared volume on a cluster whose
    checkpoints are a mounted path. None when the checkpoints are on storage this process does not
    mount (hdfs://, s3a://): the results then come back through the driver."""
    checkpoints = session.spark.sparkContext.getCheckpointDir() or ""
    if not checkpoints.startswith("file:"):
        return None
    return Path(checkpoints.removeprefix("file:")).parent / f"handoff_{uuid.uuid4().hex}"


class SparkNight:
    """A full night's linkage on the Spark backend with tables in and out: the records are the
    linker's input table (already in Spark), the scored pairs and the clusters are written by Spark
    as parquet to `folder` (`handoff_folder`) and read from there with Arrow; no pair passes
    through the driver. Ids are the linker's codes inside Spark, record ids outside."""

    def __init__(self, linker: Any, config: LinkageConfig, folder: Path) -> None:
        self.linker, self.config, self.folder = linker, config, folder
        self.session, self.ids = linker_session(linker), record_ids(linker)
        try:
            self.spark_pairs = write_scored_pairs(linker, config, str(folder / PAIRS))
            self.pairs_written = self.spark_pairs.count()  # Spark's own count, read from every part
        except BaseException:
            self.close()
            raise

    def _read(self, name: str, id_columns: list[str], written: int) -> pd.DataFrame:
        """A table Spark wrote, as pandas with record ids; all `written` rows of it, or an error (a
        folder the executors do not share with this process would give only some of its parts)."""
        frame = arrow_to_pandas(pq.read_table(self.folder / name))
        if len(frame) != written:
            raise RuntimeError(f"linkage on Spark: {name} has {written:,} rows in Spark but {len(frame):,} here: "
                               "DTSEN_LINKAGE_SPARK_CHECKPOINT_DIR must be storage the executors and this step share")
        return self.ids.decoded(frame.astype({c: "int64" for c in id_columns}), id_columns)

    def pairs(self) -> pd.DataFrame:
        """The scored pairs above the predict threshold, as `model.score_pairs` gives them."""
        return self._read(PAIRS, ID_PAIR, self.pairs_written)

    def cluster(self, guards: ClusterGuards | None, must_link: pd.DataFrame,
                cannot_link: pd.DataFrame) -> ClusteringResult:
        """The guarded clustering of the pairs on Spark, partition by partition; then the folder goes."""
        from pyspark.sql import functions as F

        def as_text(frame: Any, columns: list[str]) -> Any:
            # The clustering takes ids as text and names a cluster by its smallest id: codes
            # zero-padded sort as the record ids they stand for, so the names are the one-process ones.
            return frame.withColumns({c: F.lpad(F.col(c).cast("string"), CODE_WIDTH, "0") for c in columns})

        try:
            records = self.session.spark.table(linker_records_table(self.linker)).select(*GUARD_COLUMNS)
            decisions = [None if not len(frame) else self.session.native(
                self.ids.encoded(frame[ID_PAIR], ID_PAIR).astype({c: "str" for c in ID_PAIR}))
                for frame in (must_link, cannot_link)]
            result = guarded_clusters_on_spark(
                self.session.db_api, as_text(records, ["unique_id"]), as_text(self.spark_pairs, ID_PAIR),
                self.config.cluster_threshold, guards, *[d if d is None else as_text(d, ID_PAIR) for d in decisions])
            written = write_clustering(result, str(self.folder / CLUSTERS), str(self.folder / REFUSED))
            return ClusteringResult(self._read(CLUSTERS, ["unique_id", "cluster_id"], written[CLUSTERS]),
                                    dict(result.refused), self._read(REFUSED, ID_PAIR, written[REFUSED]))
        finally:
            self.close()

    def close(self) -> None:
        """Remove the folder (it holds record ids and the pairs' comparison levels)."""
        shutil.rmtree(self.folder, ignore_errors=True)
