"""What the landing folder holds: which files each feed reads, which it refuses or leaves alone,
and each feed file's size and mtime as the sensor sees it.

Kept apart from Dagster so the rules (which files count, what "changed" means) are tested on
their own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from dtsen_pipeline.ingest.feeds import FeedSpec


def _visible(path: Path) -> bool:
    return not path.name.startswith((".", "~$"))


def _inside(path: Path, landing_dir: Path) -> bool:
    """The path is a real file of the landing folder: not a link, not resolving elsewhere."""
    if path.is_symlink():
        return False
    try:
        return path.resolve().is_relative_to(landing_dir.resolve())
    except OSError:
        return False


def discover_files(landing_dir: Path, spec: FeedSpec) -> list[Path]:
    """The feed's files in a stable order (by name); hidden and temporary files, links and paths
    that resolve outside the landing folder are not among them (see `refused_files`)."""
    folder = landing_dir / spec.name
    if not folder.is_dir() or not _inside(folder, landing_dir):
        return []
    return sorted(
        p for p in folder.iterdir()
        if _visible(p) and _inside(p, landing_dir) and p.is_file() and spec.matches(p.name)
    )


def refused_files(landing_dir: Path, spec: FeedSpec) -> list[Path]:
    """Entries of the feed's folder that are links, or resolve outside the landing folder: never
    read (a link to /etc/passwd, or to another office's share), registered as `refused`."""
    folder = landing_dir / spec.name
    if not folder.exists():
        return []
    if not _inside(folder, landing_dir):
        return [folder]
    return sorted(p for p in folder.iterdir() if _visible(p) and not _inside(p, landing_dir))


def unclaimed_files(landing_dir: Path, spec: FeedSpec) -> list[str]:
    """Visible entries of the feed's folder that the feed does not read (`.txt`, `.csv.gz`, `.xls`,
    sub-folders), relative to the landing folder: listed in the log and metadata, never silently skipped."""
    folder = landing_dir / spec.name
    if not folder.is_dir() or not _inside(folder, landing_dir):
        return []
    return sorted(p.relative_to(landing_dir).as_posix() for p in folder.iterdir()
                  if _visible(p) and _inside(p, landing_dir) and not (p.is_file() and spec.matches(p.name)))


def unknown_landing_entries(landing_dir: Path, feeds: set[str]) -> list[str]:
    """Top-level entries of the landing folder that belong to no feed (`_truth` of sample data aside)."""
    if not landing_dir.is_dir():
        return []
    return sorted(p.name for p in landing_dir.iterdir()
                  if _visible(p) and p.name not in feeds and p.name != "_truth")


def landing_listing(landing_dir: Path, specs: Iterable[FeedSpec], settled_before: float | None = None
                    ) -> dict[str, str]:
    """`feed/file` -> `size:mtime_ns` for every file a feed would read.

    Files modified after `settled_before` (epoch seconds) are left out: they may still be
    being copied.
    """
    listing = {}
    for spec in specs:
        for path in discover_files(landing_dir, spec):
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed between listing and stat
                continue
            if settled_before is not None and stat.st_mtime > settled_before:
                continue
            listing[path.relative_to(landing_dir).as_posix()] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return listing


def registered_listing(listing: dict[str, str], registered: Iterable[tuple[str, int, float]]) -> dict[str, str]:
    """The part of `listing` the delivery registry already holds, with the same size and
    modification time (to the millisecond): files a run has examined. The landing sensor starts
    from it, so the deliveries `make run` or the last night loaded never start another run."""
    seen = {(path, size, round(mtime * 1000)) for path, size, mtime in registered}
    known = {}
    for path, stamp in listing.items():
        size, mtime_ns = (int(part) for part in stamp.split(":"))
        if (path, size, round(mtime_ns / 1_000_000)) in seen:
            known[path] = stamp
    return known


def changed_files(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    """Files that are new or whose size or modification time changed (removals do not count)."""
    return sorted(path for path, stamp in current.items() if previous.get(path) != stamp)


def listing_key(listing: dict[str, str]) -> str:
    """A short stable digest of a listing (the run key: one run per landing-folder state)."""
    return hashlib.sha256(json.dumps(listing, sort_keys=True).encode()).hexdigest()[:16]
