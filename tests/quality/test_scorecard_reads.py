"""The scorecard reads only what it counts (the staged columns it needs, the raw rows of the
quarantined records) and gets the same figures as from the whole tables."""

import pandas as pd
import pytest
import sqlalchemy as sa

from assets.quality import PERSON_FEEDS, _quarantined_raw, _staged_for_scorecard
from dtsen_pipeline.quality import scorecard as sc
from dtsen_pipeline.warehouse import read_table, replace_table

pytestmark = pytest.mark.slow


@pytest.fixture
def warehouse_with_quarantined_records(engine, tmp_path):
    """The session run's staging, raw and quarantine tables, with 40 staged records of each feed
    moved to quarantine as MISSING_NAME (the samples quarantine junk rows only, which the
    scorecard does not count)."""
    copy = sa.create_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    quarantine = [read_table(engine, "quality", "quarantine")]
    for feed in PERSON_FEEDS:
        staged, raw = read_table(engine, "staging", feed), read_table(engine, "raw", feed)
        moved = staged.iloc[::max(len(staged) // 40, 1)].head(40)
        quarantine.append(pd.DataFrame({"feed": feed, "source_file": moved["source_file"],
                                        "source_row": moved["source_row"], "reason": "MISSING_NAME",
                                        "detail": None}))
        replace_table(copy, staged.drop(moved.index), "staging", feed)
        replace_table(copy, raw, "raw", feed)
    replace_table(copy, pd.concat(quarantine, ignore_index=True), "quality", "quarantine")
    yield copy
    copy.dispose()


def test_pruned_reads_give_the_same_scorecard(warehouse_with_quarantined_records):
    engine = warehouse_with_quarantined_records
    quarantine = read_table(engine, "quality", "quarantine")
    whole = {feed: sc.record_frame(feed, read_table(engine, "staging", feed), quarantine,
                                   read_table(engine, "raw", feed), spec) for feed, spec in PERSON_FEEDS.items()}
    pruned = {feed: sc.record_frame(feed, _staged_for_scorecard(engine, feed), quarantine,
                                    _quarantined_raw(engine, feed, spec), spec) for feed, spec in PERSON_FEEDS.items()}
    for feed in PERSON_FEEDS:
        assert int(whole[feed]["missing_name"].sum()) == 40  # the quarantined records are counted, in place
        assert whole[feed].loc[whole[feed]["missing_name"], "kode_kecamatan"].notna().all()
        pd.testing.assert_frame_equal(whole[feed].reset_index(drop=True), pruned[feed].reset_index(drop=True))
    when = pd.Timestamp("2026-12-05")
    pd.testing.assert_frame_equal(sc.scorecard(whole, "r", when, {}), sc.scorecard(pruned, "r", when, {}))
