"""The pairs in force, kept in the warehouse for an incremental night (`linkage.person_pairs`).

An incremental night keeps the pairs of every record whose content is unchanged, under tonight's
ids (`linkage.incremental.kept_pairs`). At 640,000 persons those are 2.2 million pairs: read whole
into pandas and re-keyed there, they held the linkage step's peak memory about 0.7 GB above the
first night's. The warehouse drops the pairs of removed records and renames the ids of re-sent
files instead, and only the kept pairs, already under tonight's ids, come out (Arrow strings on
DuckDB).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.memory import release_freed_memory
from dtsen_pipeline.warehouse import (
    bulk_query,
    byte_ordered,
    column_names,
    qualified,
    quote,
    replace_table,
    write_transaction,
)

SCHEMA, PAIRS = "linkage", "person_pairs"
RENAMED, REMOVED = "renamed_record__scratch", "removed_record__scratch"


def _id_frame(**columns: Sequence[str]) -> pd.DataFrame:
    """Text columns as they come: Arrow strings stay Arrow (through Python objects, the 700,000
    ids a re-sent civil-registry extract renames cost 1.1 s)."""
    return pd.DataFrame({name: pd.Series(values, dtype="str") for name, values in columns.items()})


def kept_pairs_in_warehouse(engine: sa.Engine, carried: pd.Series, removed: Collection[str],
                            columns: Sequence[str]) -> pd.DataFrame:
    """`linkage.incremental.kept_pairs` on `linkage.person_pairs` (record_id_l, record_id_r, ...):
    the pairs whose two records are both carried over, under tonight's ids with the smaller on
    the left, with the `columns` the table has. `carried` (earlier id -> tonight's id) and
    `removed` (earlier ids whose content is gone) cover every earlier id (`incremental.plan`), so
    only the removed ids and the renamed ones (a file re-sent under a new name) go to the
    warehouse: on most nights a few thousand, not every record."""
    present = set(column_names(engine, SCHEMA, PAIRS))
    values = [c for c in columns if c not in ("unique_id_l", "unique_id_r") and c in present]
    before, now = carried.index.astype("str").array, carried.astype("str").array  # compared in Arrow
    renamed = np.asarray(before != now, dtype=bool)
    replace_table(engine, _id_frame(before_id=before[renamed], now_id=now[renamed]), SCHEMA, RENAMED)
    replace_table(engine, _id_frame(record_id=sorted(removed)), SCHEMA, REMOVED)
    try:
        left = byte_ordered("coalesce(l.now_id, p.record_id_l)", engine.dialect.name)
        right = byte_ordered("coalesce(r.now_id, p.record_id_r)", engine.dialect.name)
        selected = "".join(f", p.{quote(c)}" for c in values)
        gone = f"SELECT record_id FROM {qualified(SCHEMA, REMOVED)}"
        return bulk_query(engine,
                          f"SELECT LEAST({left}, {right}) AS unique_id_l, GREATEST({left}, {right}) AS unique_id_r"
                          f"{selected} FROM {qualified(SCHEMA, PAIRS)} AS p "
                          f"LEFT JOIN {qualified(SCHEMA, RENAMED)} AS l ON l.before_id = p.record_id_l "
                          f"LEFT JOIN {qualified(SCHEMA, RENAMED)} AS r ON r.before_id = p.record_id_r "
                          f"WHERE p.record_id_l NOT IN ({gone}) AND p.record_id_r NOT IN ({gone})")
    finally:
        with write_transaction(engine) as conn:
            for table in (RENAMED, REMOVED):
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {qualified(SCHEMA, table)}")
        release_freed_memory(engine)  # the join's pages and hash tables, before the clustering
