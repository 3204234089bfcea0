"""The linkage with Spark tables in and out: the national path.

A regency's nightly step builds its records in pandas and links them on the chosen backend
(`linkage.run`). Beyond one machine the records are too many for one process: they are a Spark
table (parquet on the cluster's storage, written by the regencies' steps or an export), and so
are the results. `link_tables` scores every candidate pair with the promoted model, writes the
pairs above the predict threshold as parquet, runs the guarded clustering on them partition by
partition (`linkage.spark_clustering`) and writes the clusters and the refused edges as parquet:
no record and no pair passes through pandas or the driver, only counts do.

The records carry `linkage.prepare`'s linkage input columns, `unique_id` a string.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dtsen_pipeline.linkage.clustering import ClusterGuards
from dtsen_pipeline.linkage.model import LinkageConfig, linker_on_table, write_scored_pairs
from dtsen_pipeline.linkage.spark_clustering import GUARD_COLUMNS, guarded_clusters_on_spark

PAIRS, CLUSTERS, REFUSED = "pairs", "clusters", "refused_edges"


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
        linker = linker_on_table(session, records, model)
        pairs = write_scored_pairs(linker, config, paths[PAIRS])
        clustering = guarded_clusters_on_spark(session.db_api, records.select(*GUARD_COLUMNS), pairs,
                                               config.cluster_threshold, guards, must_link, cannot_link)
        try:
            clustering.clusters.write.mode("overwrite").parquet(paths[CLUSTERS])
            clustering.refused_edges.write.mode("overwrite").parquet(paths[REFUSED])
        finally:
            clustering.release()
        spark = session.spark
        clusters = spark.read.parquet(paths[CLUSTERS])
        counts = {"records": clusters.count(), "pairs": spark.read.parquet(paths[PAIRS]).count(),
                  "clusters": clusters.select("cluster_id").distinct().count(),
                  "partitions": clustering.partitions, "largest_partition": clustering.largest_partition}
    finally:
        records.unpersist()
    return TableLinkage(paths[PAIRS], paths[CLUSTERS], paths[REFUSED], counts, dict(clustering.refused))
