"""GX's pandas metrics given only their domain's columns (quality.gx_domains) reach GX's own
outcomes: every suite of the project, on the session run's tables, with and without it; and
a column a suite names but the table lacks is still reported missing."""

import datetime as dt

import pytest

from dtsen_pipeline.ingest.feeds import load_feed_specs, person_feeds
from dtsen_pipeline.quality import gx_domains
from dtsen_pipeline.quality.gx_suites import run_suite, suite_path
from dtsen_pipeline.warehouse import read_table, table_exists

AS_OF = dt.date(2026, 12, 1)
SUITES = [("staging", feed) for feed in ("dtsen", "dukcapil", "pekon", "bansos", "verval")] + [
    ("build", table) for table in ("person", "household", "person_source")]


def _outcomes(frame, path, narrowed: bool):
    gx_domains.narrow_compute_domains(narrowed)
    try:
        return run_suite(frame, path, as_of=AS_OF, person_feeds=person_feeds(load_feed_specs())).outcomes
    finally:
        gx_domains.narrow_compute_domains(True)


@pytest.mark.parametrize(("schema", "table"), SUITES, ids=[f"{s}.{t}" for s, t in SUITES])
def test_every_suite_gives_gxs_own_outcomes(engine, schema, table):
    source = schema if table_exists(engine, schema, table) else "golden"  # build tables are published as golden
    frame = read_table(engine, source, table)
    path = suite_path(schema, table)

    narrowed, plain = _outcomes(frame, path, True), _outcomes(frame, path, False)

    assert narrowed == plain
    assert len(narrowed) > 3 and all(o.element_count is not None or o.unexpected_count is None for o in narrowed)
    if schema == "staging" and table != "verval":  # damaged deliveries: some warnings have unexpected rows
        assert any(o.unexpected_count for o in narrowed)


def test_a_missing_column_is_still_reported(engine):
    frame = read_table(engine, "staging", "dtsen").drop(columns=["nik"])
    path = suite_path("staging", "dtsen")
    narrowed, plain = _outcomes(frame, path, True), _outcomes(frame, path, False)
    assert narrowed == plain
    assert any(o.column == "nik" and not o.success for o in narrowed)


def test_only_column_domains_are_narrowed():
    assert gx_domains.domain_columns("column", {"column": "nik"}) == ["nik"]
    assert gx_domains.domain_columns("column_pair", {"column_A": "a", "column_B": "b"}) == ["a", "b"]
    assert gx_domains.domain_columns("multicolumn", {"column_list": ["a", "b", "c"]}) == ["a", "b", "c"]
    assert gx_domains.domain_columns("table", {}) is None
