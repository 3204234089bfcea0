"""Column lists of tables and queries, and keeping a published table's columns in step.

Publication never drops and recreates a golden table (a reader holding an older snapshot would
then see it empty); when a model gains, loses or retypes a column, the published table is
altered in place instead: ADD COLUMN, DROP COLUMN, and a type change as drop + add. None of
these rewrite the table, so the old rows stay visible to older snapshots until commit. History
tables only ever gain columns; a retyped column's history is kept as text.
"""

from __future__ import annotations

import sqlalchemy as sa

from dtsen_pipeline.warehouse import qualified, quote

Columns = list[tuple[str, str]]  # (name, type as the warehouse spells it)
_PROBE = "__dtsen_probe"


def text_type(conn: sa.Connection) -> str:
    return "VARCHAR" if conn.dialect.name == "duckdb" else "text"


def table_columns(conn: sa.Connection, schema: str, table: str) -> Columns | None:
    """The table's or view's columns in order, or None when it does not exist."""
    if conn.dialect.name == "duckdb":
        rows = conn.execute(sa.text(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = :s AND table_name = :t ORDER BY column_index"), {"s": schema, "t": table}).all()
        return [(r[0], r[1]) for r in rows] or None
    oid = conn.execute(sa.text("SELECT to_regclass(:q)::oid"), {"q": qualified(schema, table)}).scalar()
    if oid is None:
        return None
    rows = conn.execute(sa.text(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = :oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum"), {"oid": oid}).all()
    return [(r[0], r[1]) for r in rows]


def query_columns(conn: sa.Connection, select_sql: str) -> Columns:
    """The columns a SELECT would produce, without running it."""
    if conn.dialect.name == "duckdb":
        return [(r[0], r[1]) for r in conn.exec_driver_sql(f"DESCRIBE {select_sql}").all()]
    conn.exec_driver_sql(f"CREATE TEMP TABLE {quote(_PROBE)} AS {select_sql} LIMIT 0")
    try:
        oid = conn.exec_driver_sql(f"SELECT '{_PROBE}'::regclass::oid").scalar_one()
        rows = conn.execute(sa.text(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = :oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum"), {"oid": oid}).all()
    finally:
        conn.exec_driver_sql(f"DROP TABLE {quote(_PROBE)}")
    return [(r[0], r[1]) for r in rows]


def sync_columns(conn: sa.Connection, schema: str, table: str, current: Columns, wanted: Columns) -> list[str]:
    """Alter `schema.table` from `current` to `wanted` columns; returns the changes made."""
    have, want = dict(current), dict(wanted)
    target = qualified(schema, table)
    changes = []
    for name, kind in current:
        if name not in want or want[name] != kind:
            conn.exec_driver_sql(f"ALTER TABLE {target} DROP COLUMN {quote(name)}")
            changes.append(f"drop {name}")
    for name, kind in wanted:
        if name not in have or have[name] != kind:
            conn.exec_driver_sql(f"ALTER TABLE {target} ADD COLUMN {quote(name)} {kind}")
            changes.append(f"add {name} {kind}")
    return changes


def extend_history(conn: sa.Connection, schema: str, table: str, current: Columns, wanted: Columns) -> Columns:
    """Add the columns history lacks; turn a column whose type changed into text. Returns its columns."""
    have = dict(current)
    target = qualified(schema, table)
    text = text_type(conn)
    for name, kind in wanted:
        if name not in have:
            conn.exec_driver_sql(f"ALTER TABLE {target} ADD COLUMN {quote(name)} {kind}")
            have[name] = kind
        elif have[name] != kind and have[name] != text:
            conn.exec_driver_sql(f"ALTER TABLE {target} ALTER COLUMN {quote(name)} TYPE {text} "
                                 f"USING CAST({quote(name)} AS {text})")
            have[name] = text
    return list(have.items())
