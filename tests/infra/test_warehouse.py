"""Publishing tables: whole, typed, and never half-written."""

import pandas as pd
import pytest
import sqlalchemy as sa

from dtsen_pipeline.warehouse import read_table, replace_table, replace_table_from_sql


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
