"""Stage a feed behind its quality gate: a delivery that fails the staging suite is held back.

The order matters for "nothing lost, nothing half-written": the feed is staged in memory,
validated, and only then published. When an error-severity expectation fails, the deliveries this
run loaded are held back (`deliveries.hold_back`: registry and raw in one transaction), the
deliveries in force before the run are staged again and validated, and that is what is published.
A delivery whose own data records mostly end in the quarantine (QUAR-01, judged per delivery) is
held back alone: the other new files of the feed go on. See `quality.gate` for the decisions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.ingest import deliveries
from dtsen_pipeline.ingest.feeds import FeedSpec
from dtsen_pipeline.ingest.raw_store import load_registry, remove_deliveries
from dtsen_pipeline.ingest.staging_tables import StagedFeed, publish_staged, stage_records
from dtsen_pipeline.ingest.standardise import StagingResult
from dtsen_pipeline.quality import gate
from dtsen_pipeline.quality.gx_suites import SuiteOutcome
from dtsen_pipeline.quality.rules import DEFAULT_CEILINGS
from dtsen_pipeline.schema import UNCOUNTED_REASONS

Validate = Callable[[pd.DataFrame], SuiteOutcome]


@dataclass(frozen=True)
class GatedFeed:
    """What was published for the feed, the gate's decision, and the suite of the published table."""

    staged: StagedFeed
    decision: gate.GateDecision
    suite: SuiteOutcome  # validation of the table now in staging (the check's metadata)


def staged_share_by_file(raw: pd.DataFrame, result: StagingResult) -> pd.DataFrame:
    """Per source file: data records (junk and unanswered worklist rows excluded) and how many of them
    were quarantined."""
    quarantine = result.quarantine
    junk = quarantine["reason"].isin(UNCOUNTED_REASONS)
    records = raw.groupby("source_file").size()
    junk_rows = quarantine[junk].groupby("source_file").size()
    kept_out = quarantine[~junk].groupby("source_file").size()
    frame = pd.DataFrame({"records": records}).join(junk_rows.rename("junk")).join(kept_out.rename("quarantined"))
    frame = frame.fillna(0).astype("int64")
    frame["data_records"] = frame["records"] - frame["junk"]
    return frame


def _worst_new_file(shares: pd.DataFrame, files: set[str], mostly: float) -> tuple[gate.ExpectationOutcome, set[str]]:
    """QUAR-01 over the new files: the outcome of the worst one, and every file that fails it."""
    new = shares[shares.index.isin(files) & (shares["data_records"] > 0)]
    if new.empty:
        return gate.staged_share_outcome(0, 0, mostly), set()
    share = new["quarantined"] / new["data_records"]
    failing = {f for f, s in share.items() if not gate.staged_enough(s, mostly)}
    worst = new.loc[share.idxmax()]
    return gate.staged_share_outcome(int(worst["data_records"]), int(worst["quarantined"]), mostly), failing


def stage_and_gate(engine: sa.Engine, spec: FeedSpec, *, scope: str, as_of: dt.date, validate: Validate,
                   new_deliveries: frozenset[str], staged_share: float,
                   loaded: Mapping[str, pd.DataFrame] | None = None,
                   ceilings: Mapping[str, int] = DEFAULT_CEILINGS) -> GatedFeed:
    """Stage the feed's deliveries in force, validate, hold back failing new deliveries, publish."""
    raw, result = stage_records(engine, spec, scope, as_of, loaded, ceilings)
    registry = load_registry(engine, spec.name)
    new = {d.delivery_id: d for d in registry if d.in_force and d.delivery_id in new_deliveries}
    by_file = {d.record_file: d.delivery_id for d in new.values()}
    quar, quar_failing = _worst_new_file(staged_share_by_file(raw, result), set(by_file), staged_share)
    outcome = gate.with_outcome(validate(result.staged), quar)
    suite_failed = any(o.rule != gate.QUARANTINE_RULE for o in gate.error_failures(outcome))
    if outcome.success:
        return _published(engine, spec, raw, result, outcome, gate.PASSED)
    held = set(new) if suite_failed else {by_file[f] for f in quar_failing}
    if not held:
        return _published(engine, spec, raw, result, outcome, gate.FAILED)

    problem = f"held back by the staging suite {outcome.suite}: " + "; ".join(gate.failure_lines(outcome))
    registry = deliveries.hold_back(registry, held, {d: problem for d in held}, spec.delivery_mode,
                                    scoped=bool(spec.snapshot_scope))
    remove_deliveries(engine, spec, registry, held)
    kept_loaded = {d: f for d, f in (loaded or {}).items() if d not in held}
    raw, result = stage_records(engine, spec, scope, as_of, kept_loaded, ceilings)
    fallback = validate(result.staged)
    staged = publish_staged(engine, spec, raw, result)
    decision = gate.GateDecision.of("staging", spec.name, outcome, gate.HELD_BACK, deliveries_held=len(held))
    if spec.required_for_publication and not any(d.in_force for d in registry):
        decision = replace(decision, decision=gate.BLOCKED, note=(
            f"feed {spec.name} is required for publication and has no delivery in force: "
            "its only deliveries were held back, so the golden tables are not republished"))
    return GatedFeed(staged=staged, decision=decision, suite=fallback)


def _published(engine: sa.Engine, spec: FeedSpec, raw: pd.DataFrame, result: StagingResult,
               outcome: SuiteOutcome, decision: str) -> GatedFeed:
    staged = publish_staged(engine, spec, raw, result)
    return GatedFeed(staged=staged, decision=gate.GateDecision.of("staging", spec.name, outcome, decision),
                     suite=outcome)
