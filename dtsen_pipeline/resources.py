"""Dagster resources: the warehouse (one SQLAlchemy URL) and where deliveries and artifacts live."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from dagster import ConfigurableResource, EnvVar, InitResourceContext
from pydantic import Field

from dtsen_pipeline.config import Settings
from dtsen_pipeline.run_lock import warehouse_run_lock
from dtsen_pipeline.warehouse import engine_for

DEFAULT_RUN_LOCK_WAIT = 900


class WarehouseResource(ConfigurableResource):
    """The warehouse: `duckdb:///path` (default) or `postgresql+psycopg://...` in production."""

    url: str

    def engine(self) -> sa.Engine:
        return engine_for(self.url)

    @property
    def dialect(self) -> str:
        return self.engine().dialect.name


class RunLockResource(ConfigurableResource):
    """Holds the warehouse for the whole run (`run_lock`): a run that finds another one working
    waits, then stops cleanly, so no delivery is ever loaded twice. With the in-process executor
    the resource lives from the first step to the last."""

    url: str
    wait_seconds: int = Field(default=DEFAULT_RUN_LOCK_WAIT,
                              description="How long a run waits for another run to finish before it stops.")

    @contextlib.contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[RunLockResource]:
        with warehouse_run_lock(self.url, self.wait_seconds):
            if context.log:
                context.log.info("warehouse run lock held")
            yield self


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
    # EnvVar keeps a URL with a password out of the Dagster UI.
    url = EnvVar("DTSEN_WAREHOUSE_URL") if from_env and os.environ.get("DTSEN_WAREHOUSE_URL") else settings.warehouse_url
    wait = os.environ.get("DTSEN_RUN_LOCK_WAIT", "").strip()
    return {
        "warehouse": WarehouseResource(url=url),
        "run_lock": RunLockResource(url=url, wait_seconds=int(wait) if wait else DEFAULT_RUN_LOCK_WAIT),
        "pipeline": PipelineSettings(
            landing_dir=str(settings.landing_dir),
            artifacts_dir=str(settings.artifacts_dir),
            truth_dir=str(settings.truth_dir),
            scope=settings.scope,
        ),
    }
