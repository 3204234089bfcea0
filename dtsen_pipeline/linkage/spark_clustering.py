"""Guarded clustering on Spark: the same guards, run in Spark's Python workers, a partition at a time.

The guards (`linkage.clustering`) take edges strongest first and keep per-group evidence, which
does not parallelise edge by edge. But everything they look at is local. A record's edges and
the groups those edges join; the other records that carry the same NIK (is it on the civil
registry, was it issued where its records live); the civil registry's members of the same No. KK
(the family guards). So the records split into **partitions**: the connected components of the
scored edges at or above the cluster threshold, the must-link pairs, and links between records
that share a NIK or a No. KK. No cluster, refusal or family spans two partitions, and
`guarded_clusters` on each partition gives exactly what it gives on all records at once
(a cannot-link pair across two partitions cannot be merged anyway).

Spark finds the partitions with Splink's connected components (SQL, on the cluster), hashes them
into buckets, and runs `guarded_clusters` on each bucket's records and links in a Python worker
(`cogroup().applyInPandas`). No process holds more than one bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from dtsen_pipeline.linkage.clustering import ClusterGuards, ClusteringResult, guarded_clusters

ID_PAIR = ["unique_id_l", "unique_id_r"]
# Columns of the records the guards read (linkage.prepare's linkage input carries them all).
GUARD_COLUMNS = ["unique_id", "nik", "nik_prefix15", "no_kk", "jenis_kelamin", "dob", "dob_year",
                 "dob_imprecise", "kode_kecamatan", "feed"]
# Several partitions share a bucket: one Python call per partition would cost more than most
# partitions (one to a few records each) take to cluster.
DEFAULT_BUCKETS = 16
SCORED, MUST, CANNOT = "scored", "must", "cannot"
CLUSTER, REFUSED, COUNT = "cluster", "refused", "count"
OUTPUT_SCHEMA = ("kind string, unique_id string, cluster_id string, unique_id_r string, reason string, "
                 "refusals long")


@dataclass(frozen=True)
class SparkClustering:
    """The clusters and refused edges as Spark DataFrames; the refusal counts (small) collected."""

    clusters: Any  # Spark DataFrame: unique_id, cluster_id
    refused_edges: Any  # Spark DataFrame: unique_id_l, unique_id_r, reason
    refused: dict[str, int]
    partitions: int  # connected components the records fell into
    largest_partition: int  # records in the largest
    output: Any  # the cached table both frames read: `release` when they are collected or written

    def release(self) -> None:
        """Drop the cached output from the Spark session (it holds record ids)."""
        self.output.unpersist()


def partition_links(records: Any, strong: Any, must_link: Any) -> Any:
    """The edges whose connected components are the partitions (Spark DataFrame of id pairs): the
    `strong` scored pairs (already at or above the cluster threshold), must-link pairs, and each
    record to the smallest id that shares its NIK, and its No. KK (a star per value, not every
    pair of a large family)."""
    from pyspark.sql import functions as F

    def same_value(column: str) -> Any:
        holders = records.where(F.col(column).isNotNull()).select("unique_id", column)
        anchors = holders.groupBy(column).agg(F.min("unique_id").alias("unique_id_r"))
        return (holders.join(anchors, column).where(F.col("unique_id") != F.col("unique_id_r"))
                .select(F.col("unique_id").alias("unique_id_l"), "unique_id_r"))

    ids = records.select("unique_id")
    must = (must_link.select(*ID_PAIR)
            .join(ids.withColumnRenamed("unique_id", "unique_id_l"), "unique_id_l", "left_semi")
            .join(ids.withColumnRenamed("unique_id", "unique_id_r"), "unique_id_r", "left_semi")
            .select(*ID_PAIR))
    return strong.select(*ID_PAIR).unionByName(must).unionByName(same_value("nik")).unionByName(same_value("no_kk"))


def record_partitions(db_api: Any, records: Any, links: Any) -> Any:
    """Per record, its partition (Spark DataFrame: unique_id, partition_id), by Splink's connected
    components on the backend; a record without links is a partition of its own."""
    from pyspark.sql import functions as F
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    components = cluster_pairwise_predictions_at_threshold(
        records.select("unique_id"), links, db_api, node_id_column_name="unique_id")
    return components.as_spark_dataframe().select("unique_id", F.col("cluster_id").alias("partition_id"))


def _cluster_bucket(threshold: float, guards: ClusterGuards, records: pd.DataFrame,
                    links: pd.DataFrame) -> pd.DataFrame:
    """`guarded_clusters` on one bucket's records and links, as rows of OUTPUT_SCHEMA."""
    kind = links["kind"].to_numpy()
    gammas = [c for c in links.columns if c.startswith("gamma_")]
    pairs = links.loc[kind == SCORED].drop(columns=["kind", "bucket"])
    pairs[gammas] = pairs[gammas].astype("int64")  # null on must/cannot rows: Arrow gave floats
    must, cannot = (links.loc[kind == which, ID_PAIR].reset_index(drop=True) for which in (MUST, CANNOT))
    result = guarded_clusters(records.drop(columns=["bucket"]), pairs.reset_index(drop=True), threshold,
                              guards, must, cannot)
    clusters = result.clusters.assign(kind=CLUSTER)
    refused = result.refused_edges.rename(columns={"unique_id_l": "unique_id"}).assign(kind=REFUSED)
    counts = pd.DataFrame({"kind": COUNT, "reason": list(result.refused),
                           "refusals": list(result.refused.values())})
    out = pd.concat([clusters, refused, counts], ignore_index=True)
    columns = ["kind", "unique_id", "cluster_id", "unique_id_r", "reason", "refusals"]
    return out.reindex(columns=columns).astype({c: "object" for c in columns[:-1]} | {"refusals": "Int64"})


def guarded_clusters_on_spark(
    db_api: Any,
    records: Any,
    pairs: Any,
    threshold: float,
    guards: ClusterGuards | None = None,
    must_link: Any = None,
    cannot_link: Any = None,
    buckets: int = DEFAULT_BUCKETS,
) -> SparkClustering:
    """`clustering.guarded_clusters` for Spark DataFrames (records with GUARD_COLUMNS; scored pairs
    with ids, match_weight, match_probability and gamma_* columns; must/cannot id pairs), run
    partition by partition in Spark's Python workers. `db_api`: Splink's SparkAPI of the session."""
    from pyspark.sql import functions as F

    guards = guards or ClusterGuards()
    spark = db_api.spark
    empty = spark.createDataFrame([], "unique_id_l string, unique_id_r string")
    must_link = must_link if must_link is not None else empty
    cannot_link = cannot_link if cannot_link is not None else empty
    records = records.select(*GUARD_COLUMNS)
    strong = pairs.where(F.col("match_probability") >= threshold)
    parts = record_partitions(db_api, records, partition_links(records, strong, must_link)).persist()
    sizes = parts.groupBy("partition_id").count().agg(F.count("*").alias("partitions"),
                                                       F.max("count").alias("largest")).first()
    bucket = parts.select("unique_id", F.pmod(F.hash("partition_id"), F.lit(buckets)).alias("bucket"))
    # A new column, not a rename: both sides of the cogroup would otherwise hold one lineage's
    # `bucket` and Spark refuses the grouping as ambiguous.
    left_bucket = bucket.select(F.col("unique_id").alias("unique_id_l"), (F.col("bucket") + 0).alias("bucket"))
    gammas = [c for c in strong.columns if c.startswith("gamma_")]
    scored_columns = [*ID_PAIR, "match_weight", "match_probability", *gammas]
    links = strong.select(*scored_columns).withColumn("kind", F.lit(SCORED))
    for kind, frame in ((MUST, must_link), (CANNOT, cannot_link)):
        extra = [F.lit(None).cast(strong.schema[c].dataType).alias(c) for c in scored_columns[2:]]
        links = links.unionByName(frame.select(*ID_PAIR, *extra).withColumn("kind", F.lit(kind)))
    links = links.join(left_bucket, "unique_id_l")  # a pair's records share a partition (cannot: may not)
    out = (records.join(bucket, "unique_id").groupBy("bucket")
           .cogroup(links.groupBy("bucket"))
           .applyInPandas(lambda r, p: _cluster_bucket(threshold, guards, r, p), OUTPUT_SCHEMA)
           .persist())
    counts = {row["reason"]: int(row["n"]) for row in
              out.where(F.col("kind") == COUNT).groupBy("reason").agg(F.sum("refusals").alias("n")).collect()}
    clusters = out.where(F.col("kind") == CLUSTER).select("unique_id", "cluster_id")
    refused = (out.where(F.col("kind") == REFUSED)
               .select(F.col("unique_id").alias("unique_id_l"), "unique_id_r", "reason"))
    parts.unpersist()
    return SparkClustering(clusters, refused, counts, int(sizes["partitions"]), int(sizes["largest"]), out)


def guarded_clusters_through_spark(session: Any, records: pd.DataFrame, pairs: pd.DataFrame, threshold: float,
                                   guards: ClusterGuards | None = None, must_link: pd.DataFrame | None = None,
                                   cannot_link: pd.DataFrame | None = None) -> ClusteringResult:
    """`guarded_clusters` for the nightly step on DTSEN_LINKAGE_BACKEND=spark: its pandas records
    and scored pairs go to the local Spark (`session`: backend.SparkSplinkSession), the clustering
    runs there partition by partition, and the clusters and refused edges (ids only) come back."""
    frames = [None if frame is None or not len(frame) else session.native(frame[ID_PAIR])
              for frame in (must_link, cannot_link)]
    result = guarded_clusters_on_spark(session.db_api, session.native(records[GUARD_COLUMNS]),
                                       session.native(pairs), threshold, guards, *frames)
    try:
        return ClusteringResult(result.clusters.toPandas(), result.refused, result.refused_edges.toPandas())
    finally:
        result.release()
