"""How a run executes its steps: one process on DuckDB, side by side on PostgreSQL.

An embedded DuckDB warehouse admits one writing process, so on DuckDB every step runs in the run's
own process (Dagster's in-process executor), in order. A PostgreSQL warehouse takes writers from
many processes, so there the steps that do not depend on each other (the reference tables beside
ingestion, the quarantine and scorecard beside linkage, the build suites, the reports) run side by
side, each in a process of its own, `DTSEN_RUN_WORKERS` at a time (Dagster's multiprocess
executor). Steps hand each other data through warehouse tables only, so nothing is lost between
processes.

Two things the in-process executor gave for free are kept:

- the run lock (`dtsen_pipeline.run_lock`) is held for the whole run by the orchestrating
  process, before the first step starts and until the last one ends; the steps that ask for it
  (`RunLockResource`) find it held for their run. Without this, each step process would take and
  release the lock on its own and a second run could slip in between ingestion and publication;
- step processes are forked from a server that has already imported the code location and Great
  Expectations (`forkserver` with `PRELOAD`): a freshly spawned process pays about 2.5 s of
  imports, and 3.7 s more for Great Expectations, on every one of the run's 34 steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from dagster import DagsterEvent, ExecutorDefinition, Field, Int, executor, in_process_executor
from dagster._core.definitions.executor_definition import multiple_process_executor_requirements
from dagster._core.events import EngineEventData
from dagster._core.execution.context.system import PlanOrchestrationContext
from dagster._core.execution.plan.plan import ExecutionPlan
from dagster._core.execution.retries import RetryMode
from dagster._core.execution.tags import get_tag_concurrency_limits_config
from dagster._core.executor.init import InitExecutorContext
from dagster._core.executor.multiprocess import MultiprocessExecutor

from dtsen_pipeline.preflight import check_warehouse, check_writable
from dtsen_pipeline.regencies import PARTITION_TAG, regency_lock_target
from dtsen_pipeline.run_lock import warehouse_run_lock

# Imported once by the fork server; each step process starts from there.
PRELOAD = ["dagster._core.executor.multiprocess", "dtsen_pipeline.definitions", "great_expectations"]


class RunLockedMultiprocessExecutor(MultiprocessExecutor):
    """Dagster's multiprocess executor, holding the warehouse's run lock for the whole run."""

    def __init__(self, url: str, wait_seconds: float, artifacts_dir: str | None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._url = url
        self._wait_seconds = wait_seconds
        self._artifacts_dir = artifacts_dir

    def execute(self, plan_context: PlanOrchestrationContext, execution_plan: ExecutionPlan) -> Iterator[DagsterEvent]:
        # A partition's run locks its regency's warehouse only (dtsen_pipeline.regencies).
        url, artifacts = regency_lock_target(self._url, self._artifacts_dir,
                                             plan_context.dagster_run.tags.get(PARTITION_TAG))
        # As RunLockResource does before a run's first step: an unreachable warehouse or an
        # unwritable artifacts folder stops the run at once, naming the setting.
        check_warehouse(url)
        if artifacts is not None:
            check_writable(Path(artifacts), "DTSEN_ARTIFACTS_DIR")
        with warehouse_run_lock(url, self._wait_seconds, run_id=plan_context.run_id):
            yield DagsterEvent.engine_event(
                plan_context, "warehouse run lock held by the orchestrating process for the whole run",
                EngineEventData())
            yield from super().execute(plan_context, execution_plan)


def uses_multiprocess(url: str, workers: int) -> bool:
    """Whether runs on the warehouse at `url` execute their steps in processes of their own: on
    PostgreSQL with more than one worker (with one, the steps run in turn in the run's process)."""
    return sa.make_url(url).get_backend_name() == "postgresql" and workers > 1


def run_executor(url: str, workers: int, wait_seconds: float, artifacts_dir: str | None) -> ExecutorDefinition:
    """The executor of every job of the code location: in-process on DuckDB (one writing process
    admitted), the run-locked multiprocess executor on PostgreSQL with `workers` steps at a time
    (a run may change `max_concurrent` and add `tag_concurrency_limits` in its run config); with
    one worker, in-process on PostgreSQL too."""
    if not uses_multiprocess(url, workers):
        return in_process_executor

    @executor(
        name="multiprocess",
        config_schema={
            "max_concurrent": Field(Int, default_value=workers,
                                    description="Steps run side by side, each in a process of its own "
                                                "(DTSEN_RUN_WORKERS)."),
            "tag_concurrency_limits": get_tag_concurrency_limits_config(),
        },
        requirements=multiple_process_executor_requirements(),
    )
    def warehouse_multiprocess_executor(init_context: InitExecutorContext) -> RunLockedMultiprocessExecutor:
        config = init_context.executor_config
        return RunLockedMultiprocessExecutor(
            url, wait_seconds, artifacts_dir, retries=RetryMode.ENABLED,
            max_concurrent=config["max_concurrent"], tag_concurrency_limits=config.get("tag_concurrency_limits"),
            start_method="forkserver", explicit_forkserver_preload=PRELOAD)

    return warehouse_multiprocess_executor
