"""A warehouse per test module, on DuckDB and on the PostgreSQL server (the SQL models are
written in DuckDB's dialect and transpiled, so both are exercised). Without a server the
PostgreSQL variants skip with the reason, unless CI is set, in which case they fail."""

import pytest
import sqlalchemy as sa

from tests.support import temporary_database


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse(request):
    """An empty warehouse engine for one test module."""
    if request.param == "duckdb":
        engine = sa.create_engine("duckdb:///:memory:")
        yield engine
        engine.dispose()
        return
    with temporary_database("dtsen_golden") as url:
        engine = sa.create_engine(url)
        yield engine
        engine.dispose()
