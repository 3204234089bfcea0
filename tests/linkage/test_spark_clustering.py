"""Guarded clustering on Spark (linkage.spark_clustering) gives exactly the clusters, refused edges
and refusal counts of `guarded_clusters` on all records at once: the session sample's records,
its pairs scored by the model, with verified decisions that force a refused merge and forbid an
accepted one. Spark runs for real (local mode); without pyspark or Java this skips, saying so,
when CI is unset, and fails under CI."""

import logging

import pandas as pd
import pytest

from dtsen_pipeline.linkage.backend import SPARK, open_session
from dtsen_pipeline.linkage.clustering import guarded_clusters
from dtsen_pipeline.linkage.model import LinkageConfig, close_linker, score_pairs
from dtsen_pipeline.linkage.run import train_model
from dtsen_pipeline.linkage.spark_clustering import GUARD_COLUMNS, guarded_clusters_on_spark

LOG = logging.getLogger(__name__)
ID_PAIR = ["unique_id_l", "unique_id_r"]


@pytest.fixture(scope="module")
def scored(sample_records, tmp_path_factory) -> pd.DataFrame:
    config = LinkageConfig()
    linker = train_model(sample_records, tmp_path_factory.mktemp("model") / "model.json", config)
    try:
        return score_pairs(linker, config)
    finally:
        close_linker(linker)


def _sorted(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame[columns].astype("str").sort_values(columns).reset_index(drop=True)


def test_spark_partitions_cluster_exactly_as_one_process(spark_ready, sample_records, scored):
    threshold = LinkageConfig().cluster_threshold
    plain = guarded_clusters(sample_records, scored, threshold)
    # Verified decisions: a merge the guards refused, made by a facilitator (must-link); an accepted
    # pair of a large cluster declared two people (cannot-link).
    refused = plain.refused_edges.sort_values(ID_PAIR)
    must = refused[refused["reason"] != "THIN_EVIDENCE"].head(3)[ID_PAIR]
    sizes = plain.clusters.groupby("cluster_id")["unique_id"].transform("size")
    big = plain.clusters[sizes >= 3].sort_values(["cluster_id", "unique_id"])
    first = big.groupby("cluster_id")["unique_id"].agg(list).head(3)
    cannot = pd.DataFrame([(ids[0], ids[1]) for ids in first], columns=ID_PAIR)
    assert len(must) == 3 and len(cannot) == 3
    expected = guarded_clusters(sample_records, scored, threshold, must_link=must, cannot_link=cannot)
    assert expected.refused and expected.clusters["cluster_id"].nunique() < len(sample_records)
    assert not expected.clusters.equals(plain.clusters)  # the decisions changed something

    session = open_session(SPARK)
    try:
        result = guarded_clusters_on_spark(
            session.db_api, session.native(sample_records[GUARD_COLUMNS]), session.native(scored), threshold,
            must_link=session.native(must), cannot_link=session.native(cannot), buckets=8)
        clusters = result.clusters.toPandas()
        refused_edges = result.refused_edges.toPandas()
        result.release()
        assert not result.output.is_cached
    finally:
        session.close()

    # Really split: a partition is about a family (its records in every feed), none holds more than
    # a small share of the records.
    n = len(sample_records)
    assert result.partitions > n / 20
    assert result.largest_partition < n / 100
    pd.testing.assert_frame_equal(_sorted(clusters, ["unique_id", "cluster_id"]),
                                  _sorted(expected.clusters, ["unique_id", "cluster_id"]))
    pd.testing.assert_frame_equal(_sorted(refused_edges, [*ID_PAIR, "reason"]),
                                  _sorted(expected.refused_edges, [*ID_PAIR, "reason"]))
    assert result.refused == expected.refused
    LOG.info(f"{len(sample_records):,} records, {result.partitions:,} partitions (largest "
             f"{result.largest_partition}), {clusters['cluster_id'].nunique():,} clusters, refused {result.refused}")


def test_a_registry_twin_outside_the_edges_still_guards_the_merge(spark_ready):
    """A programme-list row whose NIK is one digit off both twins' NIKs (0001, 0002 on one No. KK)
    may be either twin: the merge with the one it was scored against is refused. The other twin
    has no edge at all, so only the No. KK puts it in that partition; without it the Spark run
    would see one family member and merge."""
    card = "1806012003150007"
    rows = [  # unique_id, nik, no_kk, feed, sex, dob
        ("dukcapil:a", "1806014506900001", card, "dukcapil", "P", "1990-06-05"),
        ("dukcapil:c", "1806014506900002", card, "dukcapil", "P", "1990-06-05"),
        ("bansos:b", "1806014506900003", card, "bansos", "P", None),
        *[(f"dukcapil:o{i}", f"18060101018500{i:02d}", f"18060120031500{i:02d}", "dukcapil", "L", "1985-01-01")
          for i in range(10, 30)],
    ]
    records = pd.DataFrame(rows, columns=["unique_id", "nik", "no_kk", "feed", "jenis_kelamin", "dob"])
    records["nik_prefix15"] = records["nik"].str[:15]
    records["dob_year"] = pd.to_datetime(records["dob"]).dt.year.astype("Int64")
    records["dob_imprecise"] = False
    records["kode_kecamatan"] = "18.06.01"
    pairs = pd.DataFrame([("bansos:b", "dukcapil:a", 12.0, 0.9998, 2, 4, -1, 3)],
                         columns=[*ID_PAIR, "match_weight", "match_probability", "gamma_nik", "gamma_no_kk",
                                  "gamma_dob", "gamma_name_key"])
    threshold = LinkageConfig().cluster_threshold
    expected = guarded_clusters(records, pairs, threshold)
    assert expected.refused == {"NIK_NEAR_MISS": 1}
    alone = guarded_clusters(records[records["unique_id"] != "dukcapil:c"], pairs, threshold)
    assert alone.refused == {}  # what a partition without the twin would decide

    session = open_session(SPARK)
    try:
        result = guarded_clusters_on_spark(session.db_api, session.native(records[GUARD_COLUMNS]),
                                           session.native(pairs), threshold, buckets=64)
        clusters = result.clusters.toPandas()
    finally:
        session.close()
    assert result.refused == {"NIK_NEAR_MISS": 1}
    pd.testing.assert_frame_equal(_sorted(clusters, ["unique_id", "cluster_id"]),
                                  _sorted(expected.clusters, ["unique_id", "cluster_id"]))
