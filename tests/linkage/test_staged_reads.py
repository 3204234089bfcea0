"""The linkage step reads only the staged columns it uses (`prepare.STAGED_COLUMNS`) and builds
the same linkage input and review context as from the whole staging tables."""

import pandas as pd
import pytest

from dtsen_pipeline.ingest.feeds import load_feed_specs, person_feeds
from dtsen_pipeline.linkage.prepare import STAGED_COLUMNS, linkage_input
from dtsen_pipeline.warehouse import read_columns, read_table

pytestmark = pytest.mark.slow


def test_the_pruned_staging_read_gives_the_same_linkage_input(engine):
    feeds = person_feeds(load_feed_specs())
    whole = pd.concat([read_table(engine, "staging", f) for f in feeds], ignore_index=True)
    pruned = pd.concat([read_columns(engine, "staging", f, STAGED_COLUMNS) for f in feeds], ignore_index=True)
    assert len(pruned.columns) < len(whole.columns)
    pd.testing.assert_frame_equal(linkage_input(whole), linkage_input(pruned))
    review = ["record_id", "feed", "nama", "nik", "no_kk", "kode_desa", "kode_kecamatan"]
    pd.testing.assert_frame_equal(whole[review], pruned[review])
