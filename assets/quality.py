"""Great Expectations checks and the quality gate's wiring.

Staging suites (`expectations/staging__<feed>.json`) run inside the ingest step, before a feed is
published (`dtsen_pipeline.ingest.gated`): their `gx_suite` check is red when a feed's new
deliveries were held back, and does not block the other feeds. Build suites
(`expectations/build__<table>.json`) judge our own candidate golden tables: their `gx_suite` check
is blocking, and a failure also fails its step with a message naming every failing rule, so the
golden tables are not republished and the run's failure can raise an alert. `gx_warnings`
(severity WARN, not blocking) fails when a warning-severity expectation misses its threshold.
Metadata holds per-expectation rule ids, counts and percentages, never values, and links the
run's offline Data Docs (<artifacts>/data_docs/<run_id>/). Every decision is kept in
`quality.gate`.
"""


from collections.abc import Iterator

import pandas as pd
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset_check,
)

from dtsen_pipeline.clock import utc_now
from dtsen_pipeline.config import EXPECTATIONS_DIR
from dtsen_pipeline.domain.regions import kecamatan_name
from dtsen_pipeline.ingest.feeds import load_feed_specs, person_feeds
from dtsen_pipeline.ingest.staging_state import CarriedStaging
from dtsen_pipeline.quality import gate
from dtsen_pipeline.quality import scorecard as sc
from dtsen_pipeline.quality.gx_suites import (
    SuiteOutcome,
    read_suite_file,
    results_markdown,
    run_suite,
    suite_columns,
)
from dtsen_pipeline.resources import PipelineSettings, QualitySettings, WarehouseResource
from dtsen_pipeline.warehouse import (
    append_table,
    column_names,
    qualified,
    quote,
    read_columns,
    read_sql,
    read_table,
    replace_table,
)

DOCS_FOLDER = "data_docs"
GATE_TABLE = ("quality", "gate")


def n_error_expectations(schema: str, table: str) -> int:
    declared = read_suite_file(EXPECTATIONS_DIR / f"{schema}__{table}.json", thresholds={})["expectations"]
    return sum(1 for e in declared if e.get("meta", {}).get("severity", "error") == "error")


def suite_check_results(key: AssetKey, outcome: SuiteOutcome, decision: gate.GateDecision,
                        failed: bool, pipeline: PipelineSettings) -> Iterator[AssetCheckResult]:
    """`gx_suite` and `gx_warnings` results of one validation; `failed` says whether the gate's
    decision makes `gx_suite` red (a held-back delivery fails it though the table in force passes).
    The Data Docs are linked on the artifact server (`pipeline.artifact_link`)."""
    rows = [o.as_dict() for o in outcome.outcomes]
    common = {
        "suite": f"{outcome.suite}.json",
        "rows_validated": outcome.rows,
        "expectations": len(rows),
        "results": MetadataValue.md(results_markdown(outcome)),
        "results_json": MetadataValue.json(rows),
        "decision": decision.decision,
    }
    if outcome.docs_index is not None:
        common["data_docs"] = pipeline.artifact_link(outcome.docs_index)
    if outcome.docs_page is not None:
        common["data_docs_validation"] = pipeline.artifact_link(outcome.docs_page)
    yield from _suite_and_warnings(key, decision, failed, common, len(outcome.warnings_failed),
                                   sorted({o.rule or o.expectation for o in outcome.warnings_failed}))


def carried_check_results(key: AssetKey, carried: CarriedStaging) -> Iterator[AssetCheckResult]:
    """`gx_suite` and `gx_warnings` of a feed not staged again: the decision of the run that
    validated what is in force (`staging_state`), named, with its failing rules."""
    decision = carried.decision
    common = {"suite": f"{decision.suite}.json", "rows_validated": decision.rows_validated,
              "decision": decision.decision, "validated_by_run": carried.run_id,
              "note": "deliveries in force, settings and code unchanged since that run: not validated again"}
    yield from _suite_and_warnings(key, decision, decision.decision != gate.PASSED, common,
                                   len(carried.warnings_failed), list(carried.warnings_failed))


def _suite_and_warnings(key: AssetKey, decision: gate.GateDecision, failed: bool, common: dict[str, object],
                        warnings_failed: int, warning_rules: list[str]) -> Iterator[AssetCheckResult]:
    """The two checks every staging or build suite reports: errors (the gate's decision) and warnings."""
    yield AssetCheckResult(
        asset_key=key, check_name="gx_suite", passed=not failed, severity=AssetCheckSeverity.ERROR,
        description=decision.message if failed else None,
        metadata={**common, "errors_failed": len(decision.failures), "failed_rules": ", ".join(decision.rules),
                  "failures": MetadataValue.md("\n".join(f"- {line}" for line in decision.failures) or "none")},
    )
    yield AssetCheckResult(
        asset_key=key, check_name="gx_warnings", passed=not warnings_failed, severity=AssetCheckSeverity.WARN,
        metadata={**common, "warnings_failed": warnings_failed, "failed_rules": ", ".join(warning_rules)},
    )


def record_decisions(engine, decisions: list[gate.GateDecision], run_id: str) -> None:
    """Append this run's gate decisions to `quality.gate` (the summary, audit and alerts read it)."""
    if decisions:
        now = utc_now()
        append_table(engine, gate.decision_frame(decisions, run_id, now), *GATE_TABLE)


def _gx_checks(schema: str, table: str) -> AssetChecksDefinition:
    path = EXPECTATIONS_DIR / f"{schema}__{table}.json"
    key = AssetKey([schema, table])
    columns = suite_columns(path)  # only what the suite checks leaves the warehouse

    @multi_asset_check(
        name=f"gx__{schema}__{table}",
        specs=[
            AssetCheckSpec("gx_suite", asset=key, blocking=True,
                           description=f"Great Expectations suite {path.name}: {n_error_expectations(schema, table)} "
                           "error-severity expectations on our own output; a failure blocks publication of the "
                           "golden tables."),
            AssetCheckSpec("gx_warnings", asset=key, blocking=False,
                           description=f"Warning-severity expectations of {path.name}: reported, not blocking."),
        ],
    )
    def gx_checks(context: AssetCheckExecutionContext, warehouse: WarehouseResource,
                  pipeline: PipelineSettings, quality: QualitySettings):
        engine = warehouse.engine()
        df = read_table(engine, schema, table) if columns is None else read_columns(engine, schema, table, columns)
        outcome = run_suite(df, path, docs_dir=pipeline.artifacts / DOCS_FOLDER / context.run.run_id,
                            thresholds=quality.thresholds(), ceilings=quality.ceilings(),
                            as_of=pipeline.as_of(), person_feeds=tuple(PERSON_FEEDS))
        decision = gate.GateDecision.of("build", f"{schema}.{table}", outcome,
                                        gate.PASSED if outcome.success else gate.BLOCKED)
        record_decisions(engine, [decision], context.run.run_id)
        context.log.info(f"{schema}.{table}: {len(decision.failures)} error and {len(outcome.warnings_failed)} "
                         f"warning expectation(s) failed of {len(outcome.outcomes)}")
        yield from suite_check_results(key, outcome, decision, failed=not outcome.success, pipeline=pipeline)
        if not outcome.success:
            context.log.error(decision.message)
            raise Failure(description=decision.message, metadata={"failed_rules": ", ".join(decision.rules)})

    return gx_checks


def suite_targets(schema: str = "build") -> list[tuple[str, str]]:
    """The suites of one schema's tables (`build`: checks here; `staging`: the ingest step's gate)."""
    return [tuple(p.stem.split("__", 1)) for p in sorted(EXPECTATIONS_DIR.glob(f"{schema}__*.json"))]


gx_checks = [_gx_checks(schema, table) for schema, table in suite_targets()]


FEEDS = load_feed_specs()
PERSON_FEEDS = {name: FEEDS[name] for name in person_feeds(FEEDS)}


def _staged_for_scorecard(engine, feed: str) -> pd.DataFrame:
    return read_columns(engine, "staging", feed, sc.STAGED_COLUMNS)


def _quarantined_raw(engine, feed: str, spec) -> pd.DataFrame:
    """The raw records of the feed's quarantined rows only: where they are, and their place headers."""
    present = set(column_names(engine, "raw", feed))
    headers = "".join(f", r.{quote(h)}" for h in sc.region_headers(spec) if h in present)
    return read_sql(engine, f"SELECT r.source_file, r.source_row{headers} FROM {qualified('raw', feed)} r "
                            f"WHERE EXISTS (SELECT 1 FROM {qualified('quality', 'quarantine')} q WHERE q.feed = :feed "
                            "AND q.source_file = r.source_file AND q.source_row = r.source_row)", feed=feed)


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
    records = {feed: sc.record_frame(feed, _staged_for_scorecard(engine, feed), quarantine,
                                     _quarantined_raw(engine, feed, spec), spec)
               for feed, spec in PERSON_FEEDS.items()}
    codes = sorted({c for f in records.values() for c in f["kode_kecamatan"].dropna().unique()})
    names = {c: kecamatan_name(c) for c in codes}
    card = sc.scorecard(records, context.run.run_id, utc_now(), names)
    rows = replace_table(engine, card, "quality", "scorecard")
    history_rows = append_table(engine, card[list(sc.SCORECARD_COLUMNS)], "quality", "scorecard_history",
                                replace_run=context.run.run_id)
    feed_rows = card[card["level"] == "feed"]
    return MaterializeResult(metadata={
        "dagster/row_count": rows,
        "dagster/table_name": "quality.scorecard",
        "scorecard": MetadataValue.md(sc.markdown(card)),
        **{name: MetadataValue.float(value) for name, value in sc.feed_numbers(card).items()},
        "per_feed": MetadataValue.json(feed_rows.drop(columns=["run_at", "kecamatan"]).astype(object)
                                       .where(feed_rows.drop(columns=["run_at", "kecamatan"]).notna(), None)
                                       .to_dict(orient="records")),
        "history_rows": history_rows,
        "runs_in_history": int(read_sql(engine, "SELECT count(DISTINCT run_id) AS n FROM quality.scorecard_history")
                               ["n"].iloc[0]),
    })
