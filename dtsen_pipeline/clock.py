"""The pipeline's clock: now in UTC, as the warehouse stores it (naive timestamps, UTC)."""

from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    """The current time in UTC, without a zone (how every timestamp column holds it)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def utc_from_timestamp(seconds: float) -> dt.datetime:
    """A POSIX timestamp (e.g. a Dagster run's start time) in UTC, without a zone."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)
