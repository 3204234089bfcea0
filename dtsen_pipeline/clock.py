"""The pipeline's clock: now in UTC, as the warehouse stores it (naive timestamps, UTC), and
today's date where the deployment lives.

The reporting date of a run (ages, review and worklist periods) is the date in the deployment's
time zone: the nightly run starts at 01:00 Asia/Jakarta, which is still the previous day in UTC,
so `date.today()` on a server kept in UTC would file the first night of a month under the month
before.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

DEPLOYMENT_TIMEZONE = "Asia/Jakarta"  # WIB; the schedule's execution_timezone (assets/jobs.py)


def utc_now() -> dt.datetime:
    """The current time in UTC, without a zone (how every timestamp column holds it)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def utc_from_timestamp(seconds: float) -> dt.datetime:
    """A POSIX timestamp (e.g. a Dagster run's start time) in UTC, without a zone."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)


def local_date(moment: dt.datetime | None = None) -> dt.date:
    """The date in the deployment's time zone at `moment` (aware, or naive UTC; default: now)."""
    moment = moment or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ZoneInfo(DEPLOYMENT_TIMEZONE)).date()
