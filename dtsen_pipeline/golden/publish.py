"""Publish the checked build tables as the golden tables, all in one transaction.

The SQL models write to schema `build`; only after their blocking checks pass does this copy
them to schema `golden`, which downstream teams read. A failed run therefore never touches the
published tables, and readers see either the old set or the new set.
"""

from __future__ import annotations

import sqlalchemy as sa

from dtsen_pipeline.warehouse import ensure_schema, qualified, swap_in

BUILD_SCHEMA = "build"
GOLDEN_SCHEMA = "golden"
GOLDEN_TABLES = ("person", "person_source", "household")


def publish_golden(engine: sa.Engine, tables: tuple[str, ...] = GOLDEN_TABLES) -> dict[str, int]:
    """Copy every build table to the golden schema atomically; returns rows per table."""
    rows: dict[str, int] = {}
    with engine.begin() as conn:
        ensure_schema(conn, GOLDEN_SCHEMA)
        for table in tables:
            staging_name = f"{table}__new"
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {qualified(GOLDEN_SCHEMA, staging_name)}")
            conn.exec_driver_sql(f"CREATE TABLE {qualified(GOLDEN_SCHEMA, staging_name)} AS "
                                 f"SELECT * FROM {qualified(BUILD_SCHEMA, table)}")
        for table in tables:
            swap_in(conn, GOLDEN_SCHEMA, table, f"{table}__new")
            rows[table] = int(conn.exec_driver_sql(
                f"SELECT count(*) FROM {qualified(GOLDEN_SCHEMA, table)}").scalar_one())
    return rows
