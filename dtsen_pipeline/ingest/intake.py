"""Take in a feed's landing folder: register new deliveries, load the usable ones, select the
deliveries in force. What the raw/<feed> asset runs (and the benchmark, and the tests).

One bad file never stops the others: each file ends with a status and, when it is not loaded,
a problem naming the file (and the column, for a missing required one). The feed's previous
deliveries stay in force when a new one is rejected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.clock import utc_now
from dtsen_pipeline.ingest.deliveries import (
    ACCEPTED,
    PRUNED,
    REFUSED,
    SUSPECT,
    UNNAMED_SCOPE,
    Delivery,
    content_id,
    delivered_again,
    record_file_name,
    scope_keys,
    select_in_force,
    shrink_problem,
)
from dtsen_pipeline.ingest.feeds import FeedSpec
from dtsen_pipeline.ingest.junk import classify_junk
from dtsen_pipeline.ingest.landing import discover_files, refused_files, unclaimed_files
from dtsen_pipeline.ingest.raw_records import JUNK_COLUMN, FileReport, read_delivery
from dtsen_pipeline.ingest.raw_store import accepted_deliveries, load_registry, reset_if_outdated, save_feed
from dtsen_pipeline.ingest.standardise import scope_values

_FINAL = (ACCEPTED, "duplicate", PRUNED)  # entries not examined again while their file is unchanged
# A snapshot with a cut last line is suspect when it has fewer records than this share of the one
# in force: a month's churn stays above it, an interrupted copy does not.
CUT_TOLERANCE = 0.98


@dataclass(frozen=True)
class IntakeResult:
    """What one run did with a feed: counts, provenance and problems, never record values."""

    feed: str
    reports: list[FileReport]  # files examined by this run (new or still unusable)
    registry: list[Delivery]  # every delivery the feed has received, `in_force` set
    rows_added: int
    # Deliveries whose records this run loaded (new, or examined again): what the gate may hold back.
    added: frozenset[str] = frozenset()
    unclaimed: tuple[str, ...] = ()  # entries of the feed's folder it does not read (listed, never silent)
    settling: tuple[str, ...] = ()  # files still changing, left for the next run (scheduled runs)
    # The records loaded by this run, by delivery_id, as saved to raw.<feed>: staging in the same
    # process can take them from here instead of reading them back (`raw_store.read_in_force`).
    loaded: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)
    deliveries_pruned: int = 0  # superseded beyond the raw retention by this run (`ingest.retention`)
    records_pruned: int = 0

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
            "files_not_claimed": list(self.unclaimed),
            "files_still_changing": list(self.settling),
            "rows_added": self.rows_added,
            "deliveries_pruned": self.deliveries_pruned,
            "records_pruned": self.records_pruned,
            "rows_in_force": sum(d.records for d in self.in_force),
            "in_force": [{"source_file": d.record_file, "records": d.records, "scope": d.scope,
                          "first_seen": d.first_seen.isoformat()} for d in self.in_force],
        }


@dataclass(frozen=True)
class _Read:
    """A new file read ahead of the registry decisions, with its junk reasons and scope."""

    report: FileReport
    frame: pd.DataFrame | None
    scope: str = UNNAMED_SCOPE


def _empty_report(report: FileReport, records: int) -> FileReport:
    problem = f"file {report.source_file}: no data records ({records} junk record(s))"
    return FileReport(report.feed, report.source_file, "empty", report.records, report.encoding,
                      report.separator, problem=problem)


def _classified(spec: FeedSpec, reads: dict[str, _Read]) -> dict[str, _Read]:
    """Each loaded file's junk reasons (column `_junk`), `empty` when it holds no data record,
    and a snapshot delivery's scope.

    Files are classified together, not one by one: a pekon delivery is 181 small files, and
    the fixed cost of each column operation would otherwise be paid 181 times. Files with the
    same columns in the same order are concatenated (junk rules read the file's column order),
    classified, and split back.
    """
    loaded = {d: r for d, r in reads.items() if r.frame is not None}
    layouts: dict[tuple[str, ...], list[str]] = {}
    for delivery_id, read in loaded.items():
        layouts.setdefault(tuple(read.frame.columns), []).append(delivery_id)
    scoped = spec.delivery_mode == "snapshot" and bool(spec.snapshot_scope)
    out = dict(reads)
    for delivery_ids in layouts.values():
        frames = [loaded[d].frame for d in delivery_ids]
        batch = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        junk = classify_junk(batch, spec)
        data = junk.isna().groupby(batch["delivery_id"], sort=False).sum()
        scopes = scope_keys(scope_values(batch, spec, junk), batch["delivery_id"]) if scoped else {}
        start = 0
        for delivery_id, frame in zip(delivery_ids, frames, strict=True):
            frame[JUNK_COLUMN] = junk.iloc[start:start + len(frame)].set_axis(frame.index)
            start += len(frame)
            report = loaded[delivery_id].report
            if not data.get(delivery_id, 0):
                out[delivery_id] = _Read(_empty_report(report, len(frame)), None)
            else:
                out[delivery_id] = _Read(report, frame, scopes.get(delivery_id, UNNAMED_SCOPE))
    return out


def _read_new_files(landing_dir: Path, spec: FeedSpec, files: list[tuple[Path, str, str]],
                    known: set[str]) -> dict[str, _Read]:
    """Read each new content once (contents loaded before are not read again), classified."""
    reads: dict[str, _Read] = {}
    for path, relative, delivery_id in files:
        if delivery_id in known or delivery_id in reads:
            continue
        reads[delivery_id] = _Read(*read_delivery(path, landing_dir, spec, delivery_id, relative))
    return _classified(spec, reads)


def _refused(landing_dir: Path, spec: FeedSpec, retry: dict[tuple[str, str], Delivery], now_ts: pd.Timestamp,
             run_id: str) -> tuple[list[FileReport], list[Delivery]]:
    """Links and paths resolving outside the landing folder: registered as `refused`, never read
    (their id is a digest of the name, not of content nobody may read)."""
    reports, entries = [], []
    for path in refused_files(landing_dir, spec):
        relative = path.relative_to(landing_dir).as_posix()
        delivery_id = hashlib.sha256(b"refused:" + relative.encode()).hexdigest()
        before = retry.pop((relative, delivery_id), None)
        report = FileReport(spec.name, relative, REFUSED, 0, problem=(
            f"file {relative}: a link, or a path resolving outside the landing folder: refused, never read; "
            "copy the file itself into the landing folder"))
        reports.append(report)
        entries.append(Delivery(feed=spec.name, delivery_id=delivery_id, source_file=relative, record_file=relative,
                                status=REFUSED, records=0, size=0, mtime=path.lstat().st_mtime,
                                first_seen=before.first_seen if before else now_ts,
                                first_run=before.first_run if before else run_id, problem=report.problem))
    return reports, entries


def _last_line_cut(path: Path, frame: pd.DataFrame) -> bool:
    """A CSV whose last record is short and not ended by a newline: a copy that was interrupted."""
    if path.suffix.lower() != ".csv" or frame.empty or path.stat().st_size == 0:
        return False
    with path.open("rb") as fh:
        fh.seek(-1, 2)
        ended = fh.read(1) in (b"\n", b"\r")
    last = frame.iloc[-1]
    return not ended and int(last["n_fields"]) < int(last["header_fields"])


def _suspicion(spec: FeedSpec, path: Path, relative: str, report: FileReport, frame: pd.DataFrame,
               current: Delivery | None) -> str | None:
    """Why a snapshot delivery must wait for an operator before it replaces `current`, the
    delivery in force for its scope (None when it need not). A first delivery is never suspect:
    it replaces nothing, and a cut last row is quarantined as MALFORMED_ROW like any other."""
    if current is None:
        return None
    if _last_line_cut(path, frame) and report.records < CUT_TOLERANCE * current.records:
        return (f"file {relative}: its last line is cut (no line end, too few fields) and it has fewer records "
                f"({report.records:,}) than {current.source_file} in force ({current.records:,}): an interrupted "
                f"copy is held as suspect; send the file again whole, or accept it with: "
                f"dtsen accept {spec.name} {relative}")
    return shrink_problem(relative, report.records, current, spec.suspect_below)


def ingest_feed(engine: sa.Engine, landing_dir: Path, spec: FeedSpec, run_id: str,
                now: dt.datetime | None = None, settled_before: float | None = None) -> IntakeResult:
    """Register and load the feed's new deliveries; returns what was done and what is in force.

    With `settled_before` (epoch seconds), a file modified after it may still be being copied: it
    is left for the next run and listed (`settling`), as the landing sensor does."""
    now_ts = pd.Timestamp(now or utc_now()).as_unit("us")
    reset_if_outdated(engine, spec.name)  # a raw table from an older layout is read again
    previous = load_registry(engine, spec.name)
    final = [d for d in previous if d.status in _FINAL]
    seen = {(d.source_file, d.delivery_id): d for d in final}
    retry = {(d.source_file, d.delivery_id): d for d in previous if d.status not in _FINAL}
    scoped = bool(spec.snapshot_scope)
    in_force = {(d.scope if scoped else UNNAMED_SCOPE): d for d in previous if d.in_force}
    accepted = accepted_deliveries(engine, spec.name) if spec.delivery_mode == "snapshot" else set()

    loaded_ids = {d.delivery_id for d in final if d.status == ACCEPTED}
    new_files, again, settling = [], set(), []
    for path in discover_files(landing_dir, spec):
        relative = path.relative_to(landing_dir).as_posix()
        mtime = path.stat().st_mtime
        if settled_before is not None and mtime > settled_before:
            settling.append(relative)
            continue
        delivery_id = content_id(path)
        known = seen.get((relative, delivery_id))
        if known is None:
            new_files.append((path, relative, delivery_id))
        elif mtime > known.mtime + 1e-3:  # the same content sent again: it arrives anew
            if delivery_id in loaded_ids:
                again.add(delivery_id)
                final = [replace(d, mtime=mtime) if d is known else d for d in final]
            else:  # its records were pruned (raw retention): read it again
                final = [d for d in final if d is not known]
                new_files.append((path, relative, delivery_id))
    loaded = {d.delivery_id: d for d in final if d.status == ACCEPTED}
    reads = _read_new_files(landing_dir, spec, new_files, set(loaded))

    reports: list[FileReport] = []
    entries: list[Delivery] = []
    frames: dict[str, pd.DataFrame] = {}  # by delivery_id
    for path, relative, delivery_id in new_files:
        stat = path.stat()
        key = (relative, delivery_id)
        before = retry.pop(key, None)
        first_seen, first_run = (before.first_seen, before.first_run) if before else (now_ts, run_id)
        common = dict(feed=spec.name, delivery_id=delivery_id, source_file=relative, size=stat.st_size,
                      mtime=stat.st_mtime, first_seen=first_seen, first_run=first_run)
        if delivery_id in loaded:
            again.add(delivery_id)
            original = loaded[delivery_id]
            report = FileReport(spec.name, relative, "duplicate", 0,
                                problem=f"file {relative}: same content as {original.source_file}, not read again")
            entries.append(Delivery(**common, record_file=original.record_file, status="duplicate", records=0,
                                    problem=report.problem))
            reports.append(report)
            continue
        record_file = record_file_name(relative, delivery_id, [*final, *entries])
        read = reads[delivery_id]
        if read.report.source_file != relative:  # same content as an earlier file that was not usable
            read = _classified(spec, {delivery_id: _Read(*read_delivery(path, landing_dir, spec, delivery_id))})[
                delivery_id]
        report, frame = read.report, read.frame
        if (report.status == ACCEPTED and spec.delivery_mode == "snapshot"
                and (relative, delivery_id) not in accepted):
            current = in_force.get(read.scope if scoped else UNNAMED_SCOPE)
            problem = _suspicion(spec, path, relative, report, frame, current)
            if problem:
                report, frame = replace(report, status=SUSPECT, problem=problem), None
        if frame is not None and record_file != relative:  # a name reused for other content
            frame["source_file"] = record_file
        entry = Delivery(**common, record_file=record_file, status=report.status, records=report.records,
                         scope=read.scope, problem=report.problem, note=report.note)
        entries.append(entry)
        reports.append(report)
        if report.status == ACCEPTED:
            loaded[delivery_id] = entry
            frames[delivery_id] = frame
    refused_reports, refused_entries = _refused(landing_dir, spec, retry, now_ts, run_id)
    reports += refused_reports
    entries += refused_entries
    for delivery_id in again:  # newest arrival wins: re-sending a good file restores it
        final = delivered_again(final, delivery_id, now_ts)
    # Unusable entries whose file is gone stay in the registry as a record of what came.
    registry = select_in_force([*final, *retry.values(), *entries], spec.delivery_mode, scoped=scoped)
    rows = save_feed(engine, spec, registry, list(frames.values()), now=now_ts)
    return IntakeResult(feed=spec.name, reports=reports, registry=registry, rows_added=rows,
                        added=frozenset(frames), unclaimed=tuple(unclaimed_files(landing_dir, spec)),
                        settling=tuple(settling), loaded=frames)
