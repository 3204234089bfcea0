"""A broken deployment stops at the start of a run, naming the setting (#14 item 9): an unreachable
warehouse or an unwritable artifacts folder, never a password in the message."""

import pytest
from dagster import build_init_resource_context

from dtsen_pipeline.preflight import PreflightError, check_warehouse, check_writable
from dtsen_pipeline.resources import RunLockResource


def test_an_unreachable_warehouse_is_named_without_its_password():
    url = "postgresql+psycopg://dtsen:s3cret-pw@127.0.0.1:1/dtsen"  # nothing listens on port 1
    with pytest.raises(PreflightError) as caught:
        check_warehouse(url)
    message = str(caught.value)
    assert "DTSEN_WAREHOUSE_URL" in message and "127.0.0.1:1" in message and "s3cret-pw" not in message


def test_an_unwritable_artifacts_folder_is_named(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(PreflightError, match="DTSEN_ARTIFACTS_DIR=.*not a writable folder"):
        check_writable(blocker / "artifacts", "DTSEN_ARTIFACTS_DIR")
    check_writable(tmp_path / "new" / "artifacts", "DTSEN_ARTIFACTS_DIR")  # made when missing
    assert (tmp_path / "new" / "artifacts").is_dir()


def test_the_run_checks_both_before_it_takes_the_lock(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    lock = RunLockResource(url=f"duckdb:///{tmp_path / 'w.duckdb'}", artifacts_dir=str(blocker / "artifacts"))
    with pytest.raises(PreflightError, match="DTSEN_ARTIFACTS_DIR"):
        with lock.yield_for_execution(build_init_resource_context()):
            pass
    lock = RunLockResource(url=f"duckdb:///{tmp_path / 'w.duckdb'}", artifacts_dir=str(tmp_path / "artifacts"))
    with lock.yield_for_execution(build_init_resource_context()) as held:
        assert held is lock
