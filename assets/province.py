"""The province step (issue #17): once the regencies of a multi-regency deployment have published,
link their golden persons across regencies and publish who moved where (dtsen_pipeline.province).

Unpartitioned, in its own job (`province_refresh`), after the regencies' nightly runs: it reads
each regency's published golden.person (every partition) and writes the province warehouse only.
Metadata holds counts and scores, never a person's values.
"""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    AssetSpec,
    DefaultScheduleStatus,
    MaterializeResult,
    MetadataValue,
    ScheduleDefinition,
    define_asset_job,
    multi_asset,
)

from assets.ingest import OWNERS
from assets.jobs import REFRESH_TAG
from dtsen_pipeline.clock import DEPLOYMENT_TIMEZONE
from dtsen_pipeline.province.step import run_province
from dtsen_pipeline.regencies import province_code, scope_regencies
from dtsen_pipeline.resources import LinkageSettings, PipelineSettings, WarehouseResource

PROVINCE_GROUP = "province"
GOLDEN_PERSON = AssetKey(["golden", "person"])
DESCRIPTIONS = {
    "person": "Every regency's golden person with its province person id: persons of several regencies linked "
              "as one (Splink link_only on NIK, name, birth date and sex; one person per regency at most).",
    "link": "Scored pairs of persons of two regencies (ids and match probability) with the decision: LINKED, "
            "REFUSED_SAME_REGENCY (a stronger link already joined that regency), REVIEW_NAMES_DIFFER (one NIK, two "
            "names) or REVIEW (below 0.9).",
    "mover": "Persons who moved between regencies: where the civil registry holds them now (to_*) and every "
             "regency that still has them (from_*, with whether they are still a programme recipient there); "
             "TERDAFTAR_GANDA and TANPA_DUKCAPIL cases for review.",
}


@multi_asset(
    specs=[AssetSpec(AssetKey([PROVINCE_GROUP, table]), deps=[GOLDEN_PERSON], group_name=PROVINCE_GROUP,
                     kinds={"python", "duckdb"}, owners=OWNERS, description=text)
           for table, text in DESCRIPTIONS.items()],
    description="Links the regencies' published golden persons across regencies and publishes the province "
                "tables in one transaction (dtsen_pipeline.province.step).",
)
def province_tables(context: AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineSettings,
                    linkage: LinkageSettings):
    regencies = scope_regencies(pipeline.scope)
    result = run_province(warehouse.url, regencies, context.run_id, pipeline.as_of(), truth_dir=pipeline.truth,
                          regency_truth={code: pipeline.for_regency(code).truth for code in regencies},
                          memory_limit=linkage.memory_limit, backend=linkage.backend,
                          spark=linkage.config().spark)
    if result.regencies_missing:
        context.log.warning(f"{len(result.regencies_missing)} regency(ies) have no published golden persons yet: "
                            f"{', '.join(result.regencies_missing)}")
    common = {"province": province_code(regencies), "regencies_read": len(result.regencies_read),
              "regencies_missing": MetadataValue.text(", ".join(result.regencies_missing) or "-")}
    yield MaterializeResult(asset_key=AssetKey([PROVINCE_GROUP, "person"]),
                            metadata={**common, "persons": result.persons})
    yield MaterializeResult(asset_key=AssetKey([PROVINCE_GROUP, "link"]),
                            metadata={**common, "pairs_scored": result.pairs_scored,
                                      **{f"pairs_{k.lower()}": v for k, v in result.decisions.items()}})
    yield MaterializeResult(asset_key=AssetKey([PROVINCE_GROUP, "mover"]),
                            metadata={**common, **{f"movers_{k.lower()}": v for k, v in result.movers.items()},
                                      **{f"evaluation_{k}": float(v) for k, v in result.evaluation.items()}})


province_refresh = define_asset_job(
    "province_refresh",
    selection=AssetSelection.groups(PROVINCE_GROUP),
    description="Link the regencies' published persons across regencies and publish the province tables.",
    tags={"dagster/max_runtime": "10800", **REFRESH_TAG},
)

province_schedule = ScheduleDefinition(
    name="province_refresh_schedule",
    job=province_refresh,
    cron_schedule="0 5 * * *",  # after the regencies' nights (one run each from 01:00, queued)
    execution_timezone=DEPLOYMENT_TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
)
