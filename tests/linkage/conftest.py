"""Fixtures of the Spark tests: whether Spark can run here, and the session sample's linkage input."""

import importlib.util
import os
import shutil

import pandas as pd
import pytest

from dtsen_pipeline.ingest.feeds import load_feed_specs, person_feeds
from dtsen_pipeline.linkage.prepare import STAGED_COLUMNS, linkage_input
from dtsen_pipeline.warehouse import read_columns


@pytest.fixture(scope="session")
def spark_ready():
    """Skip (CI unset) or fail (CI set) when pyspark or Java is missing: `.ci/run` installs Java,
    `make install` the `spark` extra."""
    missing = [what for what, ok in (("pyspark (the `spark` extra)", importlib.util.find_spec("pyspark") is not None),
                                     ("a Java runtime (`java`)", shutil.which("java") is not None)) if not ok]
    if missing:
        message = f"Splink's Spark backend needs {' and '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: the Spark backend is required)")
        pytest.skip(message + " (skipped because CI is unset)")


@pytest.fixture(scope="module")
def sample_records(engine) -> pd.DataFrame:
    """The session sample's staged person records, as the linkage step reads them."""
    staged = pd.concat([read_columns(engine, "staging", feed, STAGED_COLUMNS)
                        for feed in person_feeds(load_feed_specs())], ignore_index=True)
    return linkage_input(staged)
