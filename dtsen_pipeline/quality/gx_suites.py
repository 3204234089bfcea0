"""Run a Great Expectations 1.x suite kept as JSON on a DataFrame and report counts only.

GX is called directly (dagster-ge does not support GX 1.x). The result format asks for no
example values, and only counts leave this module, so no personal data reaches Dagster metadata.
GX drops an invalid expectation with a log line instead of an error; `load_suite` refuses that.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dtsen_pipeline.config import EXPECTATIONS_DIR

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

# Counts only: no partial_unexpected_list, no index lists.
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0, "include_unexpected_rows": False}
SEVERITIES = ("error", "warning")


class SuiteDefinitionError(Exception):
    """A suite file that GX would silently weaken (unknown or invalid expectation)."""


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    severity: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None

    def as_dict(self) -> dict[str, object]:
        return self.__dict__.copy()


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    rows: int
    outcomes: tuple[ExpectationOutcome, ...]

    @property
    def success(self) -> bool:
        """Only error-severity expectations decide; warnings are reported."""
        return all(o.success for o in self.outcomes if o.severity == "error")

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


def suite_path(schema: str, table: str) -> Path:
    return EXPECTATIONS_DIR / f"{schema}__{table}.json"


def read_suite_file(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    for exp in data.get("expectations", []):
        severity = exp.get("meta", {}).get("severity", "error")
        if severity not in SEVERITIES:
            raise SuiteDefinitionError(f"{path.name}: severity must be one of {SEVERITIES}, got {severity!r}")
    return data


@functools.cache
def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


def load_suite(path: Path):
    """A GX ExpectationSuite from a JSON file; raises if GX dropped any expectation."""
    import great_expectations as gx

    data = read_suite_file(path)
    declared = data.get("expectations", [])
    suite = gx.ExpectationSuite(name=data["name"], expectations=declared)
    if len(suite.expectations) != len(declared):
        raise SuiteDefinitionError(
            f"{path.name}: {len(declared)} expectations declared, GX accepted {len(suite.expectations)}"
        )
    return suite


def run_suite(df: pd.DataFrame, path: Path) -> SuiteOutcome:
    """Validate `df` against the suite in `path`."""
    ctx = _context()
    suite = load_suite(path)
    source_name = f"ds_{suite.name}"
    if source_name not in [ds.name for ds in ctx.data_sources.all().values()]:
        (ctx.data_sources.add_pandas(name=source_name)
         .add_dataframe_asset(name=suite.name)
         .add_batch_definition_whole_dataframe("whole"))
    batch_def = ctx.data_sources.get(source_name).get_asset(suite.name).get_batch_definition("whole")
    batch = batch_def.get_batch(batch_parameters={"dataframe": df})
    result = batch.validate(suite, result_format=RESULT_FORMAT)
    outcomes = []
    for r in result.results:
        cfg = r.expectation_config
        res = r.result or {}
        outcomes.append(ExpectationOutcome(
            expectation=cfg.type,
            column=cfg.kwargs.get("column"),
            severity=(cfg.meta or {}).get("severity", "error"),
            success=bool(r.success),
            element_count=res.get("element_count"),
            unexpected_count=res.get("unexpected_count"),
            unexpected_percent=(round(float(res["unexpected_percent"]), 4)
                                if res.get("unexpected_percent") is not None else None),
        ))
    return SuiteOutcome(suite=suite.name, rows=len(df), outcomes=tuple(outcomes))
