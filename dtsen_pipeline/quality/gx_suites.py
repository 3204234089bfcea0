"""Run a Great Expectations 1.x suite kept as JSON on a DataFrame and report counts only.

GX is called directly (dagster-ge does not support GX 1.x). The result format asks for no
example values, and only counts leave this module, so no personal data reaches Dagster
metadata or the Data Docs. GX drops an invalid expectation with a log line instead of an
error; `load_suite` refuses that.

Each expectation's `meta` carries `severity` (error: blocks publication; warning: reported;
info: counted only) and `rule` (the rule id of docs/rules.md). The `mostly` of error-severity (gating)
expectations is set per suite (so per feed) and rule in `expectations/thresholds.yaml` (or the
deployment's file, `quality.thresholds_file`); warnings keep the `mostly` of their suite file.
The deployment's programme ceilings reach PRG-02's expectation as its `ceilings`.

A suite file may `include` shared suite files (`"include": ["person_feed.json"]`, names relative to
its folder): their expectations come first, then its own. Each person feed's staging suite is
`person_feed.json` (what staging guarantees for every person feed) plus what the feed adds; the
suite keeps the feed file's name, so validation results and Data Docs name the feed. An
expectation declared twice (same type and kwargs but `mostly`) is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from dtsen_pipeline.config import EXPECTATIONS_DIR

# Counts only: no partial_unexpected_list, no index lists, no rows.
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0, "include_unexpected_rows": False,
                 "return_unexpected_index_query": False}
SEVERITIES = ("error", "warning", "info")
CEILING_EXPECTATION = "expect_recipients_within_desil_ceiling"  # PRG-02
# The expectations that reckon ages at a date (`as_of`): DOB-01, KK-06, DOB-03.
AS_OF_EXPECTATIONS = frozenset({"expect_column_values_to_be_plausible_birth_date",
                                "expect_column_values_to_be_plausible_birth_year",
                                "expect_family_ages_to_be_plausible", "expect_age_to_agree_with_recorded_age"})
THRESHOLDS_FILE = EXPECTATIONS_DIR / "thresholds.yaml"
DOCS_SITE = "dtsen_run_docs"
RENDER_LOCK = ".render.lock"  # in a run's Data Docs folder (`_rendering`)


class SuiteDefinitionError(Exception):
    """A suite file that GX would silently weaken (unknown or invalid expectation)."""


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    rule: str | None
    severity: str
    success: bool
    mostly: float | None
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
    docs_index: Path | None = None
    docs_page: Path | None = None

    @property
    def success(self) -> bool:
        """Only error-severity expectations decide; warnings are reported."""
        return all(o.success for o in self.outcomes if o.severity == "error")

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def warnings_failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "warning"]


def suite_path(schema: str, table: str) -> Path:
    return EXPECTATIONS_DIR / f"{schema}__{table}.json"


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, dict[str, float]]:
    """`{suite: {rule: mostly}}` from the thresholds file (empty when there is none)."""
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, dict[str, float]] = {}
    for suite, rules in data.items():
        for rule, mostly in (rules or {}).items():
            value = float(mostly)
            if not 0.0 <= value <= 1.0:
                raise SuiteDefinitionError(f"{path.name}: {suite} {rule}: mostly must be within 0..1, got {mostly!r}")
            out.setdefault(str(suite), {})[str(rule)] = value
    return out


PERSON_FEEDS_VARIABLE = "$person_feeds"  # a value_set filled with the feed registry's person feeds


def read_suite_file(path: Path, thresholds: Mapping[str, Mapping[str, float]] | None = None,
                    ceilings: Mapping[str, int] | None = None, as_of: dt.date | None = None,
                    person_feeds: Sequence[str] | None = None) -> dict:
    """The suite as declared (with the files it includes), with the thresholds' `mostly` (default:
    the shipped file) applied to its error-severity expectations that declare one, the
    programme `ceilings` given to PRG-02's expectation where its suite names none, the run's
    date `as_of` to the expectations that reckon ages where the suite names none, and the
    registry's `person_feeds` as the `value_set` an expectation declares as `"$person_feeds"`
    (a feed added by YAML is then a value the golden tables may hold)."""
    data = _composed(path)
    overrides = (load_thresholds() if thresholds is None else thresholds).get(data.get("name", path.stem), {})
    for exp in data.get("expectations", []):
        meta = exp.get("meta", {})
        severity = meta.get("severity", "error")
        if severity not in SEVERITIES:
            raise SuiteDefinitionError(f"{path.name}: severity must be one of {SEVERITIES}, got {severity!r}")
        rule = meta.get("rule")
        # Only gating (error) thresholds are set there: a warning of the same rule keeps its own.
        if rule in overrides and severity == "error" and "mostly" in exp.get("kwargs", {}):
            exp["kwargs"]["mostly"] = overrides[rule]
        if ceilings is not None and exp.get("type") == CEILING_EXPECTATION and "ceilings" not in exp.get("kwargs", {}):
            exp.setdefault("kwargs", {})["ceilings"] = dict(ceilings)
        if as_of is not None and exp.get("type") in AS_OF_EXPECTATIONS:
            exp.setdefault("kwargs", {}).setdefault("as_of", as_of.isoformat())
        if person_feeds is not None and exp.get("kwargs", {}).get("value_set") == PERSON_FEEDS_VARIABLE:
            exp["kwargs"]["value_set"] = list(person_feeds)
    return data


def _composed(path: Path, including: tuple[str, ...] = ()) -> dict:
    """The suite file with the expectations of the files it includes put first, each declared once."""
    if path.name in including:
        raise SuiteDefinitionError(f"{including[0]}: includes {path.name} within itself")
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    shared = [exp for name in data.pop("include", [])
              for exp in _composed(path.parent / name, (*including, path.name))["expectations"]]
    data["expectations"] = shared + data.get("expectations", [])
    seen: set[str] = set()
    for exp in data["expectations"]:
        kwargs = {k: v for k, v in exp.get("kwargs", {}).items() if k != "mostly"}
        key = json.dumps([exp.get("type"), kwargs], sort_keys=True)
        if key in seen:
            raise SuiteDefinitionError(f"{path.name}: {exp.get('type')} {kwargs} is declared twice "
                                       "(in the file and in a file it includes?)")
        seen.add(key)
    return data


def _register_custom_expectations() -> None:
    import dtsen_pipeline.quality.expectations  # noqa: F401  (class creation registers them with GX)


@functools.cache
def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    _register_custom_expectations()
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


@functools.lru_cache(maxsize=2)
def _docs_context(docs_dir: str):
    """One ephemeral context per Data Docs folder (one per run), so a run's index lists only its own suites."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    _register_custom_expectations()
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    ctx.add_data_docs_site(site_name=DOCS_SITE, site_config={
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs_dir},
        "site_index_builder": {"module_name": "dtsen_pipeline.quality.docs_index",
                               "class_name": "RunDocsIndexBuilder"},
    })
    return ctx


def load_suite(path: Path, thresholds: Mapping[str, Mapping[str, float]] | None = None,
               ceilings: Mapping[str, int] | None = None, as_of: dt.date | None = None,
               person_feeds: Sequence[str] | None = None):
    """A GX ExpectationSuite from a JSON file; raises if GX dropped any expectation."""
    import great_expectations as gx

    _register_custom_expectations()
    data = read_suite_file(path, thresholds, ceilings, as_of, person_feeds)
    declared = data.get("expectations", [])
    if any(exp.get("kwargs", {}).get("value_set") == PERSON_FEEDS_VARIABLE for exp in declared):
        raise SuiteDefinitionError(f"{path.name}: {PERSON_FEEDS_VARIABLE} needs the registry's person feeds")
    try:
        suite = gx.ExpectationSuite(name=data["name"], expectations=declared)
    except Exception as exc:  # GX/pydantic refuse a malformed expectation (unknown or missing kwargs)
        raise SuiteDefinitionError(f"{path.name}: GX refused an expectation ({type(exc).__name__})") from exc
    if len(suite.expectations) != len(declared):
        raise SuiteDefinitionError(
            f"{path.name}: {len(declared)} expectations declared, GX accepted {len(suite.expectations)}"
        )
    return suite


_COLUMN_KWARGS = ("column", "column_A", "column_B")


def _named_columns(kwargs: Mapping[str, object]) -> list[str]:
    """The columns an expectation's (or a metric domain's) kwargs name: `column`, `column_A/B`,
    `column_list`, each once, in that order; none for a table-level one."""
    named = [kwargs[k] for k in _COLUMN_KWARGS if k in kwargs] + list(kwargs.get("column_list", []))  # type: ignore[call-overload]
    return list(dict.fromkeys(str(c) for c in named))


def suite_columns(path: Path) -> tuple[str, ...] | None:
    """Every column the suite's expectations name (`column`, `column_list`, `column_A/B`), so a
    step reads only those from the warehouse; None when an expectation names none (a table-level
    expectation needs every column)."""
    columns: dict[str, None] = {}
    for expectation in read_suite_file(path).get("expectations", []):
        named = _named_columns(expectation.get("kwargs", {}))
        if not named:
            return None
        columns.update(dict.fromkeys(named))
    return tuple(columns)


def _checked_columns(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """`df` with only the columns the suite names. GX's pandas engine filters the whole frame for
    every expectation (rows with a value, rows of a condition): at 600,000 staged rows, copying the
    columns no expectation reads cost a third of a staging suite. A named column that is missing
    stays missing, so the suite still fails on it."""
    columns = suite_columns(path)
    if columns is None:
        return df
    return df[[c for c in columns if c in df.columns]]


def _batch_definition(ctx, name: str):
    source_name = _source_name(name)
    if source_name not in [ds.name for ds in ctx.data_sources.all().values()]:
        (ctx.data_sources.add_pandas(name=source_name)
         .add_dataframe_asset(name=name)
         .add_batch_definition_whole_dataframe("whole"))
    return ctx.data_sources.get(source_name).get_asset(name).get_batch_definition("whole")


def _source_name(suite_name: str) -> str:
    return f"ds_{suite_name}"


def _no_batch_fingerprint() -> None:
    """GX labels each pandas batch under 1 GB with an MD5 of the whole frame, index included
    (`hash_pandas_dataframe`, below its HASH_THRESHOLD). The label only names the batch in Data
    Docs, whose pages are named by suite and run here, and it cost 1.3 s of build.person's 8 s
    suite at 640,000 persons, with a hashed copy of every column in memory: no batch is labelled."""
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


def _domains_narrowed() -> None:
    """GX's pandas engine gives each column expectation the whole batch, then keeps the rows where
    the column has a value (`df[df[column].notnull()]`), twice per expectation (the check and its
    unexpected values): every column of the suite is copied for each expectation that reads one.
    At 640,000 persons that was 5.5 s of the staging suites' threads on a first night and 2.1-2.6 s
    of the build suites on every night. Here the domain's records keep only the domain's columns,
    after GX's own row filters (a row condition may name any column; a pair's or list's
    `ignore_row_if` looks at its own columns), and GX then drops the rows without a value from
    these: each expectation sees the same values of the same rows. Installed once per process; a
    table-level domain, or a column the frame lacks (GX then reports it), gets the records as GX
    made them."""
    from great_expectations.execution_engine import PandasExecutionEngine

    original = PandasExecutionEngine.get_domain_records
    if getattr(original, "_dtsen_narrowed", False):
        return

    @functools.wraps(original)
    def narrowed(self, domain_kwargs: dict) -> pd.DataFrame:
        data = original(self, domain_kwargs)
        columns = _named_columns(domain_kwargs)
        if not columns or not all(c in data.columns for c in columns):
            return data
        return data[columns]

    narrowed._dtsen_narrowed = True  # type: ignore[attr-defined]
    PandasExecutionEngine.get_domain_records = narrowed


@contextlib.contextmanager
def _forgetting_batch(ctx, suite_name: str) -> Iterator[None]:
    """Remove the suite's data source once it has validated. The contexts live for the process,
    and a pandas data source's execution engine keeps the last frame it validated: after the
    staging suites, the four person feeds' staged frames (about 1.5 GB at 640,000 persons) stayed
    alive through every later step of the nightly run."""
    try:
        yield
    finally:
        if _source_name(suite_name) in [ds.name for ds in ctx.data_sources.all().values()]:
            ctx.data_sources.delete(_source_name(suite_name))


@contextlib.contextmanager
def _rendering(docs_dir: Path) -> Iterator[None]:
    """One validation at a time renders into a run's Data Docs folder, across processes (steps
    run side by side on PostgreSQL): the index and `make_offline` rewrite shared files in place."""
    with (docs_dir / RENDER_LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _validate_with_docs(df: pd.DataFrame, suite, docs_dir: Path):
    """Validate through a checkpoint that renders the result into the run's Data Docs folder."""
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    from dtsen_pipeline.quality.data_docs import make_offline

    docs_dir.mkdir(parents=True, exist_ok=True)
    ctx = _docs_context(str(docs_dir))
    batch_def = _batch_definition(ctx, suite.name)
    existing = {s.name for s in ctx.suites.all()}
    if suite.name in existing:
        ctx.suites.delete(suite.name)
    suite = ctx.suites.add(suite)
    vd_name = f"vd_{suite.name}"
    if vd_name in {v.name for v in ctx.validation_definitions.all()}:
        ctx.validation_definitions.delete(vd_name)
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=vd_name, data=batch_def, suite=suite))
    cp_name = f"cp_{suite.name}"
    if cp_name in {c.name for c in ctx.checkpoints.all()}:
        ctx.checkpoints.delete(cp_name)
    checkpoint = ctx.checkpoints.add(gx.Checkpoint(
        name=cp_name, validation_definitions=[vd], result_format=RESULT_FORMAT,
        actions=[UpdateDataDocsAction(name="docs", site_names=[DOCS_SITE])]))
    with _rendering(docs_dir), _forgetting_batch(ctx, suite.name):
        run = checkpoint.run(batch_parameters={"dataframe": df})
        identifier, result = next(iter(run.run_results.items()))
        make_offline(docs_dir)
    page = next((p for p in (docs_dir / "validations" / suite.name).rglob("*.html")
                 if identifier.run_id.run_time.strftime("%Y%m%dT%H%M%S") in str(p)), None)
    return result, page


def _outcome(r) -> ExpectationOutcome:
    cfg = r.expectation_config
    res = r.result or {}
    column = cfg.kwargs.get("column")
    if column is None and cfg.kwargs.get("column_list"):
        column = ",".join(cfg.kwargs["column_list"])
    percent = res.get("unexpected_percent")
    return ExpectationOutcome(
        expectation=cfg.type,
        column=column,
        rule=(cfg.meta or {}).get("rule"),
        severity=(cfg.meta or {}).get("severity", "error"),
        success=bool(r.success),
        mostly=cfg.kwargs.get("mostly"),
        element_count=res.get("element_count"),
        unexpected_count=res.get("unexpected_count"),
        unexpected_percent=round(float(percent), 4) if percent is not None else None,
    )


def run_suite(df: pd.DataFrame, path: Path, docs_dir: Path | None = None,
              thresholds: Mapping[str, Mapping[str, float]] | None = None,
              ceilings: Mapping[str, int] | None = None, as_of: dt.date | None = None,
              person_feeds: Sequence[str] | None = None) -> SuiteOutcome:
    """Validate `df` against the suite in `path` (with the deployment's `thresholds`, programme
    `ceilings`, the run's date `as_of` and the registry's `person_feeds`, see `read_suite_file`);
    with `docs_dir`, also render offline Data Docs there."""
    suite = load_suite(path, thresholds, ceilings, as_of, person_feeds)
    df = _checked_columns(df, path)
    _no_batch_fingerprint()
    _domains_narrowed()
    page = None
    if docs_dir is None:
        with _forgetting_batch(_context(), suite.name):
            batch = _batch_definition(_context(), suite.name).get_batch(batch_parameters={"dataframe": df})
            result = batch.validate(suite, result_format=RESULT_FORMAT)
    else:
        result, page = _validate_with_docs(df, suite, docs_dir)
    outcomes = tuple(_outcome(r) for r in result.results)
    return SuiteOutcome(suite=suite.name, rows=len(df), outcomes=outcomes,
                        docs_index=(docs_dir / "index.html") if docs_dir else None, docs_page=page)


def results_markdown(outcome: SuiteOutcome) -> str:
    """A per-expectation table for the Dagster UI: rule, test, severity, counts and percentages."""
    lines = ["| rule | expectation | column(s) | severity | mostly | unexpected | of rows | % | ok |",
             "|---|---|---|---|---|---|---|---|---|"]
    for o in outcome.outcomes:
        lines.append(f"| {o.rule or ''} | {o.expectation.removeprefix('expect_')} | {o.column or ''} | {o.severity} "
                     f"| {'' if o.mostly is None else o.mostly} | {'' if o.unexpected_count is None else o.unexpected_count} "
                     f"| {'' if o.element_count is None else o.element_count} "
                     f"| {'' if o.unexpected_percent is None else f'{o.unexpected_percent:.2f}'} "
                     f"| {'yes' if o.success else 'NO'} |")
    return "\n".join(lines)
