"""One run at a time per warehouse, from ingestion to publication.

Two runs started together (the schedule and the landing sensor, or two operators) would both
register and load the same new files: every raw record twice. A run therefore holds a
warehouse-level lock for its whole execution: on PostgreSQL a session advisory lock on a
connection kept open (released by the server if the process dies), on DuckDB an exclusive
`flock` on a file beside the database (released by the kernel if the process dies). A second run
waits up to `wait_seconds`, then stops with `WarehouseBusyError` before touching anything.

On PostgreSQL a run's steps may run in processes of their own (the multiprocess executor,
`dtsen_pipeline.executor`): the orchestrating process then holds the lock for the whole run on a
connection named after the run (`holder_name`), and a step that asks for the lock finds it held
for its own run (`held_for_run`) instead of waiting for itself.
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


def holder_name(run_id: str) -> str:
    """The PostgreSQL `application_name` of the connection holding the lock for run `run_id`."""
    return f"dtsen run lock {run_id}"


def held_for_run(url: str, run_id: str | None) -> bool:
    """Whether the run lock is held, in this database, by the connection `holder_name(run_id)`:
    the orchestrating process of run `run_id` took it for the whole run. Always False on DuckDB,
    whose runs are one process."""
    parsed = sa.make_url(url)
    if run_id is None or parsed.get_backend_name() != "postgresql":
        return False
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(sa.text(
                "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                "AND l.classid::bigint = :high AND l.objid::bigint = :low "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND a.application_name = :holder)"),
                {"high": RUN_LOCK_KEY >> 32, "low": RUN_LOCK_KEY & 0xFFFFFFFF,
                 "holder": holder_name(run_id)}).scalar_one())
    finally:
        engine.dispose()


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
def warehouse_run_lock(url: str, wait_seconds: float = 0.0, run_id: str | None = None) -> Iterator[None]:
    """Hold the warehouse for one run; `WarehouseBusyError` after `wait_seconds` if another has it.
    With `run_id`, the PostgreSQL connection holding it is named `holder_name(run_id)`."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        connect_args = {} if run_id is None else {"application_name": holder_name(run_id)}
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args)
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
