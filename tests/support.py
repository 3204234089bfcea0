"""Helpers the pipeline tests share: settings for a temporary deployment and one nightly run."""

from dataclasses import dataclass
from pathlib import Path


@dataclass
class PipelineRun:
    settings: object
    landing: Path
    run_id: str
    success: bool
    instance: object


def make_settings(tmp: Path, landing: Path, warehouse_url: str):
    from dtsen_pipeline.config import Settings

    return Settings(warehouse_url=warehouse_url, landing_dir=landing, artifacts_dir=tmp / "artifacts",
                    truth_dir=landing / "_truth", scope="18.06")


def run_nightly(settings, instance) -> tuple[str, bool]:
    from dtsen_pipeline.definitions import build_definitions

    job = build_definitions(settings).resolve_job_def("nightly_refresh")
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    return result.run_id, result.success
