"""A build suite validated on only the columns it names gives the same outcome as on the whole
table (the checks read those columns from the warehouse, not every column)."""

import pandas as pd
import pytest

from assets.quality import suite_targets
from dtsen_pipeline.ingest.feeds import load_feed_specs, person_feeds
from dtsen_pipeline.quality.gx_suites import run_suite, suite_columns, suite_path
from dtsen_pipeline.warehouse import column_names, read_columns, read_table


@pytest.mark.parametrize(("schema", "table"), suite_targets("build"))
def test_the_suite_needs_only_the_columns_it_names(engine, schema, table):
    path = suite_path(schema, table)
    columns = suite_columns(path)
    assert columns is not None and set(columns) < set(column_names(engine, schema, table))
    feeds = tuple(person_feeds(load_feed_specs()))
    whole = run_suite(read_table(engine, schema, table), path, person_feeds=feeds)
    pruned = run_suite(read_columns(engine, schema, table, columns), path, person_feeds=feeds)
    assert pruned.outcomes == whole.outcomes and pruned.rows == whole.rows


def test_a_table_level_expectation_needs_every_column(tmp_path):
    suite = tmp_path / "build__x.json"
    suite.write_text('{"name": "build__x", "expectations": ['
                     '{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},'
                     '{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}]}')
    assert suite_columns(suite) is None
    suite.write_text('{"name": "build__x", "expectations": ['
                     '{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},'
                     '{"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["b", "a"]}}]}')
    assert suite_columns(suite) == ("a", "b")


def test_run_suite_validates_the_named_columns_and_a_missing_one_still_fails(tmp_path):
    """run_suite hands GX only the columns the suite names (GX filters the whole frame for every
    expectation): the outcome is the same with other columns beside them, and a named column the
    frame lacks still fails its expectation."""
    suite = tmp_path / "staging__x.json"
    suite.write_text('{"name": "staging__x", "expectations": ['
                     '{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},'
                     '{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "b"}}]}')
    named = pd.DataFrame({"a": ["1", None, "3"], "b": ["x", "y", "z"]})
    wider = named.assign(other=["p", "q", "r"], more=[1, 2, 3])
    assert run_suite(wider, suite).outcomes == run_suite(named, suite).outcomes
    assert [o.unexpected_count for o in run_suite(wider, suite).outcomes] == [1, 0]
    without_b = run_suite(named[["a"]], suite)
    assert not without_b.success and not without_b.outcomes[1].success


@pytest.mark.parametrize("with_docs", [False, True])
def test_run_suite_keeps_no_reference_to_the_frame_it_validated(tmp_path, with_docs):
    """GX's contexts live for the whole process, and a pandas data source keeps the last frame it
    validated: at 640,000 persons the staged frames (about 1.5 GB) stayed alive through every later
    step. Once run_suite returns, no frame of the validated rows may remain."""
    import gc

    suite = tmp_path / "staging__leak.json"
    suite.write_text('{"name": "staging__leak", "expectations": ['
                     '{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}}]}')
    rows = 12_347  # a row count no other frame of the test session has

    def alive() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, pd.DataFrame) and len(o) == rows)

    frame = pd.DataFrame({"a": [str(i) for i in range(rows)], "b": range(rows)})
    outcome = run_suite(frame, suite, docs_dir=tmp_path / "docs" if with_docs else None)
    assert outcome.success and outcome.rows == rows
    del frame
    assert alive() == 0
    again = run_suite(pd.DataFrame({"a": [None, "x"]}), suite, docs_dir=tmp_path / "docs" if with_docs else None)
    assert not again.success and again.outcomes[0].unexpected_count == 1  # the suite still validates afterwards


@pytest.mark.parametrize("with_docs", [False, True])
def test_run_suite_does_not_hash_the_whole_frame(tmp_path, monkeypatch, with_docs):
    """GX fingerprints each pandas batch under 1 GB with an MD5 of every value (1.3 s of an
    8 s suite at 640,000 rows) only to label it in Data Docs: run_suite validates without it."""
    from great_expectations.execution_engine import pandas_execution_engine

    hashed: list[int] = []
    real = pandas_execution_engine.hash_pandas_dataframe
    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe",
                        lambda df: hashed.append(len(df)) or real(df))
    suite = tmp_path / "staging__fingerprint.json"
    suite.write_text('{"name": "staging__fingerprint", "expectations": ['
                     '{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}}]}')
    outcome = run_suite(pd.DataFrame({"a": ["x", None, "z"]}), suite,
                        docs_dir=tmp_path / "docs" if with_docs else None)
    assert outcome.rows == 3 and outcome.outcomes[0].unexpected_count == 1
    assert hashed == []


@pytest.mark.parametrize(("schema", "table"), suite_targets("staging") + suite_targets("build"))
def test_each_expectation_on_its_own_columns_gives_gx_s_own_outcome(engine, monkeypatch, schema, table):
    """GX hands each expectation its domain's records; run_suite narrows them to the domain's
    columns before GX filters rows (`_domains_narrowed`). On the run's staged and build tables
    (damaged records, failing rows included) every outcome equals GX's on the records as GX
    makes them."""
    from great_expectations.execution_engine import PandasExecutionEngine

    from dtsen_pipeline.quality import gx_suites

    path = suite_path(schema, table)
    feeds = tuple(person_feeds(load_feed_specs()))
    frame = read_table(engine, schema, table)
    narrowed = run_suite(frame, path, person_feeds=feeds)
    installed = PandasExecutionEngine.get_domain_records
    assert getattr(installed, "_dtsen_narrowed", False)
    monkeypatch.setattr(gx_suites, "_domains_narrowed", lambda: None)
    monkeypatch.setattr(PandasExecutionEngine, "get_domain_records", installed.__wrapped__)
    as_gx_makes_them = run_suite(frame, path, person_feeds=feeds)
    assert narrowed.outcomes == as_gx_makes_them.outcomes
    if schema == "staging" and table in feeds:  # damaged person records: rows fail, and still agree
        assert any(o.unexpected_count for o in narrowed.outcomes)


def test_a_column_expectation_sees_only_its_column(tmp_path, monkeypatch):
    """What the narrowing does: a column expectation's records hold its column alone, a pair's its
    two columns, a table-level expectation's every column; a column the frame lacks still fails."""
    from great_expectations.execution_engine import PandasExecutionEngine

    from dtsen_pipeline.quality import gx_suites

    gx_suites._domains_narrowed()
    installed = PandasExecutionEngine.get_domain_records
    seen: list[tuple[str, list[str]]] = []

    def recording(self, domain_kwargs):
        records = installed(self, domain_kwargs)
        kind = "column" if "column" in domain_kwargs else "pair" if "column_A" in domain_kwargs else "table"
        seen.append((kind, list(records.columns)))
        return records

    recording._dtsen_narrowed = True
    monkeypatch.setattr(PandasExecutionEngine, "get_domain_records", recording)
    suite = tmp_path / "staging__narrow.json"
    suite.write_text('{"name": "staging__narrow", "expectations": ['
                     '{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},'
                     '{"type": "expect_column_values_to_be_unique", "kwargs": {"column": "b"}},'
                     '{"type": "expect_column_pair_values_to_be_equal", "kwargs": {"column_A": "a", "column_B": "c"}},'
                     '{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}]}')
    frame = pd.DataFrame({"a": ["1", None, "3", "4"], "b": ["x", "y", "x", None], "c": ["1", "2", "3", "5"]})
    outcome = run_suite(frame, suite)
    assert [o.unexpected_count for o in outcome.outcomes[:3]] == [1, 2, 2]
    assert {tuple(cols) for kind, cols in seen if kind == "column"} == {("a",), ("b",)}
    assert {tuple(cols) for kind, cols in seen if kind == "pair"} == {("a", "c")}
    assert ["a", "b", "c"] in [cols for kind, cols in seen if kind == "table"]
    missing = run_suite(frame[["b", "c"]], suite)
    assert not missing.outcomes[0].success
