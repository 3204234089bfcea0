"""Dagster assets, checks, jobs and schedules of dtsen_pipeline; keys mirror warehouse schema/table."""
