"""dtsen_pipeline: agency feeds -> quality suites -> record linkage -> golden tables for DTSEN targeting."""

__version__ = "0.1.0"
