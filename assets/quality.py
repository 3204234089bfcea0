"""Blocking Great Expectations checks: one per suite file in expectations/ (<schema>__<table>.json).

A failing error-severity expectation fails the check, and Dagster then skips everything
downstream, so golden tables are never rebuilt from data that broke the contract. The metadata
holds per-expectation counts and percentages only, never values.
"""


from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from dtsen_pipeline.config import EXPECTATIONS_DIR
from dtsen_pipeline.quality.gx_suites import read_suite_file, run_suite
from dtsen_pipeline.resources import WarehouseResource
from dtsen_pipeline.warehouse import read_table


def _gx_check(schema: str, table: str) -> AssetChecksDefinition:
    path = EXPECTATIONS_DIR / f"{schema}__{table}.json"
    declared = len(read_suite_file(path)["expectations"])

    @asset_check(
        asset=AssetKey([schema, table]),
        name="gx_suite",
        blocking=True,
        description=f"Great Expectations suite {path.name} ({declared} expectations).",
    )
    def gx_suite(warehouse: WarehouseResource) -> AssetCheckResult:
        df = read_table(warehouse.engine(), schema, table)
        outcome = run_suite(df, path)
        rows = [o.as_dict() for o in outcome.outcomes]
        return AssetCheckResult(
            passed=outcome.success,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "suite": path.name,
                "rows_validated": outcome.rows,
                "expectations": len(rows),
                "expectations_failed": len(outcome.failed),
                "results": MetadataValue.json(rows),
            },
        )

    return gx_suite


def suite_targets() -> list[tuple[str, str]]:
    return [tuple(p.stem.split("__", 1)) for p in sorted(EXPECTATIONS_DIR.glob("*__*.json"))]


gx_checks = [_gx_check(schema, table) for schema, table in suite_targets()]
