"""Ingest and stage several feeds side by side: what the ingest assets run (and the benchmark).

Feeds are independent until linkage, and much of their work (Arrow CSV parsing, Arrow string
kernels, NumPy, DuckDB) runs outside Python's global interpreter lock, so on the two cores of a
kabupaten server two feeds on two threads finish in about 0.7 of the time one after the other
takes. Threads, not processes: a process would have to ship each feed's two million cells to
and fro, and DuckDB admits a single writing process per file. Warehouse writes take turns
(`warehouse.write_transaction`).

A feed that fails does not stop the others: its outcome carries the exception, and the caller
publishes what succeeded before it reports the failure.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from dtsen_pipeline.ingest.feeds import FeedSpec
from dtsen_pipeline.ingest.intake import IntakeResult, ingest_feed
from dtsen_pipeline.ingest.staged import StagedFeed, stage_in_force

DEFAULT_WORKERS = 2


@dataclass(frozen=True)
class FeedOutcome:
    """One feed's results; `intake`/`staged` are None when that step was not asked for or failed."""

    feed: str
    intake: IntakeResult | None = None
    staged: StagedFeed | None = None
    error: BaseException | None = None


def workers_from_env() -> int:
    """`DTSEN_INGEST_WORKERS` (default 2, the cores of the reference server); 1 runs feeds in turn."""
    value = os.environ.get("DTSEN_INGEST_WORKERS", "").strip()
    if not value:
        return DEFAULT_WORKERS
    if not value.isdigit() or int(value) < 1:
        raise ValueError("DTSEN_INGEST_WORKERS must be a whole number of at least 1")
    return int(value)


def _landing_bytes(landing_dir: Path, spec: FeedSpec) -> int:
    folder = landing_dir / spec.name
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


def _largest_first(specs: Iterable[FeedSpec], landing_dir: Path) -> list[FeedSpec]:
    """Big feeds start first, so the small ones fill in at the end (longest-job-first balance)."""
    return sorted(specs, key=lambda spec: _landing_bytes(landing_dir, spec), reverse=True)


def run_feeds(engine: sa.Engine, landing_dir: Path, specs: Iterable[FeedSpec], *, ingest: set[str],
              stage: set[str], scope: str, as_of: dt.date, run_id: str,
              workers: int = DEFAULT_WORKERS) -> dict[str, FeedOutcome]:
    """For each feed: ingest it when its name is in `ingest`, then stage it when in `stage`.

    Returns the outcomes by feed name, in the order of `specs`.
    """
    specs = list(specs)

    def one(spec: FeedSpec) -> FeedOutcome:
        intake = staged = None
        try:
            if spec.name in ingest:
                intake = ingest_feed(engine, landing_dir, spec, run_id=run_id)
            if spec.name in stage:
                staged = stage_in_force(engine, spec, scope=scope, as_of=as_of)
        except Exception as error:  # reported by the caller after the other feeds are published
            return FeedOutcome(spec.name, intake, staged, error)
        return FeedOutcome(spec.name, intake, staged)

    chosen = [s for s in specs if s.name in ingest or s.name in stage]
    if workers <= 1 or len(chosen) <= 1:
        outcomes = [one(spec) for spec in chosen]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="feed") as pool:
            outcomes = list(pool.map(one, _largest_first(chosen, landing_dir)))
    by_name = {o.feed: o for o in outcomes}
    return {s.name: by_name[s.name] for s in chosen}
