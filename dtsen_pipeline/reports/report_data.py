"""What the summary report reads from the warehouse: only the columns it counts, and counts of the
previous publication from `golden_history`, so the report can say what changed since the last one.

Kept apart from `summary_html` (which only renders frames) so the rendering is tested on frames
and this on a warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.golden.flags import FLAGS, UNVERIFIED
from dtsen_pipeline.reports.summary_html import Snapshot
from dtsen_pipeline.schema import UNCOUNTED_REASONS
from dtsen_pipeline.warehouse import read_sql, read_table, table_exists

PERSON_COLUMNS = ("is_recipient",)
HOUSEHOLD_COLUMNS = ("desil", "pkh", "bpnt", "pbi_jk")
FLAG_COLUMNS = ("flag", "kode_kecamatan", "verval_status", "verval_tingkat")


@dataclass(frozen=True)
class ReportInputs:
    persons: pd.DataFrame
    households: pd.DataFrame
    flags: pd.DataFrame
    villages: pd.DataFrame
    rules: pd.DataFrame
    quality: pd.DataFrame  # quality.scorecard_history, feed level
    feeds: pd.DataFrame  # feed, arrived, quarantined
    previous: Snapshot | None


def feed_status(engine: sa.Engine) -> pd.DataFrame:
    """Per feed: when its newest delivery in force arrived (UTC) and how many of its rows are quarantined."""
    arrived = pd.DataFrame(columns=["feed", "arrived"])
    if table_exists(engine, "raw", "delivery"):
        arrived = read_sql(engine, "SELECT feed, max(coalesce(arrived, first_seen)) AS arrived FROM raw.delivery "
                                   "WHERE in_force GROUP BY feed")
    quarantined = pd.DataFrame(columns=["feed", "quarantined"])
    if table_exists(engine, "quality", "quarantine"):
        uncounted = ", ".join(f"'{r}'" for r in sorted(UNCOUNTED_REASONS))
        quarantined = read_sql(engine, "SELECT feed, count(*) AS quarantined FROM quality.quarantine "
                                       f"WHERE reason NOT IN ({uncounted}) GROUP BY feed")
    out = arrived.merge(quarantined, on="feed", how="outer")
    out["quarantined"] = out["quarantined"].fillna(0).astype(int)
    return out


def quality_history(engine: sa.Engine) -> pd.DataFrame:
    if not table_exists(engine, "quality", "scorecard_history"):
        return pd.DataFrame(columns=["run_id", "run_at", "feed", "records"])
    return read_sql(engine, "SELECT * FROM quality.scorecard_history WHERE level = 'feed'")


def previous_snapshot(engine: sa.Engine, run_id: str) -> Snapshot | None:
    """The headline counts of the latest publication before `run_id`, from golden_history; None
    when there is none (the first report) or history no longer holds it."""
    if not (table_exists(engine, "audit", "run") and table_exists(engine, "golden_history", "person")):
        return None
    runs = read_sql(engine, "SELECT run_id, finished_at FROM audit.run WHERE status = 'PUBLISHED' AND run_id <> :r "
                            "ORDER BY finished_at DESC, run_id DESC LIMIT 1", r=run_id)
    if runs.empty:
        return None
    previous, finished = str(runs["run_id"].iloc[0]), runs["finished_at"].iloc[0]
    persons = read_sql(engine, "SELECT count(*) AS n, sum(CASE WHEN is_recipient THEN 1 ELSE 0 END) AS recipients "
                               "FROM golden_history.person WHERE run_id = :r", r=previous)
    if int(persons["n"].iloc[0]) == 0:
        return None
    households = read_sql(engine, "SELECT count(*) AS n FROM golden_history.household WHERE run_id = :r", r=previous)
    flags = read_sql(engine, "SELECT flag, count(*) AS n, "
                             f"sum(CASE WHEN verval_status <> '{UNVERIFIED}' THEN 1 ELSE 0 END) AS decided "
                             "FROM golden_history.flag WHERE run_id = :r GROUP BY flag", r=previous)
    counts = dict(zip(flags["flag"], flags["n"].astype(int), strict=True))
    return Snapshot(published_at=pd.Timestamp(finished).to_pydatetime() if not pd.isna(finished) else None,
                    persons=int(persons["n"].iloc[0]), households=int(households["n"].iloc[0]),
                    recipients=int(persons["recipients"].fillna(0).iloc[0]),
                    flags={f.code: counts.get(f.code, 0) for f in FLAGS},
                    decided=int(flags["decided"].fillna(0).sum()))


def report_inputs(engine: sa.Engine, run_id: str) -> ReportInputs:
    return ReportInputs(
        persons=read_table(engine, "build", "person", PERSON_COLUMNS),
        households=read_table(engine, "build", "household", HOUSEHOLD_COLUMNS),
        flags=read_table(engine, "build", "flag", FLAG_COLUMNS),
        villages=read_table(engine, "reference", "village"),
        rules=read_table(engine, "reference", "programme_rule"),
        quality=quality_history(engine),
        feeds=feed_status(engine),
        previous=previous_snapshot(engine, run_id),
    )
