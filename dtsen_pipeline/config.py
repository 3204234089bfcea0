"""Where things live: every path and URL comes from one place, overridable by environment.

Defaults keep a fresh clone self-contained: the warehouse is an embedded DuckDB file and the
landing folder sits in the project's own `data/` folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
SQL_MODELS_DIR = PROJECT_ROOT / "dbt_like_sql"
FEED_CONFIG_DIR = Path(__file__).resolve().parent / "feeds"

DEFAULT_SCOPE = "18.06"  # Kemendagri code of Kabupaten Tanggamus


def default_warehouse_url() -> str:
    return f"duckdb:///{DATA_DIR / 'warehouse.duckdb'}"


@dataclass(frozen=True)
class Settings:
    """Run-time settings read from the environment (names documented in the README)."""

    warehouse_url: str
    landing_dir: Path
    artifacts_dir: Path
    truth_dir: Path
    scope: str

    @classmethod
    def from_env(cls) -> Settings:
        landing = Path(os.environ.get("DTSEN_LANDING_DIR", DATA_DIR / "landing"))
        return cls(
            warehouse_url=os.environ.get("DTSEN_WAREHOUSE_URL", default_warehouse_url()),
            landing_dir=landing,
            artifacts_dir=Path(os.environ.get("DTSEN_ARTIFACTS_DIR", DATA_DIR / "artifacts")),
            truth_dir=Path(os.environ.get("DTSEN_TRUTH_DIR", landing / "_truth")),
            scope=os.environ.get("DTSEN_SCOPE", DEFAULT_SCOPE),
        )
