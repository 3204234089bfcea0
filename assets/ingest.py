"""raw/<feed> and staging/<feed> assets, the quarantine table, and the no-row-lost checks.

The work itself lives in dtsen_pipeline.ingest (intake: deliveries; staged: staging); these
functions only wire it to Dagster and turn its counts into metadata (never record values).
"""


import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from dtsen_pipeline.ingest.feeds import FeedSpec, load_feed_specs
from dtsen_pipeline.ingest.intake import ingest_feed
from dtsen_pipeline.ingest.staged import quarantine_part, stage_in_force
from dtsen_pipeline.ingest.staging import empty_quarantine
from dtsen_pipeline.ingest.store import count_in_force, count_raw
from dtsen_pipeline.resources import PipelineSettings, WarehouseResource
from dtsen_pipeline.warehouse import count_rows, read_sql, read_table, replace_table, table_exists

FEEDS: dict[str, FeedSpec] = load_feed_specs()
PERSON_FEEDS = tuple(name for name, spec in FEEDS.items() if spec.entity == "person")
OWNERS = ["team:data-engineering"]

__all__ = ["FEEDS", "PERSON_FEEDS", "conservation_checks", "quarantine", "quarantine_part", "raw_assets",
           "staging_assets"]


def _raw_asset(spec: FeedSpec) -> AssetsDefinition:
    @asset(
        key=AssetKey(["raw", spec.name]),
        group_name="ingest",
        kinds={"python", "csv", "xlsx"},
        owners=OWNERS,
        description=f"Every record of every delivery loaded from <landing>/{spec.name}/ (kept as text with "
        f"provenance and delivery_id; raw.delivery says which deliveries are in force). {spec.description}.",
    )
    def raw_feed(context: AssetExecutionContext, warehouse: WarehouseResource,
                 pipeline: PipelineSettings) -> MaterializeResult:
        engine = warehouse.engine()
        result = ingest_feed(engine, pipeline.landing, spec, run_id=context.run_id)
        for report in result.problems:
            context.log.warning(f"feed {spec.name}: {report.status}: {report.problem}")
        for report in result.reports:
            if report.note:
                context.log.info(f"feed {spec.name}: file {report.source_file}: {report.note}")
        summary = result.summary()
        if result.problems and result.in_force:
            kept = ", ".join(d["source_file"] for d in summary["in_force"])
            context.log.warning(f"feed {spec.name}: {len(result.problems)} delivery(ies) not loaded; "
                                f"still in force: {kept}")
        context.log.info(f"feed {spec.name}: {result.rows_added} records added from {len(result.reports)} "
                         f"new file(s); {summary['rows_in_force']} records in force")
        return MaterializeResult(metadata={
            "dagster/row_count": count_raw(engine, spec.name),
            "dagster/table_name": f"raw.{spec.name}",
            "rows_in_force": summary["rows_in_force"],
            "rows_added": result.rows_added,
            "files_examined": summary["files_examined"],
            "deliveries_loaded": summary["deliveries_loaded"],
            "deliveries_duplicate": summary["deliveries_duplicate"],
            "deliveries_not_loaded": summary["deliveries_not_loaded"],
            "deliveries_in_force": MetadataValue.json(summary["in_force"]),
            "file_report": MetadataValue.json([r.as_dict() for r in result.reports]),
            "problems": MetadataValue.md("\n".join(f"- `{r.status}` {r.problem}" for r in result.problems)
                                         or "none"),
        })

    return raw_feed


def _staging_asset(spec: FeedSpec) -> AssetsDefinition:
    @asset(
        key=AssetKey(["staging", spec.name]),
        deps=[AssetKey(["raw", spec.name])],
        group_name="staging",
        kinds={"python", "pandas"},
        owners=OWNERS,
        description=f"{spec.name} records of the deliveries in force, typed and normalised to the canonical "
        "schema; rows that cannot be staged go to the quarantine with a reason.",
    )
    def staging_feed(context: AssetExecutionContext, warehouse: WarehouseResource,
                     pipeline: PipelineSettings) -> MaterializeResult:
        result = stage_in_force(warehouse.engine(), spec, scope=pipeline.scope, as_of=pipeline.as_of())
        context.log.info(f"feed {spec.name}: {result.rows_in} in, {result.rows_staged} staged, "
                         f"{result.rows_quarantined} quarantined, {result.rows_out_of_scope} outside "
                         f"scope {pipeline.scope} (staged and flagged)")
        return MaterializeResult(metadata={
            "dagster/row_count": result.rows_staged,
            "dagster/table_name": f"staging.{spec.name}",
            "rows_in": result.rows_in,
            "rows_staged": result.rows_staged,
            "rows_quarantined": result.rows_quarantined,
            "rows_out_of_scope": result.rows_out_of_scope,
            "quarantined_by_reason": MetadataValue.json(result.by_reason),
            "quarantined_by_file_reason": MetadataValue.json(result.by_file_reason),
        })

    return staging_feed


def _conservation_check(spec: FeedSpec):
    @asset_check(
        asset=AssetKey(["staging", spec.name]),
        name="no_row_lost",
        blocking=True,
        description="Rows of the deliveries in force (raw) = rows staged + rows quarantined.",
    )
    def no_row_lost(warehouse: WarehouseResource) -> AssetCheckResult:
        engine = warehouse.engine()
        rows_in = count_in_force(engine, spec.name)
        staged = count_rows(engine, "staging", spec.name)
        quarantined = count_rows(engine, "quality", quarantine_part(spec.name))
        return AssetCheckResult(
            passed=rows_in == staged + quarantined,
            severity=AssetCheckSeverity.ERROR,
            metadata={"rows_in": rows_in, "rows_staged": staged, "rows_quarantined": quarantined,
                      "difference": rows_in - staged - quarantined},
        )

    return no_row_lost


@asset(
    key=AssetKey(["quality", "quarantine"]),
    deps=[AssetKey(["staging", name]) for name in FEEDS],
    group_name="staging",
    kinds={"python"},
    owners=OWNERS,
    description="Every input row that could not be staged: feed, source file, source row and a reason code.",
)
def quarantine(warehouse: WarehouseResource) -> MaterializeResult:
    engine = warehouse.engine()
    parts = [read_table(engine, "quality", quarantine_part(name)) for name in FEEDS
             if table_exists(engine, "quality", quarantine_part(name))]
    frame = pd.concat(parts, ignore_index=True) if parts else empty_quarantine()
    rows = replace_table(engine, frame, "quality", "quarantine")
    summary = read_sql(engine, "SELECT feed, source_file, reason, count(*) AS n FROM quality.quarantine "
                               "GROUP BY feed, source_file, reason ORDER BY feed, source_file, reason")
    by_feed = read_sql(engine, "SELECT feed, reason, count(*) AS n FROM quality.quarantine "
                               "GROUP BY feed, reason ORDER BY feed, reason")
    table = "\n".join(["| feed | source file | reason | rows |", "|---|---|---|---:|",
                       *(f"| {r.feed} | {r.source_file} | {r.reason} | {r.n} |" for r in summary.itertuples())])
    return MaterializeResult(metadata={
        "dagster/row_count": rows,
        "dagster/table_name": "quality.quarantine",
        "by_feed_reason": MetadataValue.json(by_feed.to_dict(orient="records")),
        "by_feed_file_reason": MetadataValue.json(summary.to_dict(orient="records")),
        "summary": MetadataValue.md(table),
    })


raw_assets = [_raw_asset(spec) for spec in FEEDS.values()]
staging_assets = [_staging_asset(spec) for spec in FEEDS.values()]
conservation_checks = [_conservation_check(spec) for spec in FEEDS.values()]
