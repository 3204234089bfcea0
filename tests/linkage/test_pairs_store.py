"""The kept pairs of an incremental night, joined in the warehouse (linkage.pairs_store), equal
those the in-memory rule gives (linkage.incremental.kept_pairs), on DuckDB and PostgreSQL."""

import numpy as np
import pandas as pd

from dtsen_pipeline.linkage.incremental import kept_pairs
from dtsen_pipeline.linkage.pairs_store import REMOVED, RENAMED, kept_pairs_in_warehouse
from dtsen_pipeline.warehouse import replace_table, table_exists

COLUMNS = ["unique_id_l", "unique_id_r", "match_weight", "match_probability", "gamma_nama"]


def _pairs_in_force(warehouse, pairs: pd.DataFrame) -> None:
    replace_table(warehouse, pairs.rename(columns={"unique_id_l": "record_id_l", "unique_id_r": "record_id_r"}),
                  "linkage", "person_pairs")


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[COLUMNS].astype({"unique_id_l": object, "unique_id_r": object, "gamma_nama": "int64"})
    return out.sort_values(["unique_id_l", "unique_id_r"], ignore_index=True)


def test_the_warehouse_keeps_the_pairs_the_in_memory_rule_keeps(warehouse):
    """Renamed ids reorder a pair ('b' sorts before 'a_new'... and 'Z' before 'a' in code points,
    not in a linguistic collation); a pair with a record not carried over is dropped."""
    previous = pd.DataFrame({
        "unique_id_l": ["dukcapil/f1#1", "dukcapil/f1#1", "pekon/a#2", "pekon/a#2", "dukcapil/f1#3"],
        "unique_id_r": ["pekon/a#2", "dukcapil/f1#3", "pekon/b#9", "pekon/c#4", "pekon/c#4"],
        "match_weight": [12.5, 3.0, 8.25, -1.5, 6.0],
        "match_probability": [0.9998, 0.89, 0.997, 0.26, 0.98],
        "gamma_nama": [4, 1, 3, 0, 2],
    })
    carried = pd.Series({"dukcapil/f1#1": "dukcapil/next_f1#1", "dukcapil/f1#3": "dukcapil/next_f1#3",
                         "pekon/a#2": "Pekon/a#2", "pekon/c#4": "pekon/c#4"})
    _pairs_in_force(warehouse, previous)

    in_sql = kept_pairs_in_warehouse(warehouse, carried, frozenset({"pekon/b#9"}), COLUMNS)
    in_memory = kept_pairs(previous, carried, COLUMNS)

    assert len(in_memory) == 4  # the pair with pekon/b#9 (not carried over) goes
    pd.testing.assert_frame_equal(_sorted(in_sql), _sorted(in_memory))
    assert (in_sql["unique_id_l"].astype(str) < in_sql["unique_id_r"].astype(str)).all()
    assert ("Pekon/a#2", "dukcapil/next_f1#1") in set(zip(in_sql["unique_id_l"], in_sql["unique_id_r"], strict=True))
    assert not table_exists(warehouse, "linkage", RENAMED) and not table_exists(warehouse, "linkage", REMOVED)


def test_no_pair_kept_when_a_record_is_removed_and_none_renamed(warehouse):
    previous = pd.DataFrame({"unique_id_l": ["a"], "unique_id_r": ["b"], "match_weight": [1.0],
                             "match_probability": [0.7], "gamma_nama": np.array([2])})
    _pairs_in_force(warehouse, previous)
    kept = kept_pairs_in_warehouse(warehouse, pd.Series({"a": "a"}), frozenset({"b"}), COLUMNS)
    assert kept.empty and list(kept.columns) == COLUMNS
