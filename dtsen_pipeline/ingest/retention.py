"""Raw retention: the records of deliveries superseded for longer than the retention leave raw.

`raw.<feed>` keeps every loaded delivery, so that one sent again, or a past run, can be traced
back. Without a limit it grows by each month's snapshots and keeps the personal data of people
long since re-registered elsewhere; UU 27/2022 asks that personal data be kept no longer than its
purpose needs. A delivery out of force for more than `days` is pruned: its records are deleted
from `raw.<feed>` and its registry row stays, status `pruned`, so the registry still says what
came, when, and when it was pruned. With an archive folder the records are first written there,
one Parquet file per delivery named by its content id (never by a name or NIK), readable by the
pipeline's user only. A delivery in force is never pruned, so staging, the conservation checks
and the golden tables do not change; an append feed (every delivery in force) keeps everything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.clock import utc_now
from dtsen_pipeline.ingest.deliveries import ACCEPTED, PRUNED, Delivery
from dtsen_pipeline.ingest.feeds import FeedSpec
from dtsen_pipeline.ingest.raw_store import load_registry, read_stored, remove_deliveries

DEFAULT_RETENTION_DAYS = 180  # two DTSEN update rounds: a disputed record can be traced back that far


@dataclass(frozen=True)
class RawRetention:
    """How long superseded deliveries keep their records (`days`; 0 keeps them for ever) and where
    pruned records are archived first (None: not archived)."""

    days: int = DEFAULT_RETENTION_DAYS
    archive_dir: Path | None = None


@dataclass(frozen=True)
class Pruned:
    """What one run pruned from one feed (counts only)."""

    deliveries: int = 0
    records: int = 0


def expired(registry: list[Delivery], days: int, now: pd.Timestamp) -> list[Delivery]:
    """Loaded deliveries out of force since more than `days` before `now` (none when `days` is 0)."""
    if days <= 0:
        return []
    cutoff = pd.Timestamp(now) - pd.Timedelta(days=days)
    return [d for d in registry if d.status == ACCEPTED and not d.in_force
            and d.superseded is not None and d.superseded < cutoff]


def mark_pruned(registry: list[Delivery], pruned: set[str], days: int, now: pd.Timestamp,
                archived: bool) -> list[Delivery]:
    """The registry with these deliveries `pruned`, their note saying when, why and whether archived."""
    def note(d: Delivery) -> str:
        where = "; archived as " + archive_name(d) if archived else "; not archived"
        return (f"records pruned {pd.Timestamp(now):%Y-%m-%d}: out of force since {d.superseded:%Y-%m-%d}, "
                f"beyond the raw retention of {days} days{where}")
    return [replace(d, status=PRUNED, note=note(d)) if d.delivery_id in pruned and d.status == ACCEPTED else d
            for d in registry]


def archive_name(delivery: Delivery) -> str:
    """`<feed>/<content id>.parquet`: the delivery's hash, never its file name (a village or a person)."""
    return f"{delivery.feed}/{delivery.delivery_id}.parquet"


def _archive(engine: sa.Engine, spec: FeedSpec, delivery: Delivery, archive_dir: Path) -> None:
    """Write the delivery's records to the archive, whole or not at all (a temporary file renamed)."""
    target = archive_dir / archive_name(delivery)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_suffix(".parquet.partial")
    read_stored(engine, spec, [delivery.delivery_id]).to_parquet(partial, index=False)
    os.chmod(partial, 0o600)
    os.replace(partial, target)


def prune_raw(engine: sa.Engine, spec: FeedSpec, retention: RawRetention,
              now: pd.Timestamp | None = None) -> Pruned:
    """Prune the feed's deliveries superseded beyond the retention: archive (when asked), then delete
    their records and mark them in the registry, in one transaction."""
    now = pd.Timestamp(now if now is not None else utc_now()).as_unit("us")
    registry = load_registry(engine, spec.name)
    chosen = expired(registry, retention.days, now)
    if not chosen:
        return Pruned()
    if retention.archive_dir is not None:
        for delivery in chosen:
            _archive(engine, spec, delivery, retention.archive_dir)
    ids = {d.delivery_id for d in chosen}
    marked = mark_pruned(registry, ids, retention.days, now, archived=retention.archive_dir is not None)
    records = remove_deliveries(engine, spec, marked, ids, now=now)
    return Pruned(deliveries=len(chosen), records=records)
