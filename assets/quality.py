"""Great Expectations checks: one pair per suite file in expectations/ (<schema>__<table>.json).

`gx_suite` is blocking: a failing error-severity expectation fails it, Dagster then skips
everything downstream, so the golden tables are not republished and the last published ones
stay. `gx_warnings` (severity WARN, not blocking) fails when a warning-severity expectation
misses its threshold. Both come from one validation. Metadata holds per-expectation rule ids,
counts and percentages, never values, and links the run's offline Data Docs
(<artifacts>/data_docs/<run_id>/).
"""


import datetime as dt

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset_check,
)

from dtsen_pipeline.config import EXPECTATIONS_DIR
from dtsen_pipeline.domain.regions import kecamatan_name
from dtsen_pipeline.ingest.feeds import load_feed_specs
from dtsen_pipeline.quality import scorecard as sc
from dtsen_pipeline.quality.gx_suites import read_suite_file, results_markdown, run_suite
from dtsen_pipeline.resources import PipelineSettings, WarehouseResource
from dtsen_pipeline.warehouse import (
    read_table,
    read_table_if_exists,
    replace_table,
)

DOCS_FOLDER = "data_docs"


def _gx_checks(schema: str, table: str) -> AssetChecksDefinition:
    path = EXPECTATIONS_DIR / f"{schema}__{table}.json"
    declared = read_suite_file(path)["expectations"]
    n_errors = sum(1 for e in declared if e.get("meta", {}).get("severity", "error") == "error")
    key = AssetKey([schema, table])

    @multi_asset_check(
        name=f"gx__{schema}__{table}",
        specs=[
            AssetCheckSpec("gx_suite", asset=key, blocking=True,
                           description=f"Great Expectations suite {path.name}: {n_errors} error-severity "
                           "expectations; a failure blocks publication of the golden tables."),
            AssetCheckSpec("gx_warnings", asset=key, blocking=False,
                           description=f"Warning-severity expectations of {path.name}: reported, not blocking."),
        ],
    )
    def gx_checks(context: AssetCheckExecutionContext, warehouse: WarehouseResource,
                  pipeline: PipelineSettings):
        df = read_table(warehouse.engine(), schema, table)
        docs_dir = pipeline.artifacts / DOCS_FOLDER / context.run.run_id
        outcome = run_suite(df, path, docs_dir=docs_dir)
        rows = [o.as_dict() for o in outcome.outcomes]
        errors_failed = [o for o in outcome.failed if o.severity == "error"]
        common = {
            "suite": path.name,
            "rows_validated": outcome.rows,
            "expectations": len(rows),
            "results": MetadataValue.md(results_markdown(outcome)),
            "results_json": MetadataValue.json(rows),
            "data_docs": MetadataValue.path(str(outcome.docs_index)),
        }
        if outcome.docs_page is not None:
            common["data_docs_validation"] = MetadataValue.path(str(outcome.docs_page))
        context.log.info(f"{schema}.{table}: {len(errors_failed)} error and {len(outcome.warnings_failed)} warning "
                         f"expectation(s) failed of {len(rows)}")
        yield AssetCheckResult(
            asset_key=key, check_name="gx_suite", passed=outcome.success, severity=AssetCheckSeverity.ERROR,
            metadata={**common, "errors_failed": len(errors_failed),
                      "failed_rules": ", ".join(sorted({o.rule or o.expectation for o in errors_failed}))},
        )
        yield AssetCheckResult(
            asset_key=key, check_name="gx_warnings", passed=not outcome.warnings_failed,
            severity=AssetCheckSeverity.WARN,
            metadata={**common, "warnings_failed": len(outcome.warnings_failed),
                      "failed_rules": ", ".join(sorted({o.rule or o.expectation for o in outcome.warnings_failed}))},
        )

    return gx_checks


def suite_targets() -> list[tuple[str, str]]:
    return [tuple(p.stem.split("__", 1)) for p in sorted(EXPECTATIONS_DIR.glob("*__*.json"))]


gx_checks = [_gx_checks(schema, table) for schema, table in suite_targets()]


PERSON_FEEDS = {name: spec for name, spec in load_feed_specs().items() if spec.entity == "person"}


@asset(
    key=AssetKey(["quality", "scorecard"]),
    deps=[*(AssetKey(["staging", f]) for f in PERSON_FEEDS), AssetKey(["quality", "quarantine"])],
    group_name="quality",
    kinds={"python"},
    owners=["team:data-engineering"],
    description="Per feed and kecamatan: shares of valid NIKs, Dukcapil-matched NIKs (STATUS_PADAN), damaged "
    "identifiers, imprecise birth dates and missing names; every run is kept in quality.scorecard_history.",
)
def scorecard(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    engine = warehouse.engine()
    quarantine = read_table(engine, "quality", "quarantine")
    records = {feed: sc.record_frame(feed, read_table(engine, "staging", feed), quarantine,
                                     read_table(engine, "raw", feed), spec)
               for feed, spec in PERSON_FEEDS.items()}
    codes = sorted({c for f in records.values() for c in f["kode_kecamatan"].dropna().unique()})
    names = {c: kecamatan_name(c) for c in codes}
    card = sc.scorecard(records, context.run.run_id, dt.datetime.now(dt.UTC).replace(tzinfo=None), names)
    rows = replace_table(engine, card, "quality", "scorecard")
    history = read_table_if_exists(engine, "quality", "scorecard_history")
    history_rows = replace_table(engine, sc.append_history(history, card), "quality", "scorecard_history")
    feed_rows = card[card["level"] == "feed"]
    return MaterializeResult(metadata={
        "dagster/row_count": rows,
        "dagster/table_name": "quality.scorecard",
        "scorecard": MetadataValue.md(sc.markdown(card)),
        "per_feed": MetadataValue.json(feed_rows.drop(columns=["run_at", "kecamatan"]).astype(object)
                                       .where(feed_rows.drop(columns=["run_at", "kecamatan"]).notna(), None)
                                       .to_dict(orient="records")),
        "history_rows": history_rows,
        "runs_in_history": int((history["run_id"].nunique() if history is not None else 0)
                               + (0 if history is not None and context.run.run_id in set(history["run_id"]) else 1)),
    })
