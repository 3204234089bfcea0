"""Dagster assets, checks, jobs and schedules of dtsen_pipeline; keys mirror warehouse schema/table, and an
asset's group is its key's first component (the schema), so the lineage view groups a schema's tables."""
