"""How well the blocking rules do on a truth table: recall of true pairs and comparisons generated.

Blocking decides which pairs are ever scored: a true pair no rule brings together can never be
linked, so its recall bounds the whole model's recall. Counted in DuckDB, no pair list in Python.
"""

from __future__ import annotations

import tempfile

import duckdb
import pandas as pd

from dtsen_pipeline.linkage.model import BLOCKING_KEYS, BlockingKey, scope_sql


def _agree(key: BlockingKey) -> str:
    agree = " AND ".join(f"l.{c} IS NOT NULL AND l.{c} = r.{c}" for c in key.columns)
    return f"{agree} AND {scope_sql(key)}"


def blocking_recall(records: pd.DataFrame, truth: pd.DataFrame,
                    keys: tuple[BlockingKey, ...] = BLOCKING_KEYS) -> dict[str, object]:
    """Share of true pairs (same person_key) that at least one blocking rule generates."""
    con = duckdb.connect(":memory:", config={"memory_limit": "4GB", "preserve_insertion_order": False,
                                             "temp_directory": tempfile.mkdtemp(prefix="dtsen_blocking_")})
    try:
        con.register("records_df", records)
        con.register("truth_df", truth[["record_id", "person_key"]])
        # Integer ids keep the pair sets small enough to count at regency scale.
        con.execute("CREATE TABLE t AS SELECT row_number() OVER () AS rid, r.* EXCLUDE (unique_id), person_key "
                    "FROM records_df r JOIN truth_df ON truth_df.record_id = r.unique_id")
        any_rule = " OR ".join(f"({_agree(k)})" for k in keys)
        per_rule = ", ".join(f"sum(CASE WHEN {_agree(k)} THEN 1 ELSE 0 END) AS r{i}"
                             for i, k in enumerate(keys))
        row = con.execute(
            f"SELECT count(*) AS true_pairs, sum(CASE WHEN {any_rule} THEN 1 ELSE 0 END) AS blocked, {per_rule} "
            "FROM t l JOIN t r ON l.person_key = r.person_key AND l.rid < r.rid").fetchone()
        # Each rule counts only the pairs no earlier rule produced (as Splink generates them), so
        # the total is exact without holding a set of pairs. A rule on a null column is null, not
        # false: without coalesce, NOT (earlier) would drop the pair instead of counting it.
        comparisons = 0
        for i, key in enumerate(keys):
            earlier = " OR ".join(f"coalesce({_agree(k)}, FALSE)" for k in keys[:i]) or "FALSE"
            comparisons += con.execute(
                f"SELECT count(*) FROM t l JOIN t r ON {' AND '.join(f'l.{c} = r.{c}' for c in key.columns)} "
                f"AND l.rid < r.rid WHERE ({_agree(key)}) AND NOT ({earlier})").fetchone()[0]
    finally:
        con.close()
    true_pairs, blocked = int(row[0]), int(row[1] or 0)
    return {
        "true_pairs": true_pairs,
        "true_pairs_blocked": blocked,
        "recall": round(blocked / true_pairs, 5) if true_pairs else 1.0,
        "comparisons": int(comparisons),
        "recall_by_rule": {k.name: round(int(row[2 + i] or 0) / true_pairs, 4) if true_pairs else 1.0
                           for i, k in enumerate(keys)},
    }
