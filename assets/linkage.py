"""linkage/*: Splink deduplicates persons within and across the person-bearing feeds."""


import datetime as dt

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from assets.ingest import OWNERS, PERSON_FEEDS
from dtsen_pipeline.linkage.evaluate import pairwise_scores
from dtsen_pipeline.linkage.model import run_linkage
from dtsen_pipeline.linkage.prepare import linkage_input
from dtsen_pipeline.linkage.truth import load_record_truth
from dtsen_pipeline.resources import PipelineSettings, WarehouseResource
from dtsen_pipeline.warehouse import read_table, replace_table, table_exists

MODEL_KEY = AssetKey(["linkage", "person_model"])
PAIRS_KEY = AssetKey(["linkage", "person_pairs"])
CLUSTER_KEY = AssetKey(["linkage", "person_cluster"])
EVALUATION_KEY = AssetKey(["linkage", "evaluation"])
STAGING_DEPS = [AssetKey(["staging", feed]) for feed in PERSON_FEEDS]


def _append_evaluation(engine, row: dict) -> None:
    history = read_table(engine, "linkage", "evaluation") if table_exists(engine, "linkage", "evaluation") else None
    frame = pd.DataFrame([row])
    if history is not None and len(history):
        frame = pd.concat([history, frame], ignore_index=True)
    replace_table(engine, frame, "linkage", "evaluation")


@multi_asset(
    specs=[
        AssetSpec(MODEL_KEY, deps=STAGING_DEPS, description="Trained Splink model, saved as JSON per run.",
                  kinds={"splink", "duckdb"}, owners=OWNERS),
        AssetSpec(PAIRS_KEY, deps=[MODEL_KEY], description="Scored candidate pairs of person records.",
                  kinds={"splink"}, owners=OWNERS),
        AssetSpec(CLUSTER_KEY, deps=[PAIRS_KEY], description="Person clusters: record_id -> cluster_id.",
                  kinds={"splink"}, owners=OWNERS),
        AssetSpec(EVALUATION_KEY, deps=[CLUSTER_KEY],
                  description="Pairwise precision/recall/F1 against the sample truth, one row per run.",
                  kinds={"python"}, owners=OWNERS, skippable=True),
    ],
    group_name="linkage",
    can_subset=False,
)
def person_linkage(context: AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineSettings):
    engine = warehouse.engine()
    staged = pd.concat([read_table(engine, "staging", feed) for feed in PERSON_FEEDS], ignore_index=True)
    records = linkage_input(staged)
    model_path = pipeline.artifacts / "linkage" / f"person_model_{context.run_id}.json"
    run = run_linkage(records, model_path)
    replace_table(engine, run.pairs, "linkage", "person_pairs")
    replace_table(engine, run.clusters, "linkage", "person_cluster")
    context.log.info(f"linkage: {run.stats['records']} records -> {run.stats['clusters']} clusters")
    yield MaterializeResult(asset_key=MODEL_KEY, metadata={"model_json": MetadataValue.path(str(model_path))})
    yield MaterializeResult(asset_key=PAIRS_KEY, metadata={
        "dagster/row_count": len(run.pairs), "dagster/table_name": "linkage.person_pairs"})

    cluster_metadata: dict[str, object] = {
        "dagster/row_count": len(run.clusters),
        "dagster/table_name": "linkage.person_cluster",
        "stats": MetadataValue.json(run.stats),
    }
    truth = load_record_truth(pipeline.truth)
    if truth is not None:
        scores = pairwise_scores(run.clusters, truth[["record_id", "person_key"]])
        cluster_metadata.update({
            "pairwise_precision": scores.precision,
            "pairwise_recall": scores.recall,
            "pairwise_f1": scores.f1,
            "clusters": scores.clusters,
            "true_persons": scores.true_persons,
        })
        _append_evaluation(engine, {"run_id": context.run_id, "evaluated_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
                                    **scores.as_dict()})
        yield MaterializeResult(asset_key=CLUSTER_KEY, metadata=cluster_metadata)
        yield MaterializeResult(asset_key=EVALUATION_KEY, metadata={
            "dagster/table_name": "linkage.evaluation", **scores.as_dict()})
    else:
        context.log.info("linkage: no truth table in this deployment; evaluation skipped")
        yield MaterializeResult(asset_key=CLUSTER_KEY, metadata=cluster_metadata)
