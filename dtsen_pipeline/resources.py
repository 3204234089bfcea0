"""Dagster resources: the warehouse (one SQLAlchemy URL) and where deliveries and artifacts live."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import sqlalchemy as sa
from dagster import ConfigurableResource, EnvVar

from dtsen_pipeline.config import Settings
from dtsen_pipeline.warehouse import engine_for


class WarehouseResource(ConfigurableResource):
    """The warehouse: `duckdb:///path` (default) or `postgresql+psycopg://...` in production."""

    url: str

    def engine(self) -> sa.Engine:
        return engine_for(self.url)

    @property
    def dialect(self) -> str:
        return self.engine().dialect.name


class PipelineSettings(ConfigurableResource):
    """Folders and scope of one deployment."""

    landing_dir: str
    artifacts_dir: str
    truth_dir: str
    scope: str = "18.06"

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def artifacts(self) -> Path:
        return Path(self.artifacts_dir)

    @property
    def truth(self) -> Path:
        return Path(self.truth_dir)

    def as_of(self) -> dt.date:
        return dt.date.today()


def default_resources(settings: Settings | None = None) -> dict[str, ConfigurableResource]:
    """Resources from the environment, or from explicit settings (tests, scripts)."""
    from_env = settings is None
    settings = settings or Settings.from_env()
    return {
        # EnvVar keeps a URL with a password out of the Dagster UI.
        "warehouse": WarehouseResource(
            url=EnvVar("DTSEN_WAREHOUSE_URL")
            if from_env and os.environ.get("DTSEN_WAREHOUSE_URL") else settings.warehouse_url
        ),
        "pipeline": PipelineSettings(
            landing_dir=str(settings.landing_dir),
            artifacts_dir=str(settings.artifacts_dir),
            truth_dir=str(settings.truth_dir),
            scope=settings.scope,
        ),
    }
