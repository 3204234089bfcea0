"""raw/<feed> and staging/<feed> assets, the quarantine table, and the no-row-lost checks.

The work itself lives in dtsen_pipeline.ingest (intake: deliveries; staging_tables: staging; runner:
feeds side by side); these functions only wire it to Dagster and turn its counts into metadata
(never record values). One multi-asset computes every raw/<feed> and staging/<feed> so the feeds
can share the machine's cores; each key remains its own asset, and any subset can be run.
"""


import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pandas as pd
from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    DataVersion,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
    multi_asset,
)

from assets.quality import (
    DOCS_FOLDER,
    carried_check_results,
    n_error_expectations,
    record_decisions,
    suite_check_results,
)
from dtsen_pipeline.ingest.feeds import FeedSpec, load_feed_specs, person_feeds
from dtsen_pipeline.ingest.gated import GatedFeed
from dtsen_pipeline.ingest.intake import IntakeResult
from dtsen_pipeline.ingest.landing import unknown_landing_entries
from dtsen_pipeline.ingest.raw_store import count_in_force, count_raw
from dtsen_pipeline.ingest.runner import run_feeds
from dtsen_pipeline.ingest.staging_state import CarriedStaging
from dtsen_pipeline.ingest.staging_tables import StagedFeed, quarantine_part
from dtsen_pipeline.ingest.standardise import empty_quarantine
from dtsen_pipeline.quality import gate
from dtsen_pipeline.quality.gate import StagingGate
from dtsen_pipeline.resources import PipelineSettings, QualitySettings, RunLockResource, WarehouseResource
from dtsen_pipeline.warehouse import count_rows, read_sql, read_table, replace_table, table_exists

FEEDS: dict[str, FeedSpec] = load_feed_specs()
PERSON_FEEDS = person_feeds(FEEDS)
OWNERS = ["team:data-engineering"]
SETTLE_SECONDS = 60  # a file modified more recently may still be being copied (the sensor uses the same)
SCHEDULE_TAG = "dagster/schedule_name"
HELD_BACK_TAG = "dtsen/held_back_feeds"  # `feed:RULE,RULE;...` on a run that held back a feed's deliveries
REQUIRED_CHECK = "in_force_for_publication"

__all__ = ["FEEDS", "PERSON_FEEDS", "conservation_checks", "ingest_and_stage_feeds", "quarantine",
           "quarantine_part"]


def _raw_key(spec: FeedSpec) -> AssetKey:
    return AssetKey(["raw", spec.name])


def _staging_key(spec: FeedSpec) -> AssetKey:
    return AssetKey(["staging", spec.name])


def _raw_spec(spec: FeedSpec) -> AssetSpec:
    return AssetSpec(
        _raw_key(spec),
        group_name="raw",
        kinds={"python", "csv", "xlsx"},
        owners=OWNERS,
        skippable=True,
        description=f"Every record of every delivery loaded from <landing>/{spec.name}/ (kept as text with "
        f"provenance and delivery_id; raw.delivery says which deliveries are in force). {spec.description}.",
    )


def _staging_spec(spec: FeedSpec) -> AssetSpec:
    return AssetSpec(
        _staging_key(spec),
        deps=[_raw_key(spec)],
        group_name="staging",
        kinds={"python", "pandas"},
        owners=OWNERS,
        skippable=True,
        description=f"{spec.name} records of the deliveries in force, typed and normalised to the canonical "
        "schema; rows that cannot be staged go to the quarantine with a reason.",
    )


def _raw_result(context: AssetExecutionContext, engine, spec: FeedSpec, result: IntakeResult) -> MaterializeResult:
    for report in result.problems:
        context.log.warning(f"feed {spec.name}: {report.status}: {report.problem}")
    for report in result.reports:
        if report.note:
            context.log.info(f"feed {spec.name}: file {report.source_file}: {report.note}")
    summary = result.summary()
    if result.settling:
        context.log.warning(f"feed {spec.name}: {len(result.settling)} file(s) still changing (modified in the last "
                            f"{SETTLE_SECONDS} s), left for the next run: {', '.join(result.settling)}")
    if result.unclaimed:
        context.log.warning(f"feed {spec.name}: {len(result.unclaimed)} entry(ies) in its folder the feed does not read "
                            f"(not .csv/.xlsx as declared, or a folder), left alone: {', '.join(result.unclaimed)}")
    if result.problems and result.in_force:
        kept = ", ".join(d["source_file"] for d in summary["in_force"])
        context.log.warning(f"feed {spec.name}: {len(result.problems)} delivery(ies) not loaded; "
                            f"still in force: {kept}")
    context.log.info(f"feed {spec.name}: {result.rows_added} records added from {len(result.reports)} "
                     f"new file(s); {summary['rows_in_force']} records in force")
    return MaterializeResult(asset_key=_raw_key(spec), metadata={
        "dagster/row_count": count_raw(engine, spec.name),
        "dagster/table_name": f"raw.{spec.name}",
        "rows_in_force": summary["rows_in_force"],
        "rows_added": result.rows_added,
        "files_examined": summary["files_examined"],
        "deliveries_loaded": summary["deliveries_loaded"],
        "deliveries_duplicate": summary["deliveries_duplicate"],
        "deliveries_not_loaded": summary["deliveries_not_loaded"],
        "deliveries_pruned": summary["deliveries_pruned"],
        "records_pruned": summary["records_pruned"],
        "files_not_claimed": MetadataValue.json(summary["files_not_claimed"]),
        "files_still_changing": MetadataValue.json(summary["files_still_changing"]),
        "deliveries_in_force": MetadataValue.json(summary["in_force"]),
        "file_report": MetadataValue.json([r.as_dict() for r in result.reports]),
        "problems": MetadataValue.md("\n".join(f"- `{r.status}` {r.problem}" for r in result.problems)
                                     or "none"),
    })


def _staging_metadata(spec: FeedSpec, staged: StagedFeed) -> dict[str, object]:
    """The counts of a staging/<feed> materialization, whether staged tonight or carried."""
    return {
        "dagster/row_count": staged.rows_staged,
        "dagster/table_name": f"staging.{spec.name}",
        "rows_in": staged.rows_in,
        "rows_staged": staged.rows_staged,
        "rows_quarantined": MetadataValue.int(staged.rows_quarantined),
        "rows_out_of_scope": staged.rows_out_of_scope,
        "quarantined_by_reason": MetadataValue.json(staged.by_reason),
        "quarantined_by_file_reason": MetadataValue.json(staged.by_file_reason),
    }


def _staging_result(context: AssetExecutionContext, spec: FeedSpec, scope: str,
                    result: StagedFeed) -> MaterializeResult:
    context.log.info(f"feed {spec.name}: {result.rows_in} in, {result.rows_staged} staged, "
                     f"{result.rows_quarantined} quarantined, {result.rows_out_of_scope} outside "
                     f"scope {scope} (staged and flagged)")
    return MaterializeResult(asset_key=_staging_key(spec), metadata=_staging_metadata(spec, result))


def _carried_result(context: AssetExecutionContext, spec: FeedSpec, carried: CarriedStaging) -> MaterializeResult:
    """staging/<feed> as an earlier run published it: its figures, and which run that was. The data
    version is the staging's fingerprint, so the UI shows the table unchanged."""
    staged = carried.staged
    context.log.info(f"feed {spec.name}: not staged again (deliveries in force, settings and code as staged by run "
                     f"{carried.run_id}); {staged.rows_staged} staged, {staged.rows_quarantined} quarantined")
    return MaterializeResult(asset_key=_staging_key(spec), data_version=DataVersion(carried.fingerprint[:32]), metadata={
        **_staging_metadata(spec, staged),
        "restaged": False,
        "staged_by_run": carried.run_id,
        "staged_at": MetadataValue.timestamp(carried.staged_at.replace(tzinfo=dt.UTC)),
    })


def _progress_log(context: AssetExecutionContext) -> Callable[[str], None]:
    """context.log.info for the feed threads, one event at a time (counts and seconds only)."""
    lock = threading.Lock()

    def log(line: str) -> None:
        with lock:
            context.log.info(line)
    return log


def _settled_before(context: AssetExecutionContext) -> float | None:
    """A scheduled run, like the landing sensor, takes only files that have stopped changing (not
    modified for SETTLE_SECONDS): the schedule does not know whether a copy is still under way. A
    run started by hand or by the sensor (which waits itself) takes every file."""
    if context.run.tags.get(SCHEDULE_TAG):
        return time.time() - SETTLE_SECONDS
    return None


def _gate_check_specs(spec: FeedSpec) -> list[AssetCheckSpec]:
    """The staging suite's checks, evaluated inside this step before the feed is published."""
    key = _staging_key(spec)
    specs = [
        AssetCheckSpec("gx_suite", asset=key, blocking=False,
                       description=f"Great Expectations suite staging__{spec.name}.json "
                       f"({n_error_expectations('staging', spec.name)} error-severity expectations) and QUAR-01, "
                       "judged before the feed is published: a failure holds back the feed's new deliveries "
                       "(red here), the deliveries in force before the run stay and the other feeds publish."),
        AssetCheckSpec("gx_warnings", asset=key, blocking=False,
                       description=f"Warning-severity expectations of staging__{spec.name}.json: reported."),
    ]
    if spec.required_for_publication:
        specs.append(AssetCheckSpec(
            REQUIRED_CHECK, asset=key, blocking=True,
            description=f"{spec.name} is required for publication: fails (and blocks the golden tables) when "
            "the gate held back its only deliveries, leaving nothing in force."))
    return specs


def _gate_results(context: AssetExecutionContext, spec: FeedSpec, decision: gate.GateDecision,
                  results: list[AssetCheckResult]) -> Iterator[AssetCheckResult]:
    selected = context.selected_asset_check_keys
    for result in results:
        if AssetCheckKey(_staging_key(spec), result.check_name) in selected:
            yield result
    if AssetCheckKey(_staging_key(spec), REQUIRED_CHECK) in selected:
        yield AssetCheckResult(asset_key=_staging_key(spec), check_name=REQUIRED_CHECK,
                               passed=decision.decision != gate.BLOCKED, severity=AssetCheckSeverity.ERROR,
                               description=decision.message if decision.decision == gate.BLOCKED else None,
                               metadata={"decision": decision.decision})


def _report_gate(context: AssetExecutionContext, engine, gated: list[GatedFeed],
                 carried: list[CarriedStaging] = ()) -> None:
    """Log every failing rule (errors, then warnings), keep the decisions in quality.gate (a carried
    feed's decision again, noting the run that made it), tag a run that held a feed back."""
    decisions = [g.decision for g in gated]
    carried_decisions = [replace(c.decision, note=f"carried: staged and validated by run {c.run_id}")
                         for c in carried if c.decision is not None]
    for decision in decisions:
        if decision.decision in (gate.HELD_BACK, gate.BLOCKED):
            context.log.error(decision.message)
        elif decision.decision == gate.FAILED:
            context.log.warning(decision.message)
    for feed in gated:
        for outcome in feed.suite.warnings_failed:
            context.log.warning(f"feed {feed.decision.target}: warning {gate.failure_line(feed.suite.suite, outcome)}")
    record_decisions(engine, decisions + carried_decisions, context.run_id)
    tag = gate.held_back_tag(decisions)
    if tag:
        context.instance.add_run_tags(context.run_id, {HELD_BACK_TAG: tag})


@multi_asset(
    name="ingest_and_stage_feeds",
    specs=[s for spec in FEEDS.values() for s in (_raw_spec(spec), _staging_spec(spec))],
    check_specs=[c for spec in FEEDS.values() for c in _gate_check_specs(spec)],
    can_subset=True,
    description="raw/<feed> and staging/<feed> of every feed, feeds side by side on "
    "DTSEN_INGEST_WORKERS threads (dtsen_pipeline.ingest.runner), each behind its staging suite "
    "(dtsen_pipeline.ingest.gated); any subset can be materialized.",
)
def ingest_and_stage_feeds(context: AssetExecutionContext, warehouse: WarehouseResource,
                           pipeline: PipelineSettings, quality: QualitySettings,
                           run_lock: RunLockResource) -> Iterator[MaterializeResult]:  # held for the whole run
    engine = warehouse.engine()
    selected = context.selected_asset_keys
    specs = list(FEEDS.values())
    unknown = unknown_landing_entries(pipeline.landing, set(FEEDS))
    if unknown:
        context.log.warning(f"landing folder: {len(unknown)} entry(ies) that belong to no feed, left alone: "
                            f"{', '.join(unknown)}")
    outcomes = run_feeds(engine, pipeline.landing, specs,
                         ingest={s.name for s in specs if _raw_key(s) in selected},
                         stage={s.name for s in specs if _staging_key(s) in selected},
                         scope=pipeline.scope, as_of=pipeline.as_of(), run_id=context.run_id,
                         workers=pipeline.workers,
                         gate=StagingGate(docs_dir=pipeline.artifacts / DOCS_FOLDER / context.run_id,
                                          thresholds=quality.thresholds(), ceilings=quality.ceilings()),
                         settled_before=_settled_before(context), ceilings=quality.ceilings(),
                         retention=pipeline.retention, progress=_progress_log(context), restage=pipeline.restage)
    _report_gate(context, engine, [o.gated for o in outcomes.values() if o.gated is not None],
                 [o.carried for o in outcomes.values() if o.carried is not None])
    failed = []
    for name, outcome in outcomes.items():
        spec = FEEDS[name]
        if outcome.intake is not None:
            yield _raw_result(context, engine, spec, outcome.intake)
        if outcome.staged is not None:
            yield _staging_result(context, spec, pipeline.scope, outcome.staged)
        if outcome.carried is not None:
            yield _carried_result(context, spec, outcome.carried)
            if outcome.carried.decision is not None:
                yield from _gate_results(context, spec, outcome.carried.decision,
                                         list(carried_check_results(_staging_key(spec), outcome.carried)))
        if outcome.gated is not None:
            decision = outcome.gated.decision
            failed_gate = decision.decision != gate.PASSED
            yield from _gate_results(context, spec, decision, list(
                suite_check_results(_staging_key(spec), outcome.gated.suite, decision, failed=failed_gate,
                                    pipeline=pipeline)))
        if outcome.error is not None:
            context.log.error(f"feed {name}: failed with {type(outcome.error).__name__}; the other feeds "
                              "went on and are published")
            failed.append(outcome)
    if failed:  # after the other feeds' results, so only what depends on the failed feed waits
        raise RuntimeError(f"feed(s) {', '.join(o.feed for o in failed)} failed") from failed[0].error
    blocked = [o.gated.decision for o in outcomes.values() if o.gated and o.gated.decision.decision == gate.BLOCKED]
    if blocked:  # the step's failure message names every failing rule (the blocking check stops publication)
        raise Failure(description="\n".join(d.message for d in blocked),
                      metadata={"failed_rules": ", ".join(r for d in blocked for r in d.rules)})


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
    group_name="quality",
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
        **{f"quarantined/{name}": MetadataValue.int(int(by_feed.loc[by_feed["feed"] == name, "n"].sum()))
           for name in FEEDS},
        "by_feed_reason": MetadataValue.json(by_feed.to_dict(orient="records")),
        "by_feed_file_reason": MetadataValue.json(summary.to_dict(orient="records")),
        "summary": MetadataValue.md(table),
    })


conservation_checks = [_conservation_check(spec) for spec in FEEDS.values()]
