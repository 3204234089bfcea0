"""One run at a time per warehouse, from ingestion to publication.

Two runs started together (the schedule and the landing sensor, or two operators) would both
register and load the same new files: every raw record twice. A run therefore holds a
warehouse-level lock for its whole execution: on PostgreSQL a session advisory lock on a
connection kept open (released by the server if the process dies), on DuckDB an exclusive
`flock` on a file beside the database (released by the kernel if the process dies). A second run
waits up to `wait_seconds`, then stops with `WarehouseBusyError` before touching anything.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

RUN_LOCK_KEY = 6_2026_0011  # PostgreSQL advisory lock of a whole run (publication uses its own key)
POLL_SECONDS = 1.0


class WarehouseBusyError(RuntimeError):
    """Another run holds the warehouse: this one stops before changing anything."""


def _busy(waited: float) -> WarehouseBusyError:
    return WarehouseBusyError(f"another run holds the warehouse lock (waited {waited:.0f} s); this run stopped "
                              "before reading or writing anything. It is safe to start it again once the other "
                              "run has finished.")


def duckdb_lock_path(url: sa.URL) -> Path | None:
    """The lock file beside a DuckDB database file (None for an in-memory database)."""
    database = url.database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".run.lock")


@contextlib.contextmanager
def _file_lock(path: Path, wait_seconds: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                if waited >= wait_seconds:
                    raise _busy(waited) from None
                time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _advisory_lock(engine: sa.Engine, wait_seconds: float) -> Iterator[None]:
    started = time.monotonic()
    with engine.connect() as conn:
        while not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": RUN_LOCK_KEY}).scalar_one():
            conn.rollback()
            waited = time.monotonic() - started
            if waited >= wait_seconds:
                raise _busy(waited)
            time.sleep(POLL_SECONDS)
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": RUN_LOCK_KEY})
            conn.commit()


@contextlib.contextmanager
def warehouse_run_lock(url: str, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the warehouse for one run; `WarehouseBusyError` after `wait_seconds` if another has it."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            with _advisory_lock(engine, wait_seconds):
                yield
        finally:
            engine.dispose()
        return
    path = duckdb_lock_path(parsed) if parsed.get_backend_name() == "duckdb" else None
    if path is None:  # an in-memory database belongs to one process already
        yield
        return
    with _file_lock(path, wait_seconds):
        yield
