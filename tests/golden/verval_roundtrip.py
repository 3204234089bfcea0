"""Read and stage one file as the `verval` feed would, through the ingest's own functions."""

import datetime as dt
from pathlib import Path

import pandas as pd

from dtsen_pipeline.ingest.raw_records import read_delivery
from dtsen_pipeline.ingest.standardise import stage_feed


def stage_verval_file(landing: Path, path: Path, spec, scope: str = "18.06",
                      as_of: dt.date = dt.date(2026, 11, 29)) -> tuple[pd.DataFrame, int]:
    """The staged rows of the file and how many rows went to the quarantine."""
    report, raw = read_delivery(path, landing, spec, delivery_id="returned-worklist")
    assert report.status == "loaded", report.problem
    result = stage_feed(raw, spec, scope=scope, as_of=as_of)
    return result.staged, len(result.quarantine)
