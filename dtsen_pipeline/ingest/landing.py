"""What the landing folder holds, as the sensor sees it: each feed file with its size and mtime.

Kept apart from Dagster so the rules (which files count, what "changed" means) are tested on
their own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from dtsen_pipeline.ingest.feeds import FeedSpec
from dtsen_pipeline.ingest.raw import discover_files


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


def changed_files(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    """Files that are new or whose size or modification time changed (removals do not count)."""
    return sorted(path for path, stamp in current.items() if previous.get(path) != stamp)


def listing_key(listing: dict[str, str]) -> str:
    """A short stable digest of a listing (the run key: one run per landing-folder state)."""
    return hashlib.sha256(json.dumps(listing, sort_keys=True).encode()).hexdigest()[:16]
