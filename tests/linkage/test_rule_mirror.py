"""An incremental night joins each blocking rule once when the rule with its sides swapped is
itself or another rule of the model (`linkage.rule_mirror`): the candidate pairs, and the first
rule that made each, are those of joining every rule twice."""

import duckdb
import numpy as np
import pandas as pd

from dtsen_pipeline.linkage.backend import DUCKDB, SPARK
from dtsen_pipeline.linkage.model import BLOCKING_RULES, blocked_pairs_sql
from dtsen_pipeline.linkage.rule_mirror import mirrors


def _model_rules(dialect: str) -> list[str]:
    return [rule.get_blocking_rule(dialect).blocking_rule_sql for rule in BLOCKING_RULES]


def test_the_models_rules_mirror_into_themselves_or_their_other_side():
    for dialect in (DUCKDB, SPARK):
        rules = _model_rules(dialect)
        found = mirrors(rules, dialect)
        assert None not in found
        assert all(found[found[i]] == i for i in range(len(rules)))  # mirroring twice is the rule again
        one_sided = [i for i, rule in enumerate(rules) if "CASE WHEN l.nik IS NULL" in rule]
        assert one_sided and all(found[i] == i + 1 for i in one_sided)  # NIK missing on l, then on r
        assert all(found[i] == i for i, rule in enumerate(rules) if "CASE" not in rule)


def test_a_rule_that_is_not_shown_to_mirror_keeps_both_joins():
    rules = ["l.a = r.a AND l.b < r.b", "l.b > r.b", "l.b < r.b", "l.a = r.c", "l.c = r.a", "substr(l.a, 1, 2) = r.a"]
    assert mirrors(rules, DUCKDB) == [None, None, None, 4, 3, None]
    assert mirrors(["l.a = = r.a"], DUCKDB) == [None]  # unreadable: nothing assumed


def _pairs(connection: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return connection.sql(sql).df().sort_values(["join_key_l", "join_key_r"]).reset_index(drop=True)


def test_one_join_per_mirrored_rule_gives_the_pairs_and_first_rules_of_two():
    rng = np.random.default_rng(7)
    n = 3_000
    records = pd.DataFrame({"unique_id": np.arange(n), "a": rng.integers(0, 300, n).astype(str),
                            "b": rng.integers(0, 200, n).astype(str), "c": rng.integers(0, 300, n).astype(str)})
    records.loc[rng.random(n) < 0.3, "b"] = None
    rules = ["(CASE WHEN l.b IS NULL THEN l.a END) = r.a AND l.c = r.c",  # one side without b
             "l.a = (CASE WHEN r.b IS NULL THEN r.a END) AND l.c = r.c",  # its mirror
             "l.a = r.a AND l.b < r.b",  # asymmetric: joined twice
             "l.b = r.b AND l.c = r.c",  # symmetric
             "l.a = r.c", "l.c = r.a"]  # a mirrored pair of other columns
    found = mirrors(rules, DUCKDB)
    assert found == [1, 0, None, 3, 5, 4]
    connection = duckdb.connect()
    connection.register("records", records)
    touched = records.sample(n=150, random_state=3)
    connection.register("touched", touched)
    once = _pairs(connection, blocked_pairs_sql(rules, "records", "touched", found))
    twice = _pairs(connection, blocked_pairs_sql(rules, "records", "touched"))
    full = _pairs(connection, blocked_pairs_sql(rules, "records"))
    ids = set(touched["unique_id"])
    with_touched = full[full["join_key_l"].isin(ids) | full["join_key_r"].isin(ids)].reset_index(drop=True)
    assert len(once) > 500 and set(once["match_key"]) == {"0", "1", "2", "3", "4", "5"}
    pd.testing.assert_frame_equal(once, twice)
    pd.testing.assert_frame_equal(once, with_touched)
