"""Freed heap memory goes back to the operating system between steps."""

import sys

import numpy as np
import pytest

from dtsen_pipeline.memory import release_freed_memory


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self (Linux, where the pipeline runs)")
def test_memory_a_step_freed_is_returned():
    blocks = [np.ones(12_000) for _ in range(20_000)]  # ~1.9 GB in 96 kB blocks: heap, not mmap
    keep = np.ones(10)  # allocated last: the heap's top stays in use, so only trimming can return the rest
    held = _resident_mb()
    del blocks
    freed_but_kept = _resident_mb()
    assert release_freed_memory()
    released = _resident_mb()
    assert held - released > 1000, (held, freed_but_kept, released)
    assert keep.sum() == 10


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self (Linux, where the pipeline runs)")
def test_memory_the_warehouse_buffer_pool_is_emptied_and_its_limit_kept(tmp_path):
    """DuckDB keeps the pages a query read cached up to its memory limit; every later step of the
    nightly run would start on top of them."""
    from dtsen_pipeline.warehouse import engine_for, release_buffer_pool

    engine = engine_for(f"duckdb:///{tmp_path / 'warehouse.duckdb'}", "2GB")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t AS SELECT i, md5(i::VARCHAR) AS a, md5((i + 1)::VARCHAR) AS b "
                             "FROM range(6000000) AS r(i)")
    engine.dispose()  # a fresh connection: only the scan below fills the pool
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(DISTINCT a), count(DISTINCT b) FROM t").one() == (6_000_000,) * 2
    cached = _resident_mb()
    assert release_buffer_pool(engine)
    released = _resident_mb()
    assert cached - released > 300, (cached, released)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT current_setting('memory_limit')").scalar() == "1.8 GiB"  # 2 GB again
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 6_000_000


def test_memory_a_postgresql_warehouse_has_no_buffer_pool_here():
    import sqlalchemy as sa

    from dtsen_pipeline.warehouse import release_buffer_pool

    assert not release_buffer_pool(sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
