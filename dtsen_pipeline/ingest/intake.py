"""Take in a feed's landing folder: register new deliveries, load the usable ones, select the
deliveries in force. What the raw/<feed> asset runs (and the benchmark, and the tests).

One bad file never stops the others: each file ends with a status and, when it is not loaded,
a problem naming the file (and the column, for a missing required one). The feed's previous
deliveries stay in force when a new one is rejected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.ingest.deliveries import (
    ACCEPTED,
    UNNAMED_SCOPE,
    Delivery,
    content_id,
    record_file_name,
    scope_key,
    select_in_force,
)
from dtsen_pipeline.ingest.feeds import FeedSpec
from dtsen_pipeline.ingest.raw import JUNK_COLUMN, FileReport, discover_files, read_delivery
from dtsen_pipeline.ingest.staging import classify_junk, scope_values
from dtsen_pipeline.ingest.store import load_registry, reset_if_outdated, save_feed

_FINAL = (ACCEPTED, "duplicate")  # entries never examined again


@dataclass(frozen=True)
class IntakeResult:
    """What one run did with a feed: counts, provenance and problems, never record values."""

    feed: str
    reports: list[FileReport]  # files examined by this run (new or still unusable)
    registry: list[Delivery]  # every delivery the feed has received, `in_force` set
    rows_added: int
    # The records loaded by this run, by delivery_id, as saved to raw.<feed>: staging in the same
    # process can take them from here instead of reading them back (`store.read_in_force`).
    loaded: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    @property
    def in_force(self) -> list[Delivery]:
        return [d for d in self.registry if d.in_force]

    @property
    def problems(self) -> list[FileReport]:
        return [r for r in self.reports if r.status not in (ACCEPTED, "duplicate")]

    def summary(self) -> dict[str, object]:
        """Dagster metadata: what is in force and what this run could not use."""
        return {
            "files_examined": len(self.reports),
            "deliveries_loaded": sum(r.status == ACCEPTED for r in self.reports),
            "deliveries_duplicate": sum(r.status == "duplicate" for r in self.reports),
            "deliveries_not_loaded": len(self.problems),
            "rows_added": self.rows_added,
            "rows_in_force": sum(d.records for d in self.in_force),
            "in_force": [{"source_file": d.record_file, "records": d.records, "scope": d.scope,
                          "first_seen": d.first_seen.isoformat()} for d in self.in_force],
        }


def _checked(spec: FeedSpec, report: FileReport, frame: pd.DataFrame | None) -> tuple[FileReport, str]:
    """A loaded file with no data record is `empty`; a snapshot delivery gets its scope."""
    if frame is None:
        return report, UNNAMED_SCOPE
    junk = classify_junk(frame, spec)  # in the file's column order (see classify_junk)
    frame[JUNK_COLUMN] = junk
    if junk.notna().all():
        problem = f"file {report.source_file}: no data records ({len(frame)} junk record(s))"
        return FileReport(report.feed, report.source_file, "empty", report.records, report.encoding,
                          report.separator, problem=problem), UNNAMED_SCOPE
    if spec.delivery_mode != "snapshot" or not spec.snapshot_scope:
        return report, UNNAMED_SCOPE
    return report, scope_key(scope_values(frame, spec, junk))


def ingest_feed(engine: sa.Engine, landing_dir: Path, spec: FeedSpec, run_id: str,
                now: dt.datetime | None = None) -> IntakeResult:
    """Register and load the feed's new deliveries; returns what was done and what is in force."""
    now_ts = pd.Timestamp(now or dt.datetime.now(dt.UTC).replace(tzinfo=None)).as_unit("us")
    reset_if_outdated(engine, spec.name)  # a raw table from an older layout is read again
    previous = load_registry(engine, spec.name)
    final = [d for d in previous if d.status in _FINAL]
    seen = {(d.source_file, d.delivery_id) for d in final}
    retry = {(d.source_file, d.delivery_id): d for d in previous if d.status not in _FINAL}
    loaded = {d.delivery_id: d for d in final if d.status == ACCEPTED}

    reports: list[FileReport] = []
    entries: list[Delivery] = []
    frames: dict[str, pd.DataFrame] = {}  # by delivery_id
    for path in discover_files(landing_dir, spec):
        relative = path.relative_to(landing_dir).as_posix()
        stat = path.stat()
        delivery_id = content_id(path)
        key = (relative, delivery_id)
        if key in seen:
            continue
        before = retry.pop(key, None)
        first_seen, first_run = (before.first_seen, before.first_run) if before else (now_ts, run_id)
        common = dict(feed=spec.name, delivery_id=delivery_id, source_file=relative, size=stat.st_size,
                      mtime=stat.st_mtime, first_seen=first_seen, first_run=first_run)
        if delivery_id in loaded:
            original = loaded[delivery_id]
            report = FileReport(spec.name, relative, "duplicate", 0,
                                problem=f"file {relative}: same content as {original.source_file}, not read again")
            entries.append(Delivery(**common, record_file=original.record_file, status="duplicate", records=0,
                                    problem=report.problem))
            reports.append(report)
            continue
        record_file = record_file_name(relative, delivery_id, [*final, *entries])
        report, frame = read_delivery(path, landing_dir, spec, delivery_id, record_file)
        report, scope = _checked(spec, report, frame)
        entry = Delivery(**common, record_file=record_file, status=report.status, records=report.records,
                         scope=scope, problem=report.problem, note=report.note)
        entries.append(entry)
        reports.append(report)
        if report.status == ACCEPTED:
            loaded[delivery_id] = entry
            frames[delivery_id] = frame
    # Unusable entries whose file is gone stay in the registry as a record of what came.
    registry = select_in_force([*final, *retry.values(), *entries], spec.delivery_mode,
                               scoped=bool(spec.snapshot_scope))
    rows = save_feed(engine, spec, registry, list(frames.values()))
    return IntakeResult(feed=spec.name, reports=reports, registry=registry, rows_added=rows, loaded=frames)
