"""The warehouse hashes the id steps' keys (id_state.key_digest_sql): the same keys as Python's
`key_digest`, on DuckDB and on PostgreSQL, or every id would change on the run after."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.golden.id_state import key_digest_sql
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


def test_units_from_the_warehouse_digests_equal_python_s() -> None:
    """record_units and household_units take the warehouse's nik_key, who_key and kk_key as the
    keys they would compute."""
    records = _records()
    with_keys = records.assign(
        nik_key=[key_digest("nik", v) if isinstance(v, str) else None for v in records["nik"]],
        who_key=[key_digest("who", f"{f}|{n}|{d}") if not isinstance(k, str) else None
                 for k, f, n, d in zip(records["nik"], records["feed"], records["name_key"], records["tgl_lahir"],
                                       strict=True)],
        kk_key=[key_digest("kk", v) if isinstance(v, str) else None for v in records["no_kk"]])
    pd.testing.assert_frame_equal(person_units(with_keys), person_units(records), check_dtype=False)
    pd.testing.assert_frame_equal(household_units(with_keys), household_units(records), check_dtype=False)
