"""The golden chain outside Dagster: reference tables, identity steps and SQL models in order.

The Dagster assets run the same step functions one asset at a time; this runner exists so that
tests (hand-made staging frames) and benchmarks can build the candidate golden tables from
`staging.*` and `linkage.person_cluster` without a Dagster run. Order comes from what each step
reads, exactly as for the assets.
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from dtsen_pipeline.golden.flags import flag_rules
from dtsen_pipeline.golden.id_state import household_identity, person_identity
from dtsen_pipeline.golden.reference import programme_rules, village_code_changes, village_reference
from dtsen_pipeline.golden.sql_models import discover_models, render
from dtsen_pipeline.ingest.feeds import load_feed_specs, person_feeds
from dtsen_pipeline.quality.rules import DEFAULT_CEILINGS
from dtsen_pipeline.warehouse import replace_table, replace_table_from_sql

Key = tuple[str, str]


@dataclass(frozen=True)
class Deployment:
    """What the Python steps take from the deployment's settings (the assets: `pipeline.scope`,
    `quality.ceilings()`)."""

    scope: str
    ceilings: Mapping[str, int]
    code_changes: Path | None = None  # DTSEN_VILLAGE_CODE_CHANGES (None: the packaged file)


@dataclass(frozen=True)
class PyStep:
    reads: tuple[Key, ...]
    run: Callable[[sa.Engine, str, Deployment], object]  # (engine, run_id, deployment)
    also_writes: tuple[Key, ...] = ()


PERSON_FEEDS = person_feeds(load_feed_specs())
PY_STEPS: dict[Key, PyStep] = {
    ("reference", "village"): PyStep((), lambda e, _r, d: replace_table(
        e, village_reference(d.scope), "reference", "village")),
    ("reference", "village_code_change"): PyStep((), lambda e, _r, d: replace_table(
        e, village_code_changes(d.code_changes), "reference", "village_code_change")),
    ("reference", "programme_rule"): PyStep((), lambda e, _r, d: replace_table(
        e, programme_rules(d.ceilings), "reference", "programme_rule")),
    ("reference", "flag_rule"): PyStep((), lambda e, _r, _d: replace_table(
        e, flag_rules(), "reference", "flag_rule")),
    ("identity", "person_id"): PyStep(
        (("linkage", "person_cluster"), *(("staging", f) for f in PERSON_FEEDS)),
        lambda e, run_id, _d: person_identity(e, run_id, PERSON_FEEDS)),
    ("identity", "household_id"): PyStep(
        (("intermediate", "person_record"), ("intermediate", "person_kk")),
        lambda e, run_id, _d: household_identity(e, run_id, PERSON_FEEDS),
        also_writes=(("identity", "id_change"),)),
}
PRODUCER: dict[Key, Key] = {extra: key for key, step in PY_STEPS.items() for extra in step.also_writes}


def run_golden_chain(engine: sa.Engine, run_id: str, scope: str = "18.06",
                     ceilings: Mapping[str, int] = DEFAULT_CEILINGS,
                     code_changes: Path | None = None) -> dict[Key, object]:
    """Build every reference, identity and SQL-model table from staging and linkage; returns
    what each step returned (row counts, identity stats). `ceilings`: programme ceilings;
    `code_changes`: the deployment's village code changes (None: the packaged file)."""
    deployment = Deployment(scope, ceilings, code_changes)
    models = {m.key: m for m in discover_models()}
    graph: dict[Key, set[Key]] = {k: {PRODUCER.get(d, d) for d in m.deps} for k, m in models.items()}
    graph.update({k: set(step.reads) for k, step in PY_STEPS.items()})
    known = set(graph)
    results: dict[Key, object] = {}
    for key in graphlib.TopologicalSorter({k: {d for d in deps if d in known} for k, deps in graph.items()}).static_order():
        if key in PY_STEPS:
            results[key] = PY_STEPS[key].run(engine, run_id, deployment)
        else:
            sql = render(models[key].sql, engine.dialect.name)
            results[key] = replace_table_from_sql(engine, key[0], key[1], sql)
    return results
