"""Helpers for the publication tests: PostgreSQL test databases and build tables from a real run."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from dtsen_pipeline.publish import RunInfo
from dtsen_pipeline.warehouse import ensure_schema, load_frame, read_table
from tests.support import PG_ADMIN_URL, pg_admin_engine

ADMIN_URL = PG_ADMIN_URL
BUILD_TABLES = ("person", "person_source", "household")
TEST_KEY = "test-only-pseudonym-key-0123456789abcdef"  # a test key, not a real one


def admin_engine() -> sa.Engine:
    """The server's admin connection; skips without a server unless CI is set (then fails)."""
    return pg_admin_engine()


def url_for(database: str, user: str = "postgres") -> str:
    base = ADMIN_URL.rsplit("/", 1)[0]
    scheme, rest = base.split("://", 1)
    host = rest.split("@", 1)[-1]
    return f"{scheme}://{user}@{host}/{database}"


@contextmanager
def pg_database(owner: str = "postgres") -> Iterator[str]:
    """A fresh database with a unique name, dropped afterwards."""
    admin = admin_engine()
    name = f"dtsen_pub_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" OWNER "{owner}"')
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _date_columns(source: sa.Engine, schema: str, table: str) -> list[str]:
    with source.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = :s AND table_name = :t "
            "AND data_type = 'DATE'"), {"s": schema, "t": table}).scalars())


def copy_tables(source: sa.Engine, target: sa.Engine, tables: dict[str, list[str] | None]) -> None:
    """Copy `schema.table` (optionally some columns) from the DuckDB run into another warehouse."""
    with target.begin() as conn:
        for qualified_name, columns in tables.items():
            schema, table = qualified_name.split(".")
            frame = read_table(source, schema, table, columns)
            dates = [c for c in _date_columns(source, schema, table) if c in frame.columns]
            ensure_schema(conn, schema)
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{schema}"."{table}"')
            load_frame(conn, frame, schema, table, dates)


def run_info(run_id: str, triggered_by: str = "manual:test") -> RunInfo:
    return RunInfo(run_id=run_id, job_name="nightly_refresh", started_at=dt.datetime(2026, 1, 1), triggered_by=triggered_by)
