"""The `golden_tables` multi-asset: every build table published as golden.<table> in one transaction.

Every model in dbt_like_sql/build/ is a candidate golden table, so a model added there is
published (and masked, scoped, historised and audited) with no wiring here. The asset runs only
after every blocking check on the build tables passed. The same transaction checks the columns
against the declared schema (dtsen_pipeline/publish/golden_schema.yaml) and writes the stable-id
state the next run matches against (golden_state.*), so no kill can leave published ids that the
next run would hand to other people.
"""

from datetime import timedelta

import sqlalchemy as sa
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    multi_asset,
)

from assets.identity import ID_CHANGE_KEY
from assets.ingest import OWNERS
from dtsen_pipeline.golden.flags import FLAG_CODES
from dtsen_pipeline.golden.id_state import write_id_state
from dtsen_pipeline.golden.sql_models import discover_models
from dtsen_pipeline.publish import RunInfo, publish, resolve_key
from dtsen_pipeline.publish.audit import run_info_of, trigger_kind
from dtsen_pipeline.publish.column_docs import describe, golden_descriptions
from dtsen_pipeline.publish.contract import load_contract
from dtsen_pipeline.publish.publication import BUILD_SCHEMA, GOLDEN_SCHEMA
from dtsen_pipeline.resources import PipelineSettings, PublicationSettings, RunLockResource, WarehouseResource
from dtsen_pipeline.warehouse import read_sql

GOLDEN_TABLES = tuple(m.table for m in discover_models() if m.schema == BUILD_SCHEMA)
AUDIT_KEY = AssetKey(["audit", "run"])
ID_STATE_KEY = AssetKey(["golden_state", "id_registry"])
# Published every night at about 01:00 WIB: a table not republished for 26 hours missed a night
# (the run failed, was blocked, or never started). The UI marks it stale (the daemon evaluates it).
GOLDEN_FRESHNESS = FreshnessPolicy.time_window(fail_window=timedelta(hours=26), warn_window=timedelta(hours=25))


def column_schema(engine: sa.Engine, table: str, descriptions: dict[str, dict[str, str]]) -> TableSchema:
    """golden.<table>'s published columns, their warehouse types and their meaning from docs/golden.md."""
    columns = sa.inspect(engine).get_columns(table, schema=GOLDEN_SCHEMA)
    meaning = describe(table, [c["name"] for c in columns], descriptions)
    return TableSchema(columns=[TableColumn(name=c["name"], type=str(c["type"]).lower(),
                                            description=meaning[c["name"]]) for c in columns])


def flag_counts(engine: sa.Engine) -> dict[str, int]:
    """Raised flags by code in golden.flag (every code of the catalogue, zero when none)."""
    counts = read_sql(engine, f"SELECT flag, count(*) AS n FROM {GOLDEN_SCHEMA}.flag GROUP BY flag")
    found = {str(f): int(n) for f, n in zip(counts["flag"], counts["n"], strict=True)}
    return {code: found.get(code, 0) for code in sorted({*FLAG_CODES, *found})}


def flag_metadata(engine: sa.Engine) -> dict[str, object]:
    """One number per flag code (plotted over runs) and the same as a Markdown table."""
    counts = flag_counts(engine)
    table = "| flag | raised |\n|---|---:|\n" + "\n".join(f"| `{code}` | {n:,} |" for code, n in counts.items())
    return {**{f"flags/{code}": MetadataValue.int(n) for code, n in counts.items()},
            "flags_by_type": MetadataValue.md(table)}


def run_info(context: AssetExecutionContext) -> RunInfo:
    """Run id, job, start time (UTC) and who or what triggered it, from the Dagster run."""
    record = context.instance.get_run_record_by_id(context.run_id)
    return run_info_of(context.run_id, context.run.job_name, context.run.tags,
                       record.start_time if record is not None else None)


@multi_asset(
    specs=[AssetSpec(AssetKey([GOLDEN_SCHEMA, table]), deps=[AssetKey([BUILD_SCHEMA, t]) for t in GOLDEN_TABLES],
                     description=f"Published golden.{table}: build.{table} after every blocking check passed, "
                     "replaced together with the other golden tables in one transaction (DELETE + INSERT), "
                     f"with run_id and HMAC tokens; history in golden_history.{table}, masked view "
                     f"golden_masked.{table}, pekon-scoped view golden_pekon.{table} (PostgreSQL).",
                     kinds={"sql"}, owners=OWNERS, group_name=GOLDEN_SCHEMA, freshness_policy=GOLDEN_FRESHNESS)
           for table in GOLDEN_TABLES]
    + [AssetSpec(AUDIT_KEY, deps=[AssetKey([BUILD_SCHEMA, t]) for t in GOLDEN_TABLES], kinds={"sql"}, owners=OWNERS,
                 description="One row per published run (audit.run) and per delivery it used (audit.run_delivery), "
                 "written in the publication's transaction.", group_name="audit"),
       AssetSpec(ID_STATE_KEY, deps=[ID_CHANGE_KEY, *(AssetKey([BUILD_SCHEMA, t]) for t in GOLDEN_TABLES)],
                 kinds={"sql"}, owners=OWNERS, group_name="golden_state",
                 description="This run's id keys, registry and change history (golden_state.*): the state the "
                 "next run matches against, written in the publication's transaction.")],
    can_subset=False,
)
def golden_tables(context: AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineSettings,
                  publication: PublicationSettings,
                  run_lock: RunLockResource):  # held for the whole run (dtsen_pipeline.run_lock)
    engine = warehouse.engine()
    config = publication.config()
    key = resolve_key(engine.dialect.name, config.pseudonym_key, pipeline.deployment_artifacts)
    info = run_info(context)
    contract = load_contract()
    result = publish(engine, GOLDEN_TABLES, info, config, key, contract=contract, also=write_id_state)
    context.log.info(f"published golden tables {result.rows}; history keeps {len(result.history_runs)} run(s); "
                     f"pseudonym key from {key.source}; declared schema version {contract.version}; "
                     f"id state {result.also_rows}")
    announced = result.announced_columns()
    for table, columns in announced.items():
        context.log.warning(f"golden.{table}: column(s) {', '.join(columns)} published for the first time or not "
                            "declared in golden_schema.yaml: announce them to downstream teams and declare them")
    for table, changes in result.schema_changes.items():
        context.log.info(f"golden.{table} columns changed: {', '.join(changes)}")
    for note in result.notes:
        context.log.info(note)
    descriptions = golden_descriptions()
    for table, count in result.rows.items():
        yield MaterializeResult(asset_key=AssetKey([GOLDEN_SCHEMA, table]), metadata={
            "dagster/row_count": count, "dagster/table_name": f"{GOLDEN_SCHEMA}.{table}", "run_id": info.run_id,
            "dagster/column_schema": column_schema(engine, table, descriptions),
            **(flag_metadata(engine) if table == "flag" else {})})
    yield MaterializeResult(asset_key=AUDIT_KEY, metadata={
        "dagster/table_name": "audit.run",
        "triggered_by": trigger_kind(info.triggered_by),
        "deliveries": result.deliveries,
        "history_runs_kept": MetadataValue.json(result.history_runs),
        "pseudonym_key_id": key.key_id,
        "schema_version": contract.version,
        "schema_change": MetadataValue.json({c.table: c.changes() for c in result.contract if c.changes()}),
        "announced_columns": MetadataValue.json(announced),
    })
    yield MaterializeResult(asset_key=ID_STATE_KEY, metadata={
        "dagster/table_name": "golden_state.id_registry",
        "dagster/row_count": result.also_rows.get("id_registry", 0), **result.also_rows})
