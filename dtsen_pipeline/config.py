"""Where the project's own files live, and a deployment's folders and warehouse as plain values.

Defaults keep a fresh clone self-contained: the warehouse is an embedded DuckDB file and the
landing folder sits in the project's own `data/` folder. Which environment variable overrides
what is declared once, in `dtsen_pipeline.resources`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
SQL_MODELS_DIR = PROJECT_ROOT / "dbt_like_sql"
FEED_CONFIG_DIR = Path(__file__).resolve().parent / "feeds"


def default_warehouse_url() -> str:
    return f"duckdb:///{DATA_DIR / 'warehouse.duckdb'}"


@dataclass(frozen=True)
class Settings:
    """A deployment's warehouse, folders and scope (tests, scripts; the CLI reads them from the
    environment with `resources.settings_from_environment`)."""

    warehouse_url: str
    landing_dir: Path
    artifacts_dir: Path
    truth_dir: Path
    scope: str
