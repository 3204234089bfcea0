"""Publishing tables: whole, typed, and never half-written."""

import pandas as pd
import pytest
import sqlalchemy as sa

from dtsen_pipeline.warehouse import engine_for, read_table, replace_table, replace_table_from_sql


@pytest.fixture
def engine(tmp_path):
    eng = sa.create_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    yield eng
    eng.dispose()


def test_replace_table_round_trip_keeps_identifiers_as_text(engine):
    df = pd.DataFrame({"nik": ["0806014107850001", None], "n": [1, 2],
                       "d": pd.to_datetime(["2020-02-29", None])})
    assert replace_table(engine, df, "s", "t", date_columns=["d"]) == 2
    back = read_table(engine, "s", "t")
    assert back["nik"].tolist()[0] == "0806014107850001"
    assert str(back["d"].iloc[0])[:10] == "2020-02-29"
    replace_table(engine, df.head(1), "s", "t")
    assert len(read_table(engine, "s", "t")) == 1


def test_failed_replacement_leaves_the_old_table(engine):
    replace_table(engine, pd.DataFrame({"x": [1, 2, 3]}), "s", "t")
    with pytest.raises(sa.exc.DBAPIError):
        replace_table_from_sql(engine, "s", "t", "select x from s.no_such_table")
    assert read_table(engine, "s", "t")["x"].tolist() == [1, 2, 3]


def test_the_embedded_warehouse_is_held_to_its_memory_limit(tmp_path):
    """DuckDB would keep up to 80% of the machine in its buffer pool; the warehouse engine sets the
    deployment's limit on every connection, and a plain connection to the same file (a tool, a
    test) still opens."""
    url = f"duckdb:///{tmp_path / 'limited.duckdb'}"
    engine = engine_for(url, "1500MB")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT current_setting('memory_limit')").scalar() == "1.3 GiB"
    plain = sa.create_engine(url)
    with plain.connect() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    plain.dispose()
    engine.dispose()
    with pytest.raises(ValueError, match="DTSEN_WAREHOUSE_MEMORY_LIMIT"):
        engine_for(f"duckdb:///{tmp_path / 'other.duckdb'}", "lots; DROP TABLE x")


def test_read_table_types_values_as_pd_read_sql_does(engine):
    """The bulk path (DuckDB's Arrow result) gives the types pd.read_sql gives: text as pandas
    strings, dates as dates, whole numbers with gaps as floats, booleans with gaps as objects,
    decimals as floats, timestamps as datetimes."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA s")
        conn.exec_driver_sql("CREATE TABLE s.t AS SELECT * FROM (VALUES ('a', DATE '2020-02-29', 1, TRUE, 2.5, "
                             "TIMESTAMP '2026-12-05 01:02:03', 7), (NULL, NULL, NULL, NULL, NULL, NULL, 8)) "
                             "v(txt, d, n, b, x, ts, whole)")
    bulk = read_table(engine, "s", "t")
    with engine.connect() as conn:
        plain = pd.read_sql(sa.text("SELECT * FROM s.t"), conn)
    pd.testing.assert_frame_equal(bulk, plain)


@pytest.mark.parametrize("backend", ["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_failed_statement_names_its_sql_but_never_its_values(tmp_path, backend):
    """Bound values are NIKs, names or the pseudonym key's pads: an error that reaches the run's
    log must not carry them."""
    import contextlib

    from tests.support import temporary_database

    secret = "3171234567890123"
    with (temporary_database("dtsen_params") if backend == "postgresql"
          else contextlib.nullcontext(f"duckdb:///{tmp_path / 'w.duckdb'}")) as url:
        engine = engine_for(url)
        with pytest.raises(sa.exc.DBAPIError) as failure, engine.connect() as conn:
            conn.execute(sa.text("SELECT CAST(:nik AS INTEGER) + no_such_column"), {"nik": secret})
        assert "no_such_column" in str(failure.value)
        assert secret not in str(failure.value) and secret not in repr(failure.value)
        engine.dispose()
