"""Publication moved to `dtsen_pipeline.publish` (atomic replacement, history, pseudonyms, roles, audit).

Kept so that older imports of the schema names keep working.
"""

from dtsen_pipeline.publish.publication import BUILD_SCHEMA, GOLDEN_SCHEMA, publish

__all__ = ["BUILD_SCHEMA", "GOLDEN_SCHEMA", "publish"]
