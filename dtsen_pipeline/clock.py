"""The pipeline's clock: one definition of "now" and of the run's date.

Warehouse timestamps are naive UTC (`utc_now`). The reporting date of a run (worklist and review
periods, ages, "today" in the rules) is the date in the deployment's time zone: the nightly run
starts at 01:00 Asia/Jakarta, which is still the previous day in UTC, so `date.today()` on a
server kept in UTC would file the first night of a month under the month before.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

DEPLOYMENT_TIMEZONE = "Asia/Jakarta"  # WIB; the schedule's execution_timezone (assets/jobs.py)


def utc_now() -> dt.datetime:
    """Now, in UTC without tzinfo, as the warehouse stores timestamps."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def local_date(moment: dt.datetime | None = None) -> dt.date:
    """The date in the deployment's time zone at `moment` (aware, or naive UTC; default: now)."""
    moment = moment or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ZoneInfo(DEPLOYMENT_TIMEZONE)).date()
