"""Data-quality suites (Great Expectations 1.x) kept as JSON files in `expectations/`."""
