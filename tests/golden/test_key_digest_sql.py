"""The warehouse hashes the id steps' keys (id_state.key_digest_sql): the same keys as Python's
`key_digest`, on DuckDB and on PostgreSQL, or every id would change on the run after."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.golden.id_state import _record_key_columns, key_digest_sql, record_units_sql
from dtsen_pipeline.golden.identity import household_units, key_digest, person_units
from dtsen_pipeline.warehouse import bulk_query, replace_table

VALUES = ["1806014803900001", "180601480390000", "pekon|SITI AMINAH|1975-01-01", "dukcapil|MA'RUF|2001-12-31",
          "bansos|NI KETUT SUKARMI|1960-07-01", "pekon|ÅSE ÇAKIR|1999-02-03", "1806.0127.0524.0002"]


def test_the_warehouse_digest_is_key_digest(warehouse: sa.Engine) -> None:
    replace_table(warehouse, pd.DataFrame({"value": VALUES}), "work", "digest_values")
    for kind in ("nik", "kk", "who"):
        got = bulk_query(warehouse, f"SELECT value, {key_digest_sql(kind, 'value', warehouse.dialect.name)} AS key "
                                    "FROM work.digest_values ORDER BY value")
        assert dict(zip(got["value"], got["key"], strict=True)) == {v: key_digest(kind, v) for v in VALUES}


def _records() -> pd.DataFrame:
    return pd.DataFrame({
        "record_id": ["dtsen:a#1", "dukcapil:b#1", "pekon:c#2", "pekon:c#3", "bansos:d#4"],
        "cluster_id": ["c1", "c1", "c2", "c3", "c3"],
        "no_kk": ["1806010101010001", "1806010101010001", None, "1806020202020002", "1806020202020002"],
        "nik": ["1806014803900001", "1806014803900001", None, None, "1806024101850003"],
        "feed": ["dtsen", "dukcapil", "pekon", "pekon", "bansos"],
        "name_key": ["SITI AMINAH", "SITI AMINAH", "MA'RUF", None, "DEWI"],
        "tgl_lahir": ["1990-03-08", "1990-03-08", "2001-12-31", "1999-02-03", None],
    }, dtype="str")


def _sorted_units(units: pd.DataFrame) -> pd.DataFrame:
    units = units.rename(columns={"group": "grp"})[["grp", "unit", "key", "key_rank"]].astype(
        {"grp": "str", "unit": "str", "key": "str", "key_rank": "int64"})
    return units.sort_values(["unit", "key_rank", "key"], ignore_index=True)


def test_the_warehouse_builds_the_units_python_would(warehouse: sa.Engine) -> None:
    """The id steps build their units in the warehouse (id_state.record_units_sql): the same rows
    as person_units and household_units, who keys and family units included."""
    records = _records()
    replace_table(warehouse, records, "work", "unit_records")
    dialect = warehouse.dialect.name
    keyed = (f"SELECT s.record_id, s.cluster_id, s.no_kk, s.nik, {_record_key_columns(dialect, 's.nik')}, "
             f"{key_digest_sql('kk', 's.no_kk', dialect)} AS kk_key FROM work.unit_records AS s")
    persons = bulk_query(warehouse, record_units_sql(keyed, "cluster_id"))
    pd.testing.assert_frame_equal(_sorted_units(persons), _sorted_units(person_units(records)))
    families = bulk_query(warehouse, record_units_sql(f"SELECT * FROM ({keyed}) AS k WHERE no_kk IS NOT NULL",
                                                      "no_kk", families=True))
    with_kk = records[records["no_kk"].notna()].reset_index(drop=True)
    pd.testing.assert_frame_equal(_sorted_units(families), _sorted_units(household_units(with_kk)))
