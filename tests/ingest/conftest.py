"""Fixtures of the ingestion tests: an empty landing folder and a DuckDB warehouse of their own."""

import pytest

from tests.ingest.helpers import engine_at


@pytest.fixture
def landing(tmp_path):
    return tmp_path / "landing"


@pytest.fixture
def engine(tmp_path):
    eng = engine_at(tmp_path / "w.duckdb")
    yield eng
    eng.dispose()
