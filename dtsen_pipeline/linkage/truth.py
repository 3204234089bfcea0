"""Read the sample generator's truth table (which source rows are the same person)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dtsen_pipeline.schema import make_record_id


def load_record_truth(truth_dir: Path) -> pd.DataFrame | None:
    """record_id -> person_key, family_key; None when the deployment has no truth (real data)."""
    path = truth_dir / "records.csv"
    if not path.is_file():
        return None
    truth = pd.read_csv(path, dtype={"feed": "str", "source_file": "str", "person_key": "str",
                                     "family_key": "str", "source_row": "int64"})
    truth["record_id"] = make_record_id(truth["feed"], truth["source_file"], truth["source_row"])
    return truth[["record_id", "feed", "person_key", "family_key"]]
