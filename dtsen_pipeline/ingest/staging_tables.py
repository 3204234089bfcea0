"""Stage a feed's deliveries in force and publish staging.<feed> with its quarantine part.

What the staging/<feed> asset runs (and the benchmark). The staged table and the feed's
quarantine part are swapped in together, in one transaction, so the count identity
rows in = staged + quarantined never sees one without the other.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.ingest.feeds import FeedSpec
from dtsen_pipeline.ingest.raw_records import INT_COLUMNS, empty_raw_frame
from dtsen_pipeline.ingest.raw_store import read_in_force
from dtsen_pipeline.ingest.standardise import StagingResult, empty_quarantine, stage_feed
from dtsen_pipeline.quality.rules import DEFAULT_CEILINGS
from dtsen_pipeline.warehouse import ensure_schemas, load_frame, qualified, swap_in, table_transaction


def quarantine_part(feed: str) -> str:
    """Each staging asset writes its own quarantine part; quality/quarantine unions them."""
    return f"quarantine__{feed}"


@dataclass(frozen=True)
class StagedFeed:
    """Counts of one staging run (metadata), never record values."""

    feed: str
    rows_in: int
    rows_staged: int
    rows_quarantined: int
    rows_out_of_scope: int  # staged, flagged OUT_OF_SCOPE (reported, not dropped)
    by_reason: dict[str, int]
    by_file_reason: list[dict[str, object]]


def _replace_together(engine: sa.Engine, tables: list[tuple[pd.DataFrame, str, str, tuple[str, ...]]]) -> None:
    """Load each table as `<table>__new` and swap them all in, in one transaction. The tables
    are the feed's own, so other feeds' loads run beside this one (`table_transaction`)."""
    ensure_schemas(engine, [schema for _, schema, _, _ in tables])
    with table_transaction(engine) as conn:
        for frame, schema, table, dates in tables:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {qualified(schema, table + '__new')}")
            load_frame(conn, frame, schema, table + "__new", dates)
        for _, schema, table, _ in tables:
            swap_in(conn, schema, table, table + "__new")


def _stage(raw: pd.DataFrame, spec: FeedSpec, scope: str, as_of: dt.date,
           ceilings: Mapping[str, int]) -> StagingResult:
    """`stage_feed`, also for a feed with nothing in force (every delivery rejected so far).

    An empty feed still needs a staging table with every column (the SQL models read it): it is
    what staging makes of one blank record, which goes to the quarantine and is dropped here.
    """
    if len(raw):
        return stage_feed(raw, spec, scope=scope, as_of=as_of, ceilings=ceilings)
    blank = empty_raw_frame(spec)
    blank.loc[0] = {c: (0 if c in INT_COLUMNS else None) for c in blank.columns}
    blank = blank.astype({c: "int64" for c in INT_COLUMNS})
    shape = stage_feed(blank, spec, scope=scope, as_of=as_of, ceilings=ceilings)
    return StagingResult(staged=shape.staged.iloc[:0], quarantine=empty_quarantine())


def stage_records(engine: sa.Engine, spec: FeedSpec, scope: str, as_of: dt.date,
                  loaded: Mapping[str, pd.DataFrame] | None = None,
                  ceilings: Mapping[str, int] = DEFAULT_CEILINGS) -> tuple[pd.DataFrame, StagingResult]:
    """The deliveries in force (those this process just loaded from `loaded`, see
    `raw_store.read_in_force`) and what staging makes of them; nothing is written."""
    raw = read_in_force(engine, spec, loaded)
    return raw, _stage(raw, spec, scope, as_of, ceilings)


def publish_staged(engine: sa.Engine, spec: FeedSpec, raw: pd.DataFrame, result: StagingResult) -> StagedFeed:
    """Publish staging.<feed> and its quarantine part together; the counts of what was published."""
    declared = ("tgl_lahir", *(name for name in spec.extras if spec.extra_type(name) == "date"))
    dates = tuple(c for c in declared if c in result.staged.columns)
    quarantine = result.quarantine if len(result.quarantine) else empty_quarantine()
    _replace_together(engine, [(result.staged, "staging", spec.name, dates),
                               (quarantine, "quality", quarantine_part(spec.name), ())])
    per_file = (result.quarantine.groupby(["source_file", "reason"]).size().reset_index(name="rows")
                if len(result.quarantine) else pd.DataFrame(columns=["source_file", "reason", "rows"]))
    out_of_scope = int((~result.staged["in_scope"].astype(bool)).sum()) if "in_scope" in result.staged else 0
    return StagedFeed(
        feed=spec.name,
        rows_in=len(raw),
        rows_staged=len(result.staged),
        rows_quarantined=len(result.quarantine),
        rows_out_of_scope=out_of_scope,
        by_reason=dict(Counter(result.quarantine["reason"].astype("str"))),
        by_file_reason=[{"source_file": str(r.source_file), "reason": str(r.reason), "rows": int(r.rows)}
                        for r in per_file.itertuples()],
    )


def stage_in_force(engine: sa.Engine, spec: FeedSpec, scope: str, as_of: dt.date,
                   loaded: Mapping[str, pd.DataFrame] | None = None,
                   ceilings: Mapping[str, int] = DEFAULT_CEILINGS) -> StagedFeed:
    """Stage the deliveries in force and publish staging.<feed> with its quarantine part (no gate)."""
    raw, result = stage_records(engine, spec, scope, as_of, loaded, ceilings)
    return publish_staged(engine, spec, raw, result)
