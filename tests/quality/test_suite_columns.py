"""A build suite validated on only the columns it names gives the same outcome as on the whole
table (the checks read those columns from the warehouse, not every column)."""

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
