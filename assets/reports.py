"""reports/*: this month's worklists and the kabupaten's summary report; evaluation/flag on sample data.

Worklists and report are written after publication, from the build tables that were just
checked and published, into the artifacts folder under the run id (file names: codes and
period only). Metadata holds counts and paths, never personal data.
"""



import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from assets.ingest import OWNERS
from dtsen_pipeline.clock import utc_now
from dtsen_pipeline.domain.regions import wilayah_name
from dtsen_pipeline.golden.evaluate import load_truth, score_flags
from dtsen_pipeline.reports.report_data import report_inputs
from dtsen_pipeline.reports.summary_html import ReportContext, render_report
from dtsen_pipeline.reports.worklist_reuse import earlier_lists, remember_lists
from dtsen_pipeline.reports.worklists import HOUSEHOLD_COLUMNS, PERSON_COLUMNS, write_worklists
from dtsen_pipeline.resources import PipelineSettings, WarehouseResource
from dtsen_pipeline.warehouse import (
    append_table,
    read_table,
)

EVALUATION_KEY = AssetKey(["evaluation", "flag"])
PUBLISHED = [AssetKey(["golden", "person"]), AssetKey(["golden", "household"]), AssetKey(["golden", "flag"])]


def _period(pipeline: PipelineSettings) -> str:
    day = pipeline.as_of()
    return f"{day.year:04d}-{day.month:02d}"


@asset(key=AssetKey(["reports", "worklists"]), group_name="reports", kinds={"csv", "xlsx"}, owners=OWNERS,
       deps=PUBLISHED,
       description="Per pekon (flags to ground-check) and per kecamatan (pekon decisions to confirm), .csv and "
       ".xlsx in the verval feed's columns, under <artifacts>/worklists/<run_id>/.")
def worklists(context: AssetExecutionContext, warehouse: WarehouseResource,
              pipeline: PipelineSettings) -> MaterializeResult:
    engine = warehouse.engine()
    worklists_dir = pipeline.artifacts / "worklists"
    out_dir = worklists_dir / context.run_id
    files = write_worklists(read_table(engine, "build", "flag"), read_table(engine, "build", "person", PERSON_COLUMNS),
                            read_table(engine, "build", "household", HOUSEHOLD_COLUMNS), out_dir, _period(pipeline),
                            read_table(engine, "reference", "village"), workers=pipeline.writers,
                            earlier=earlier_lists(engine, worklists_dir))
    remember_lists(engine, context.run_id, {f.csv.stem: f.digest for f in files})
    per_tier = pd.DataFrame([{"tier": f.tier, "rows": f.rows} for f in files], columns=["tier", "rows"])
    counts = per_tier.groupby("tier")["rows"].agg(["count", "sum"])
    reused = sum(f.reused for f in files)
    context.log.info(f"worklists: {len(files)} place(s), {int(per_tier['rows'].sum())} row(s); "
                     f"{reused} workbook(s) copied from the last run (list unchanged)")
    return MaterializeResult(metadata={
        "folder": pipeline.artifact_link(out_dir),
        "files": len(files) * 2,
        "workbooks_copied": reused,
        **{f"{tier.lower()}_lists": int(row["count"]) for tier, row in counts.iterrows()},
        **{f"{tier.lower()}_rows": int(row["sum"]) for tier, row in counts.iterrows()},
    })


@asset(key=AssetKey(["reports", "summary"]), group_name="reports", kinds={"html"}, owners=OWNERS, deps=PUBLISHED,
       description="The kabupaten's meeting document: one self-contained HTML file in Bahasa Indonesia, printable "
       "on A4 (inline SVG charts, counts only): changes since the last report, flags per kecamatan, verification "
       "per tier, data quality per feed with its trend, desil and programmes.")
def summary_report(context: AssetExecutionContext, warehouse: WarehouseResource,
                   pipeline: PipelineSettings) -> MaterializeResult:
    engine = warehouse.engine()
    period = _period(pipeline)
    ctx = ReportContext(scope=pipeline.scope, scope_name=wilayah_name(pipeline.scope) or pipeline.scope,
                        period=period, data_date=pipeline.as_of(), run_id=context.run_id, generated_at=utc_now())
    data = report_inputs(engine, context.run_id)
    html = render_report(ctx, data.persons, data.households, data.flags, data.villages, data.rules,
                         quality=data.quality, feeds=data.feeds, previous=data.previous)
    path = pipeline.artifacts / "reports" / context.run_id / f"RINGKASAN_{pipeline.scope.replace('.', '')}_{period}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return MaterializeResult(metadata={"report": pipeline.artifact_link(path), "bytes": len(html.encode()),
                                       "compared_with_previous_report": data.previous is not None})


@multi_asset(
    specs=[AssetSpec(EVALUATION_KEY, skippable=True, kinds={"python"}, owners=OWNERS,
                     deps=[AssetKey(["build", t]) for t in ("flag", "person", "household", "person_source")],
                     description="Flag precision and recall against the sample generator's truth, one row per run, "
                     "level and flag (evaluation.flag); skipped when the deployment has no truth (real data).",
                     group_name="evaluation")],
)
def flag_evaluation(context: AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineSettings):
    truth = load_truth(pipeline.truth)
    if truth is None:
        context.log.info("flag evaluation: no truth table in this deployment; skipped")
        return
    engine = warehouse.engine()
    rules = read_table(engine, "reference", "programme_rule")
    scores = score_flags(read_table(engine, "build", "person"), read_table(engine, "build", "household"),
                         read_table(engine, "build", "person_source"), truth,
                         dict(zip(rules["program"], rules["max_desil"].astype(int), strict=True)))
    scores.insert(0, "evaluated_at", utc_now())
    scores.insert(0, "run_id", context.run_id)
    append_table(engine, scores, "evaluation", "flag")
    metadata = {f"{r.level}/{r.flag}": MetadataValue.json({"precision": r.precision, "recall": r.recall,
                                                          "truth": int(r.truth), "flagged": int(r.flagged)})
                for r in scores.itertuples()}
    yield MaterializeResult(asset_key=EVALUATION_KEY, metadata={"dagster/table_name": "evaluation.flag", **metadata})


report_assets = [worklists, summary_report, flag_evaluation]
