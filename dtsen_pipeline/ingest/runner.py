"""Ingest and stage several feeds side by side: what the ingest assets run (and the benchmark).

Feeds are independent until linkage, and much of their work (Arrow CSV parsing, Arrow string
kernels, NumPy, DuckDB) runs outside Python's global interpreter lock, so on the two cores of a
kabupaten server two feeds on two threads finish in about 0.7 of the time one after the other
takes. Threads, not processes: DuckDB admits a single writing process per file, so a worker
process would have to hand each feed's two million cells back to this one, and measured on the
640,000-person sample, staging in worker processes was no faster (both cores are already busy).
Catalog changes take turns (`warehouse.write_transaction`); each feed's own table loads run side by
side (`warehouse.table_transaction`).

A feed that fails does not stop the others: its outcome carries the exception, and the caller
publishes what succeeded before it reports the failure.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

from dtsen_pipeline.ingest.feeds import FeedSpec
from dtsen_pipeline.ingest.gated import GatedFeed, stage_and_gate
from dtsen_pipeline.ingest.intake import IntakeResult, ingest_feed
from dtsen_pipeline.ingest.landing import discover_files
from dtsen_pipeline.ingest.raw_store import count_in_force, load_registry
from dtsen_pipeline.ingest.retention import RawRetention, prune_raw
from dtsen_pipeline.ingest.staging_state import (
    CarriedStaging,
    carried_staging,
    reckoning_date,
    remember_staging,
    staging_fingerprint,
)
from dtsen_pipeline.ingest.staging_tables import StagedFeed, stage_in_force
from dtsen_pipeline.quality.gate import StagingGate
from dtsen_pipeline.quality.gx_suites import load_thresholds
from dtsen_pipeline.quality.rules import DEFAULT_CEILINGS

DEFAULT_WORKERS = 2  # the cores of the reference server (DTSEN_INGEST_WORKERS)
T = TypeVar("T")


@dataclass(frozen=True)
class FeedOutcome:
    """One feed's results; `intake`/`staged` are None when that step was not asked for or failed."""

    feed: str
    intake: IntakeResult | None = None
    staged: StagedFeed | None = None
    gated: GatedFeed | None = None  # the quality gate's decision, when the run stages behind it
    carried: CarriedStaging | None = None  # staging left as an earlier run published it (`staging_state`)
    error: BaseException | None = None


# Ingestion work in CSV-byte equivalents, measured on the 640,000-person sample: a workbook byte
# (zipped XML, cell by cell) costs about 15 CSV bytes, and a file about 600 kB of fixed work
# (registry, junk and scope checks), which makes 181 small pekon files as long as one big extract.
_XLSX_BYTE = 15
_PER_FILE = 600_000


def _landing_work(landing_dir: Path, spec: FeedSpec) -> int:
    """A feed's ingestion work, estimated from the files ingestion will look at."""
    return sum(p.stat().st_size * (_XLSX_BYTE if p.suffix.lower() in (".xlsx", ".xlsm") else 1) + _PER_FILE
               for p in discover_files(landing_dir, spec))


def _longest_first(items: list[T], work: Callable[[T], int]) -> list[T]:
    """Largest jobs start first, so the small ones fill in at the end (longest-processing-time rule)."""
    return sorted(items, key=work, reverse=True)


def run_feeds(engine: sa.Engine, landing_dir: Path, specs: Iterable[FeedSpec], *, ingest: set[str],
              stage: set[str], scope: str, as_of: dt.date, run_id: str,
              workers: int = DEFAULT_WORKERS, gate: StagingGate | None = None,
              settled_before: float | None = None,
              ceilings: Mapping[str, int] = DEFAULT_CEILINGS,
              retention: RawRetention | None = None,
              progress: Callable[[str], None] | None = None,
              restage: bool = False) -> dict[str, FeedOutcome]:
    """Ingest the feeds named in `ingest`, then stage those named in `stage`.

    Two rounds on one pool of `workers` threads, each round's feeds biggest first: ingestion
    (work estimated from the landing folder), then staging (work = the feed's records in force,
    known once ingestion is done), so no thread is left alone with a big feed at the end. A feed
    whose ingestion failed is not staged. Files modified after `settled_before` are left for the
    next run (`ingest_feed`). With a `gate`, each feed is validated before it is
    published and the deliveries this run loaded are held back when it fails (`ingest.gated`).
    Staging and its suite reckon ages at the feed's newest delivery in force, never later than
    `as_of` (`staging_state.reckoning_date`), unless the gate names a date. A feed whose deliveries,
    settings and code are those of its last published staging is not staged again (its outcome is
    `carried`), unless `restage`.
    `ceilings`: the deployment's programme ceilings (PRG-02). `retention`: after its ingestion, a
    feed's deliveries superseded for longer leave raw (`ingest.retention`; None keeps them). `progress` hears of each feed as its
    ingestion and its staging end (counts and seconds only; called from the worker threads).
    Returns the outcomes in the order of `specs`.
    """
    tell = progress or (lambda _: None)
    chosen = [s for s in specs if s.name in ingest or s.name in stage]
    outcomes = {s.name: FeedOutcome(s.name) for s in chosen}

    def ingest_one(spec: FeedSpec) -> None:
        start = time.perf_counter()
        try:
            intake = ingest_feed(engine, landing_dir, spec, run_id=run_id, settled_before=settled_before)
            if retention is not None:
                pruned = prune_raw(engine, spec, retention)
                if pruned.deliveries:
                    intake = replace(intake, registry=load_registry(engine, spec.name),
                                     deliveries_pruned=pruned.deliveries, records_pruned=pruned.records)
                    tell(f"feed {spec.name}: {pruned.records:,} records of {pruned.deliveries} delivery(ies) "
                         f"superseded for more than {retention.days} days pruned from raw")
            tell(f"feed {spec.name} ingested: {intake.rows_added:,} records added from {len(intake.reports)} "
                 f"new file(s) in {time.perf_counter() - start:.1f}s")
            # The records just loaded are kept in memory only for a feed staged next.
            outcomes[spec.name] = replace(outcomes[spec.name],
                                          intake=intake if spec.name in stage else replace(intake, loaded={}))
        except Exception as error:  # reported by the caller after the other feeds are published
            outcomes[spec.name] = replace(outcomes[spec.name], error=error)

    def stage_one(spec: FeedSpec) -> None:
        start = time.perf_counter()
        try:
            intake = outcomes[spec.name].intake
            loaded = intake.loaded if intake else None
            registry = intake.registry if intake else load_registry(engine, spec.name)
            reckoned = gate.as_of if gate is not None and gate.as_of is not None else reckoning_date(registry, as_of)
            fingerprint = _fingerprint(spec, registry, reckoned)
            carried = None if restage else carried_staging(engine, spec.name, fingerprint)
            if carried is not None:
                outcomes[spec.name] = replace(outcomes[spec.name], carried=carried,
                                              intake=replace(intake, loaded={}) if intake else None)
                tell(f"feed {spec.name}: deliveries, settings and code as staged by run {carried.run_id}: "
                     f"{carried.staged.rows_staged:,} staged records left as they are")
                return
            remember_staging(engine, spec.name, None, run_id, None, None, ())  # until this staging is published
            gated = None
            if gate is None:
                staged = stage_in_force(engine, spec, scope=scope, as_of=reckoned, loaded=loaded, ceilings=ceilings)
            else:
                feed_gate = replace(gate, as_of=reckoned)
                gated = stage_and_gate(engine, spec, scope=scope, as_of=reckoned, validate=feed_gate.validate(spec.name),
                                       new_deliveries=intake.added if intake else frozenset(),
                                       staged_share=gate.staged_share(spec.name), loaded=loaded,
                                       ceilings=ceilings)
                staged = gated.staged
                if gated.decision.deliveries_held and intake is not None:  # raw metadata: what is in force now
                    intake = replace(intake, registry=load_registry(engine, spec.name))
            remember_staging(engine, spec.name, fingerprint, run_id, staged, gated.decision if gated else None,
                             (o.rule or o.expectation for o in gated.suite.warnings_failed) if gated else ())
            # The records loaded this run are staged: let them go before the next feed is.
            outcomes[spec.name] = replace(outcomes[spec.name], staged=staged, gated=gated,
                                          intake=replace(intake, loaded={}) if intake else None)
            tell(f"feed {spec.name} staged: {staged.rows_in:,} in, {staged.rows_staged:,} staged, "
                 f"{staged.rows_quarantined:,} quarantined"
                 + (f", gate {gated.decision.decision}" if gated is not None else "")
                 + f" in {time.perf_counter() - start:.1f}s")
        except Exception as error:
            outcomes[spec.name] = replace(outcomes[spec.name], error=error)

    def _fingerprint(spec: FeedSpec, registry, reckoned: dt.date) -> str:
        thresholds = (gate.thresholds if gate is not None and gate.thresholds is not None else load_thresholds())
        return staging_fingerprint(spec.name, registry, scope=scope, reckoned_at=reckoned, ceilings=ceilings,
                                   thresholds=thresholds.get(f"staging__{spec.name}", {}),
                                   staged_share=gate.staged_share(spec.name) if gate is not None else -1.0)

    tell(f"ingesting {len([s for s in chosen if s.name in ingest])} feed(s) and staging "
         f"{len([s for s in chosen if s.name in stage])} on {max(workers, 1)} thread(s)")
    to_ingest = _longest_first([s for s in chosen if s.name in ingest], lambda s: _landing_work(landing_dir, s))
    _run_all(ingest_one, to_ingest, workers)
    to_stage = [s for s in chosen if s.name in stage and outcomes[s.name].error is None]
    _run_all(stage_one, _longest_first(to_stage, lambda s: count_in_force(engine, s.name)), workers)
    return outcomes


def _run_all(task: Callable[[T], None], items: list[T], workers: int) -> None:
    if workers <= 1 or len(items) <= 1:
        for item in items:
            task(item)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="feed") as pool:
        list(pool.map(task, items))
