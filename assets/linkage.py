"""linkage/*: Splink deduplicates persons within and across the person-bearing feeds.

One step scores candidate pairs with the promoted model (training a candidate only when asked,
with the `retrain_and_refresh` job or DTSEN_LINKAGE_RETRAIN=1, or when the data drifted; the
candidate is promoted only if it does no worse on clerical labels), clusters them behind the
guards and the verified decisions from `verval`, queues uncertain pairs for clerical review,
reports the model's precision and recall on the clerically labelled pairs and, where a truth
table exists (sample data), scores itself. Only ids, scores and counts leave the step.
"""

import time

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from assets.ingest import OWNERS, PERSON_FEEDS
from assets.jobs import RETRAIN_TAG
from dtsen_pipeline.clock import utc_now
from dtsen_pipeline.linkage.constraints import verval_constraints
from dtsen_pipeline.linkage.diagnostics import dtsen_duplicates_found, merged_persons, recall_by_kind
from dtsen_pipeline.linkage.evaluate import cluster_scores, pairwise_scores, scores_by_feed_pair
from dtsen_pipeline.linkage.governance import ModelRegistry
from dtsen_pipeline.linkage.incremental import fingerprints
from dtsen_pipeline.linkage.model import MODEL_VERSION, LinkageConfig, close_linker, save_charts
from dtsen_pipeline.linkage.pairs_store import kept_pairs_in_warehouse
from dtsen_pipeline.linkage.prepare import STAGED_COLUMNS, linkage_input
from dtsen_pipeline.linkage.review import (
    REVIEW_COLUMNS,
    level_labels,
    monthly_share,
    review_pairs,
    review_queue,
    write_review_files,
)
from dtsen_pipeline.linkage.run import Governance, PairsInForce, governed_linkage, signature_of
from dtsen_pipeline.linkage.truth import load_record_truth
from dtsen_pipeline.memory import release_freed_memory
from dtsen_pipeline.resources import LinkageSettings, PipelineSettings, WarehouseResource
from dtsen_pipeline.warehouse import (
    append_table,
    read_columns,
    read_table,
    read_table_if_exists,
    replace_table,
    table_exists,
)

MODEL_KEY = AssetKey(["linkage", "person_model"])
PAIRS_KEY = AssetKey(["linkage", "person_pairs"])
CLUSTER_KEY = AssetKey(["linkage", "person_cluster"])
REVIEW_KEY = AssetKey(["linkage", "review_queue"])
EVALUATION_KEY = AssetKey(["linkage", "evaluation"])
# The linkage figures watched run after run: numbers, so the UI plots them.
LINKAGE_COUNTS = ("records", "pairs_above_predict_threshold", "pairs_above_cluster_threshold", "clusters",
                  "largest_cluster")
STAGING_DEPS = [AssetKey(["staging", feed]) for feed in (*PERSON_FEEDS, "verval")]


def _pairs_in_force(engine) -> PairsInForce | None:
    """The pairs, fingerprints and signature the last linkage left (None before the first)."""
    if not all(table_exists(engine, "linkage", t) for t in ("pair_state", "record_fingerprint", "person_pairs")):
        return None
    state = read_table(engine, "linkage", "pair_state")
    if len(state) != 1:
        return None
    known = read_table(engine, "linkage", "record_fingerprint")

    def kept(carried: pd.Series, removed: frozenset[str], columns: list[str]) -> pd.DataFrame:  # PairsInForce
        return kept_pairs_in_warehouse(engine, carried, removed, columns)

    return PairsInForce(pairs=kept,
                        fingerprints=known.rename(columns={"record_id": "unique_id"}),
                        signature=str(state["signature"].iloc[0]))


def _label_rows(context, governance: Governance) -> list[dict[str, object]]:
    """linkage.evaluation rows from the clerical labels: every run, with or without a truth table.
    The model's own decisions are scored (not the clusters, which the same labels constrain)."""
    if not governance.labels:
        return []
    now = utc_now()
    labels = governance.labels
    return [{"run_id": context.run_id, "evaluated_at": now, "scope": "clerical_labels", "level": "pairwise",
             "precision": labels["precision"], "recall": labels["recall"], "f1": labels["f1"],
             "clusters": None, "true_persons": None, "labelled_pairs": labels["labelled_pairs"]}]


def _retrain_requested(context: AssetExecutionContext, config: LinkageConfig) -> bool:
    return config.retrain or context.run.tags.get(RETRAIN_TAG, "").lower() == "true"


def _evaluate(context, engine, records: pd.DataFrame, clusters: pd.DataFrame,
              truth: pd.DataFrame) -> dict[str, object]:
    truth_ids = truth[["record_id", "person_key", "feed"]]
    renamed = clusters.rename(columns={"unique_id": "record_id"})
    pairwise = pairwise_scores(renamed, truth_ids)
    cluster = cluster_scores(renamed, truth_ids)
    by_feed = scores_by_feed_pair(renamed, truth_ids)
    now = utc_now()
    rows = [{"run_id": context.run_id, "evaluated_at": now, "scope": "all", "level": "pairwise",
             **{k: pairwise.as_dict()[k] for k in ("precision", "recall", "f1")},
             "clusters": pairwise.clusters, "true_persons": pairwise.true_persons},
            {"run_id": context.run_id, "evaluated_at": now, "scope": "all", "level": "cluster",
             **{k: cluster.as_dict()[k] for k in ("precision", "recall", "f1")},
             "clusters": cluster.clusters, "true_persons": cluster.true_clusters}]
    rows += [{"run_id": context.run_id, "evaluated_at": now, "scope": f"{r.feed_a}-{r.feed_b}",
              "level": "pairwise", "precision": r.precision, "recall": r.recall, "f1": r.f1,
              "clusters": None, "true_persons": None} for r in by_feed.itertuples() if r.true_pairs]
    # Issue #12's figures: movers' pairs, persons listed twice in DTSEN, golden persons merging people.
    kinds = recall_by_kind(records, clusters, truth_ids, kinds=("village",))
    moved = kinds["village"].get("different", {"recall": 1.0, "true_pairs": 0})
    twice = dtsen_duplicates_found(clusters, truth_ids)
    merged = merged_persons(records, clusters, truth_ids)
    rows += [{"run_id": context.run_id, "evaluated_at": now, "scope": "different_villages", "level": "pairwise",
              "precision": None, "recall": moved["recall"], "f1": None, "clusters": None, "true_persons": None},
             {"run_id": context.run_id, "evaluated_at": now, "scope": "dtsen_listed_twice", "level": "person",
              "precision": twice["precision"], "recall": twice["recall"], "f1": None,
              "clusters": twice["flagged_clusters"], "true_persons": twice["persons_listed_twice"]},
             {"run_id": context.run_id, "evaluated_at": now, "scope": "merged_persons", "level": "cluster",
              "precision": None, "recall": None, "f1": None, "clusters": merged["merged_clusters"],
              "true_persons": merged["true_persons"]}]
    append_table(engine, pd.DataFrame(rows), "linkage", "evaluation")
    return {"pairwise": pairwise.as_dict(), "cluster": cluster.as_dict(),
            "by_feed_pair": by_feed.to_dict(orient="records"), "merged": merged, "dtsen_twice": twice,
            "different_villages": moved}


@multi_asset(
    specs=[
        AssetSpec(MODEL_KEY, deps=STAGING_DEPS, kinds={"splink", "duckdb"}, owners=OWNERS,
                  description="The Splink model that scored this run: the promoted one, or a candidate trained "
                              "on request or drift and promoted (registry under artifacts/linkage/models)."),
        AssetSpec(PAIRS_KEY, deps=[MODEL_KEY], kinds={"splink"}, owners=OWNERS,
                  description="Scored candidate pairs of person records (ids, weights, comparison levels)."),
        AssetSpec(CLUSTER_KEY, deps=[PAIRS_KEY], kinds={"splink"}, owners=OWNERS,
                  description="Person clusters (record_id -> cluster_id) from guarded clustering."),
        AssetSpec(REVIEW_KEY, deps=[CLUSTER_KEY], kinds={"python", "xlsx"}, owners=OWNERS,
                  description="Clerical-review queue: uncertain and guard-refused pairs, per kecamatan files."),
        AssetSpec(EVALUATION_KEY, deps=[CLUSTER_KEY], kinds={"python"}, owners=OWNERS, skippable=True,
                  description="The model's precision/recall/F1 on clerically labelled pairs (GANDA / "
                              "BUKAN_GANDA) every run; where a truth table exists (sample data), also pairwise "
                              "and cluster precision/recall/F1 overall and per feed pair."),
    ],
    group_name="linkage",
    can_subset=False,
)
def person_linkage(context: AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineSettings,
                   linkage: LinkageSettings):
    engine = warehouse.engine()
    release_freed_memory(engine)  # what ingestion and staging freed (dtsen_pipeline.memory)
    config = linkage.config()
    start = time.perf_counter()
    staged = pd.concat([read_columns(engine, "staging", feed, STAGED_COLUMNS) for feed in PERSON_FEEDS],
                       ignore_index=True)
    verval = read_table(engine, "staging", "verval")
    records = linkage_input(staged)
    del staged  # the review files read their columns again once Splink is closed (0.3 GB at 640,000 persons)
    known_pairs = read_table_if_exists(engine, "linkage", "review_pair")
    must_link, cannot_link = verval_constraints(verval, records, known_pairs)
    context.log.info(f"linkage prepare: {len(records):,} records from {len(PERSON_FEEDS)} feeds, "
                     f"{len(must_link):,} must-link and {len(cannot_link):,} cannot-link pairs from verval, "
                     f"in {time.perf_counter() - start:.2f}s")

    run_folder = pipeline.artifacts / "linkage" / context.run_id
    registry = ModelRegistry(pipeline.artifacts / "linkage" / "models")
    candidate_path = run_folder / f"person_model_v{MODEL_VERSION}.json"
    tonight = fingerprints(records)
    run, governance = governed_linkage(records, registry, candidate_path, context.run_id, config,
                                       _retrain_requested(context, config), must_link, cannot_link,
                                       progress=context.log.info, in_force=_pairs_in_force(engine),
                                       tonight=tonight)
    model_path = run.model_json
    if governance.trained:
        context.log.info(f"linkage model: trained ({governance.training_reason}); "
                         f"{'promoted' if governance.promoted else 'not promoted'}: {governance.promotion_reason}")
    else:
        context.log.info(f"linkage model: promoted model of run {governance.model_trained_in_run} scored")
    if governance.labels is None:
        context.log.info("linkage: no clerical labels (GANDA / BUKAN_GANDA) match this run's records")
    label_rows = _label_rows(context, governance)
    if label_rows:
        append_table(engine, pd.DataFrame(label_rows), "linkage", "evaluation")
    charts = save_charts(run.linker, run_folder / "charts")
    close_linker(run.linker)  # its DuckDB or local Spark, before the tables are written and the next steps run
    replace_table(engine, run.pairs.rename(columns={"unique_id_l": "record_id_l", "unique_id_r": "record_id_r"}),
                  "linkage", "person_pairs")
    replace_table(engine, run.clusters.rename(columns={"unique_id": "record_id"}), "linkage", "person_cluster")
    # What the next night needs to score only what changed: each record's fingerprint and the
    # signature of the model that scored the pairs just written (linkage.incremental).
    replace_table(engine, tonight.rename(columns={"unique_id": "record_id"}), "linkage", "record_fingerprint")
    replace_table(engine, pd.DataFrame({"signature": [signature_of(model_path, config)], "run_id": [context.run_id],
                                        "night": [run.stats["night"]]}), "linkage", "pair_state")
    context.log.info(f"linkage: {run.stats['records']} records -> {run.stats['clusters']} clusters; "
                     f"timings {run.timings}")

    yield MaterializeResult(asset_key=MODEL_KEY, metadata={
        "model_json": pipeline.artifact_link(model_path),
        "model_version": MODEL_VERSION,
        "trained_tonight": governance.trained,
        "training_reason": governance.training_reason or "",
        "promoted_tonight": governance.promoted,
        "promotion_reason": governance.promotion_reason,
        "model_trained_in_run": governance.model_trained_in_run,
        "clerical_label_scores": MetadataValue.json(governance.labels or {}),
        "candidate_label_scores": MetadataValue.json(governance.candidate_labels or {}),
        "match_weights_chart": pipeline.artifact_link(charts["match_weights"]),
        "m_u_parameters_chart": pipeline.artifact_link(charts["m_u_parameters"]),
        "config": MetadataValue.json(config.__dict__),
        "timings": MetadataValue.json(run.timings),
    })
    yield MaterializeResult(asset_key=PAIRS_KEY, metadata={
        "dagster/row_count": len(run.pairs), "dagster/table_name": "linkage.person_pairs"})
    yield MaterializeResult(asset_key=CLUSTER_KEY, metadata={
        "dagster/row_count": len(run.clusters), "dagster/table_name": "linkage.person_cluster",
        **{name: MetadataValue.int(int(run.stats[name])) for name in LINKAGE_COUNTS},
        "refused_edges": MetadataValue.int(sum(run.stats["refused_edges"].values())),
        "stats": MetadataValue.json(run.stats)})

    queued = review_pairs(run.pairs, run.refused_edges, config)
    staged = pd.concat([read_columns(engine, "staging", feed, REVIEW_COLUMNS) for feed in PERSON_FEEDS],
                       ignore_index=True)
    queue = review_queue(queued, staged, run.clusters, level_labels(model_path))
    del staged
    # Every pair ever queued stays known, so a decision returned months later still applies.
    append_table(engine, queued[["pair_id", "unique_id_l", "unique_id_r"]], "linkage", "review_pair",
                 unique_by=["pair_id"])
    period = pipeline.as_of().strftime("%Y-%m")
    this_month, waiting = monthly_share(queue, config.review_cap_per_kecamatan)
    files = write_review_files(this_month, run_folder / "review", period)
    yield MaterializeResult(asset_key=REVIEW_KEY, metadata={
        "dagster/row_count": len(queue),
        "review_queue_pairs": MetadataValue.int(len(queue)),
        "pairs_this_month": MetadataValue.int(len(this_month)),
        "pairs_waiting_for_later_months": MetadataValue.int(waiting),
        "cap_per_kecamatan": config.review_cap_per_kecamatan,
        "pairs_by_reason": MetadataValue.json(queue["ALASAN"].value_counts().to_dict()),
        "files": len(files),
        "folder": pipeline.artifact_link(run_folder / "review"),
    })

    truth = load_record_truth(pipeline.truth)
    labels = MetadataValue.json(governance.labels or {})
    if truth is None:
        context.log.info("linkage: no truth table in this deployment; scored on clerical labels only")
        if governance.labels:
            yield MaterializeResult(asset_key=EVALUATION_KEY, metadata={
                "dagster/table_name": "linkage.evaluation", "clerical_labels": labels})
        return
    scores = _evaluate(context, engine, records, run.clusters, truth)
    yield MaterializeResult(asset_key=EVALUATION_KEY, metadata={
        "dagster/table_name": "linkage.evaluation",
        "pairwise_precision": scores["pairwise"]["precision"],
        "pairwise_recall": scores["pairwise"]["recall"],
        "pairwise_f1": scores["pairwise"]["f1"],
        "cluster_f1": scores["cluster"]["f1"],
        "clusters": scores["pairwise"]["clusters"],
        "true_persons": scores["pairwise"]["true_persons"],
        "by_feed_pair": MetadataValue.json(scores["by_feed_pair"]),
        "merged_golden_persons": MetadataValue.json(scores["merged"]),
        "persons_listed_twice_in_dtsen": MetadataValue.json(scores["dtsen_twice"]),
        "different_village_pairs": MetadataValue.json(scores["different_villages"]),
        "clerical_labels": labels,
    })
