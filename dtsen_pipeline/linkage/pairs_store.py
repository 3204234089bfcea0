"""The pairs in force, kept in the warehouse for an incremental night (`linkage.person_pairs`).

An incremental night keeps the pairs of every record whose content is unchanged, under tonight's
ids (`linkage.incremental.kept_pairs`). At 640,000 persons those are 2.2 million pairs: read whole
into pandas and re-keyed there, they held the linkage step's peak memory about 0.7 GB above the
first night's. The warehouse joins them with the carried ids instead, and only the kept pairs,
already under tonight's ids, come out (Arrow strings on DuckDB).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.memory import release_freed_memory
from dtsen_pipeline.warehouse import (
    bulk_query,
    column_names,
    qualified,
    quote,
    replace_table,
    write_transaction,
)

SCHEMA, PAIRS, CARRIED = "linkage", "person_pairs", "carried_record__scratch"


def _ordered(engine: sa.Engine, column: str) -> str:
    """`column` compared as Python compares the ids (code points): DuckDB compares strings byte by
    byte in UTF-8, which is that order; PostgreSQL by its collation unless told "C"."""
    return f'{column} COLLATE "C"' if engine.dialect.name == "postgresql" else column


def kept_pairs_in_warehouse(engine: sa.Engine, carried: pd.Series, columns: Sequence[str]) -> pd.DataFrame:
    """`linkage.incremental.kept_pairs` on `linkage.person_pairs` (record_id_l, record_id_r, ...):
    the pairs whose two records are both carried over (`carried`: earlier id -> tonight's id),
    under tonight's ids with the smaller on the left, with the `columns` the table has."""
    present = set(column_names(engine, SCHEMA, PAIRS))
    values = [c for c in columns if c not in ("unique_id_l", "unique_id_r") and c in present]
    mapping = pd.DataFrame({"before_id": pd.Series(carried.index.to_numpy(dtype=object), dtype="str"),
                            "now_id": pd.Series(carried.to_numpy(dtype=object), dtype="str")})
    replace_table(engine, mapping, SCHEMA, CARRIED)
    del mapping
    try:
        left, right = _ordered(engine, "l.now_id"), _ordered(engine, "r.now_id")
        selected = ", ".join(f"p.{quote(c)}" for c in values)
        return bulk_query(engine,
                          f"SELECT LEAST({left}, {right}) AS unique_id_l, GREATEST({left}, {right}) AS unique_id_r"
                          f"{', ' + selected if selected else ''} "
                          f"FROM {qualified(SCHEMA, PAIRS)} AS p "
                          f"JOIN {qualified(SCHEMA, CARRIED)} AS l ON l.before_id = p.record_id_l "
                          f"JOIN {qualified(SCHEMA, CARRIED)} AS r ON r.before_id = p.record_id_r")
    finally:
        with write_transaction(engine) as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {qualified(SCHEMA, CARRIED)}")
        release_freed_memory(engine)  # the join's pages and hash tables, before the clustering
