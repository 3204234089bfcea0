"""How well the blocking rules do on a truth table: recall of true pairs and comparisons generated.

Blocking decides which pairs are ever scored: a true pair no rule brings together can never be
linked, so its recall bounds the whole model's recall. Counted in DuckDB, no pair list in Python.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from dtsen_pipeline.linkage.model import BLOCKING_KEYS


def _agree(key: tuple[str, ...]) -> str:
    return " AND ".join(f"l.{c} IS NOT NULL AND l.{c} = r.{c}" for c in key)


def blocking_recall(records: pd.DataFrame, truth: pd.DataFrame) -> dict[str, object]:
    """Share of true pairs (same person_key) that at least one blocking rule generates."""
    con = duckdb.connect(":memory:")
    try:
        con.register("records_df", records)
        con.register("truth_df", truth[["record_id", "person_key"]])
        con.execute("CREATE TABLE t AS SELECT r.*, person_key FROM records_df r "
                    "JOIN truth_df ON truth_df.record_id = r.unique_id")
        any_rule = " OR ".join(f"({_agree(k)})" for k in BLOCKING_KEYS)
        per_rule = ", ".join(f"sum(CASE WHEN {_agree(k)} THEN 1 ELSE 0 END) AS r{i}"
                             for i, k in enumerate(BLOCKING_KEYS))
        row = con.execute(
            f"SELECT count(*) AS true_pairs, sum(CASE WHEN {any_rule} THEN 1 ELSE 0 END) AS blocked, {per_rule} "
            "FROM t l JOIN t r ON l.person_key = r.person_key AND l.unique_id < r.unique_id").fetchone()
        comparisons = con.execute(
            "SELECT count(*) FROM (" + " UNION ".join(
                f"SELECT l.unique_id AS a, r.unique_id AS b FROM t l JOIN t r "
                f"ON {' AND '.join(f'l.{c} = r.{c}' for c in k)} AND l.unique_id < r.unique_id"
                for k in BLOCKING_KEYS) + ")").fetchone()[0]
    finally:
        con.close()
    true_pairs, blocked = int(row[0]), int(row[1] or 0)
    return {
        "true_pairs": true_pairs,
        "true_pairs_blocked": blocked,
        "recall": round(blocked / true_pairs, 5) if true_pairs else 1.0,
        "comparisons": int(comparisons),
        "recall_by_rule": {"+".join(k): round(int(row[2 + i] or 0) / true_pairs, 4) if true_pairs else 1.0
                           for i, k in enumerate(BLOCKING_KEYS)},
    }
