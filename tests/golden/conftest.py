"""A warehouse per test module, on DuckDB and on the PostgreSQL server (the SQL models are
written in DuckDB's dialect and transpiled, so both are exercised). Without a server the
PostgreSQL variants skip with the reason, unless CI is set, in which case they fail."""

import os
import uuid

import pytest
import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get("DTSEN_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_admin() -> sa.Engine:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("select 1")
    except sa.exc.OperationalError as exc:
        engine.dispose()
        message = f"no PostgreSQL server at {PG_ADMIN_URL.split('@')[-1]}: {type(exc.orig).__name__}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: PostgreSQL is required)")
        pytest.skip(message + " (skipped because CI is unset)")
    return engine


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse(request):
    """An empty warehouse engine for one test module."""
    if request.param == "duckdb":
        engine = sa.create_engine("duckdb:///:memory:")
        yield engine
        engine.dispose()
        return
    admin = _pg_admin()
    name = f"dtsen_golden_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = sa.create_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()
