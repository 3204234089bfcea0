"""raw/<feed> and staging/<feed> assets, the quarantine table, and the no-row-lost checks."""


from collections import Counter

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
from dtsen_pipeline.ingest.raw import load_raw_feed
from dtsen_pipeline.ingest.staging import empty_quarantine, stage_feed
from dtsen_pipeline.resources import PipelineSettings, WarehouseResource
from dtsen_pipeline.warehouse import count_rows, read_sql, read_table, replace_table, table_exists

FEEDS: dict[str, FeedSpec] = load_feed_specs()
PERSON_FEEDS = tuple(name for name, spec in FEEDS.items() if spec.entity == "person")
OWNERS = ["team:data-engineering"]


def quarantine_part(feed: str) -> str:
    """Each staging asset writes its own quarantine part; quality/quarantine unions them."""
    return f"quarantine__{feed}"


def _raw_asset(spec: FeedSpec) -> AssetsDefinition:
    @asset(
        key=AssetKey(["raw", spec.name]),
        group_name="ingest",
        kinds={"python", "csv", "xlsx"},
        owners=OWNERS,
        description=f"Every record of every delivery in <landing>/{spec.name}/, kept as text with provenance. "
        f"{spec.description}.",
    )
    def raw_feed(context: AssetExecutionContext, warehouse: WarehouseResource,
                 pipeline: PipelineSettings) -> MaterializeResult:
        raw, reports = load_raw_feed(pipeline.landing, spec)
        rows = replace_table(warehouse.engine(), raw, "raw", spec.name)
        problems = [r for r in reports if r.status != "loaded"]
        for report in problems:
            context.log.warning(f"feed {spec.name}: file {report.source_file} {report.status}: {report.problem}")
        context.log.info(f"feed {spec.name}: {rows} records from {len(reports)} file(s)")
        return MaterializeResult(metadata={
            "dagster/row_count": rows,
            "dagster/table_name": f"raw.{spec.name}",
            "files": len(reports),
            "files_not_loaded": len(problems),
            "file_report": MetadataValue.json([r.as_dict() for r in reports]),
        })

    return raw_feed


def _staging_asset(spec: FeedSpec) -> AssetsDefinition:
    @asset(
        key=AssetKey(["staging", spec.name]),
        deps=[AssetKey(["raw", spec.name])],
        group_name="staging",
        kinds={"python", "pandas"},
        owners=OWNERS,
        description=f"{spec.name} records typed and normalised to the canonical schema; rows that cannot be "
        "staged go to the quarantine with a reason.",
    )
    def staging_feed(context: AssetExecutionContext, warehouse: WarehouseResource,
                     pipeline: PipelineSettings) -> MaterializeResult:
        engine = warehouse.engine()
        raw = read_table(engine, "raw", spec.name)
        result = stage_feed(raw, spec, scope=pipeline.scope, as_of=pipeline.as_of())
        date_columns = [c for c in ("tgl_lahir", "tgl_mati", "tanggal") if c in result.staged.columns]
        staged = replace_table(engine, result.staged, "staging", spec.name, date_columns=date_columns)
        quarantine = result.quarantine if len(result.quarantine) else empty_quarantine()
        replace_table(engine, quarantine, "quality", quarantine_part(spec.name))
        by_reason = dict(Counter(result.quarantine["reason"]))
        context.log.info(f"feed {spec.name}: {len(raw)} in, {staged} staged, {len(result.quarantine)} quarantined")
        return MaterializeResult(metadata={
            "dagster/row_count": staged,
            "dagster/table_name": f"staging.{spec.name}",
            "rows_in": len(raw),
            "rows_staged": staged,
            "rows_quarantined": len(result.quarantine),
            "quarantined_by_reason": MetadataValue.json(by_reason),
        })

    return staging_feed


def _conservation_check(spec: FeedSpec):
    @asset_check(
        asset=AssetKey(["staging", spec.name]),
        name="no_row_lost",
        blocking=True,
        description="Rows in the raw table = rows staged + rows quarantined.",
    )
    def no_row_lost(warehouse: WarehouseResource) -> AssetCheckResult:
        engine = warehouse.engine()
        rows_in = count_rows(engine, "raw", spec.name)
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
    return MaterializeResult(metadata={
        "dagster/row_count": rows,
        "dagster/table_name": "quality.quarantine",
        "by_feed_file_reason": MetadataValue.json(summary.to_dict(orient="records")),
    })


raw_assets = [_raw_asset(spec) for spec in FEEDS.values()]
staging_assets = [_staging_asset(spec) for spec in FEEDS.values()]
conservation_checks = [_conservation_check(spec) for spec in FEEDS.values()]
