"""The warehouse, reached only through SQLAlchemy: DuckDB by default, PostgreSQL in production.

Tables are written whole and swapped in one transaction (`replace_table`), so a reader never
sees a half-written table, and a failure leaves the previous table intact. Bulk loads use each
engine's fast path (DuckDB: register the frame; PostgreSQL: COPY) because row-by-row inserts
through `to_sql` cannot carry a regency's nightly volume.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import threading
from collections.abc import Iterable, Iterator, Sequence

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from dtsen_pipeline.frames import arrow_to_pandas

_PG_TYPES = {
    "bool": "BOOLEAN",
    "int": "BIGINT",
    "float": "DOUBLE PRECISION",
    "datetime": "TIMESTAMP",
    "date": "DATE",
    "str": "TEXT",
}


DUCKDB_MEMORY_LIMIT = "2GB"
MEMORY_LIMIT_VARIABLE = "DTSEN_WAREHOUSE_MEMORY_LIMIT"  # read by WarehouseResource (settings)


def engine_for(url: str, memory_limit: str = DUCKDB_MEMORY_LIMIT) -> sa.Engine:
    """One engine per URL and process: DuckDB allows a single configuration per file.

    An embedded DuckDB warehouse is held to `memory_limit` (the pipeline passes
    DTSEN_WAREHOUSE_MEMORY_LIMIT): by default DuckDB keeps up to 80% of the machine's memory in
    its buffer pool, and the pages each SQL model read stayed there (the nightly run grew to
    8.8 GB at 640,000 persons). Beyond the limit it spills to `<file>.tmp`."""
    return _engine(url, memory_limit)


_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


@functools.cache
def _engine(url: str, memory_limit: str) -> sa.Engine:
    # A failed statement's error names its SQL, never its bound values: those are NIKs, names and
    # the pseudonym key's pads (publication), and errors reach the run's log (UU 27/2022).
    engine = sa.create_engine(url, hide_parameters=True)
    if engine.dialect.name != "duckdb":
        return engine
    if not _MEMORY.match(memory_limit.strip()):
        raise ValueError(f"{MEMORY_LIMIT_VARIABLE} must be an amount such as 2GB or 1500MB, got {memory_limit!r}")

    # Set on every new connection, not as an opening option: DuckDB refuses a second connection
    # to the same file with other opening options, and tools (and tests) open it plainly.
    @sa.event.listens_for(engine, "connect")
    def _limit_memory(dbapi_connection, _record) -> None:
        dbapi_connection.execute(f"SET memory_limit = '{memory_limit.strip()}'")

    _LIMITS[engine] = memory_limit.strip()
    return engine


_LIMITS: dict[sa.Engine, str] = {}  # each embedded DuckDB engine's memory limit (release_buffer_pool)
_EVICTING_LIMIT = "64MB"


def evict_cached_pages(connection, limit: str) -> bool:
    """Lower a DuckDB database's memory limit for a moment, then set it back to `limit`: DuckDB
    evicts cached pages and hands freed blocks back only under pressure, and a lower limit is
    that pressure. `connection`: a DuckDB connection (or DB-API wrapper) of that database. False
    when DuckDB could not evict (pages still in use): nothing is lost then."""
    import duckdb

    try:
        connection.execute(f"SET memory_limit = '{_EVICTING_LIMIT}'")
    except duckdb.Error:
        return False
    finally:
        connection.execute(f"SET memory_limit = '{limit}'")
    return True


def release_buffer_pool(engine: sa.Engine) -> bool:
    """Evict what an embedded DuckDB warehouse keeps cached, up to its memory limit, of the pages
    earlier steps read and wrote (`evict_cached_pages`). Without this every later step of the
    one-process nightly run starts on top of them (measured at 640,000 persons: 2.25 GB resident
    before linkage); a query that later needs a page reads it again from the file. False for other
    warehouses (nothing cached in this process) and when DuckDB could not evict."""
    limit = _LIMITS.get(engine)
    if limit is None:
        return False
    with engine.connect() as conn:
        return evict_cached_pages(conn.connection.dbapi_connection, limit)


# Catalog changes of one process take turns: feeds are ingested and staged on threads, and DuckDB
# refuses two concurrent transactions that create the same catalog entry (measured: two
# `CREATE SCHEMA IF NOT EXISTS staging` at once, a write-write conflict). Transactions that only
# write tables no other running transaction writes may run side by side (`table_transaction`).
_WRITES = threading.RLock()


@contextlib.contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """`engine.begin()`, one writer of this process at a time: for catalog changes (schemas,
    shared tables, new columns) and for writers that do not know what runs beside them."""
    with _WRITES, engine.begin() as conn:
        yield conn


@contextlib.contextmanager
def table_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """`engine.begin()` beside other writers, for a transaction that creates, fills, drops or
    renames only tables of its own and appends or deletes only its own rows of shared tables,
    in schemas that already exist (`ensure_schemas` first). A feed's large loads then no longer
    wait for another feed's (measured on the 640,000-person delivery: 3.3 s of waiting)."""
    with engine.begin() as conn:
        yield conn


def ensure_schemas(engine: sa.Engine, schemas: Iterable[str]) -> None:
    """Create the schemas that do not exist yet, taking turns with other catalog changes."""
    with write_transaction(engine) as conn:
        for schema in dict.fromkeys(schemas):
            ensure_schema(conn, schema)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """`value` as an SQL string literal (DuckDB, PostgreSQL and Spark SQL alike)."""
    return "'" + value.replace("'", "''") + "'"


def qualified(schema: str, table: str) -> str:
    return f"{quote(schema)}.{quote(table)}"


SCHEMA_LOCK_KEY = 6_2026_0016  # PostgreSQL advisory lock: one transaction at a time creates a schema


def ensure_schema(conn: sa.Connection, schema: str) -> None:
    """Create `schema` inside the caller's transaction if it does not exist.

    On PostgreSQL steps of one run write from processes of their own (`dtsen_pipeline.executor`),
    and two transactions creating the same schema at once make the second fail (a unique-key
    violation, IF NOT EXISTS notwithstanding). A transaction that finds the schema missing first
    waits for any other one creating a schema to end (a transaction-level advisory lock, taken
    only then: on a warehouse whose schemas exist, writers never wait for it)."""
    if conn.dialect.name == "postgresql":
        exists = conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = :schema)"),
                              {"schema": schema}).scalar_one()
        if exists:
            return
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
    conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")


def table_exists(bind: sa.Engine | sa.Connection, schema: str, table: str) -> bool:
    """Whether `schema.table` exists; on a connection, as its transaction sees it."""
    if isinstance(bind, sa.Connection):
        return sa.inspect(bind).has_table(table, schema=schema)
    with bind.connect() as conn:
        return sa.inspect(conn).has_table(table, schema=schema)


def byte_ordered(sql: str, dialect: str) -> str:
    """`sql` (text) compared as Python compares strings (code points): DuckDB compares byte by byte
    in UTF-8, which is that order; PostgreSQL by the database's collation unless told "C"."""
    return f'{sql} COLLATE "C"' if dialect == "postgresql" else sql


def _kind(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "str"


def _arrow_or_frame(df: pd.DataFrame) -> object:
    """The frame as an Arrow table when it converts (DuckDB scans Arrow about twice as fast as
    pandas' Arrow-backed strings), else the frame itself (object columns of mixed values)."""
    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return df


def _load_duckdb(conn: sa.Connection, df: pd.DataFrame, target: str, date_columns: Sequence[str]) -> None:
    raw = conn.connection.driver_connection
    view = "__dtsen_frame"
    raw.register(view, _arrow_or_frame(df))
    try:
        select = "*"
        if date_columns:
            casts = ", ".join(f"CAST({quote(c)} AS DATE) AS {quote(c)}" for c in date_columns)
            select = f"* REPLACE ({casts})"
        conn.exec_driver_sql(f"CREATE TABLE {target} AS SELECT {select} FROM {view}")
    finally:
        raw.unregister(view)


def _pg_value(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _load_postgres(conn: sa.Connection, df: pd.DataFrame, target: str, date_columns: Sequence[str]) -> None:
    kinds = {c: ("date" if c in date_columns else _kind(df[c])) for c in df.columns}
    ddl = ", ".join(f"{quote(c)} {_PG_TYPES[k]}" for c, k in kinds.items())
    conn.exec_driver_sql(f"CREATE TABLE {target} ({ddl})")
    if df.empty:
        return
    columns = ", ".join(quote(c) for c in df.columns)
    cursor = conn.connection.driver_connection.cursor()
    frame = df.astype(object).where(df.notna(), None)
    with cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
        for row in frame.itertuples(index=False, name=None):
            copy.write_row([_pg_value(v) for v in row])


def load_frame(conn: sa.Connection, df: pd.DataFrame, schema: str, table: str,
               date_columns: Sequence[str] = ()) -> None:
    """Create `schema.table` from a DataFrame inside the caller's transaction."""
    target = qualified(schema, table)
    if conn.dialect.name == "duckdb":
        _load_duckdb(conn, df, target, date_columns)
    else:
        _load_postgres(conn, df, target, date_columns)


def swap_in(conn: sa.Connection, schema: str, table: str, new_table: str) -> None:
    """Replace `schema.table` with `schema.new_table` inside the caller's transaction."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {qualified(schema, table)}")
    conn.exec_driver_sql(f"ALTER TABLE {qualified(schema, new_table)} RENAME TO {quote(table)}")


def replace_table(engine: sa.Engine, df: pd.DataFrame, schema: str, table: str,
                  date_columns: Sequence[str] = ()) -> int:
    """Publish `df` as `schema.table` atomically; returns the row count written."""
    staging_name = f"{table}__new"
    with write_transaction(engine) as conn:
        ensure_schema(conn, schema)
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {qualified(schema, staging_name)}")
        load_frame(conn, df, schema, staging_name, date_columns)
        swap_in(conn, schema, table, staging_name)
    return len(df)


def replace_table_from_sql(engine: sa.Engine, schema: str, table: str, select_sql: str) -> int:
    """Materialize a SELECT as `schema.table` atomically; returns the row count."""
    with write_transaction(engine) as conn:
        materialize(conn, schema, table, select_sql)
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {qualified(schema, table)}").scalar_one())


def materialize(conn: sa.Connection, schema: str, table: str, select_sql: str) -> None:
    """Replace `schema.table` with the SELECT's rows inside the caller's transaction (the SELECT
    may read that connection's temporary tables)."""
    staging_name = f"{table}__new"
    ensure_schema(conn, schema)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {qualified(schema, staging_name)}")
    conn.exec_driver_sql(f"CREATE TABLE {qualified(schema, staging_name)} AS {select_sql}")
    swap_in(conn, schema, table, staging_name)


def read_table(engine: sa.Engine, schema: str, table: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """The table (or its `columns`), through the warehouse's bulk path (`bulk_query`)."""
    cols = "*" if columns is None else ", ".join(quote(c) for c in columns)
    return bulk_query(engine, f"SELECT {cols} FROM {qualified(schema, table)}")


def bulk_query(bind: sa.Engine | sa.Connection, sql: str) -> pd.DataFrame:
    """A SELECT (no parameters) through the warehouse's own bulk path. DuckDB hands over its
    result as Arrow columns, taken straight into pandas' Arrow-backed strings (about 10 times
    faster than `pd.read_sql`, which builds a Python object per value: 0.6 s against 7 s for a
    night's 1.8 million person keys); PostgreSQL through `pd.read_sql`. The values are typed as
    `pd.read_sql` types them (dates as `datetime.date`, whole numbers with gaps as floats), so
    callers need not know the path. `bind`: an engine, or a connection whose temporary tables
    the query reads."""
    if isinstance(bind, sa.Connection):
        return _bulk_query_on(bind, sql)
    with bind.connect() as conn:
        return _bulk_query_on(conn, sql)


def _bulk_query_on(conn: sa.Connection, sql: str) -> pd.DataFrame:
    if conn.dialect.name != "duckdb":
        return pd.read_sql(sa.text(sql), conn)
    return arrow_to_pandas(conn.connection.driver_connection.sql(sql).to_arrow_table())


def column_names(engine: sa.Engine, schema: str, table: str) -> list[str]:
    """The table's columns, in order."""
    with engine.connect() as conn:
        return list(_column_types(conn, schema, table))


def read_columns(engine: sa.Engine, schema: str, table: str, wanted: Iterable[str]) -> pd.DataFrame:
    """The `wanted` columns the table has (a feed's staging table may lack some), in `wanted` order:
    reading only what a step uses is most of the time of reading a wide table."""
    present = set(column_names(engine, schema, table))
    return read_table(engine, schema, table, [c for c in wanted if c in present])


def read_table_if_exists(engine: sa.Engine, schema: str, table: str) -> pd.DataFrame | None:
    """The table, or None before its first run (history tables, registries)."""
    return read_table(engine, schema, table) if table_exists(engine, schema, table) else None


def _column_types(conn: sa.Connection, schema: str, table: str) -> dict[str, str]:
    """Column name -> SQL type, in table order (information_schema: DuckDB and PostgreSQL alike)."""
    rows = conn.execute(sa.text("SELECT column_name, data_type FROM information_schema.columns "
                                "WHERE table_schema = :schema AND table_name = :table ORDER BY ordinal_position"),
                        {"schema": schema, "table": table}).fetchall()
    return {str(name): str(kind) for name, kind in rows}


def append_table(engine: sa.Engine, frame: pd.DataFrame, schema: str, table: str,
                 unique_by: Sequence[str] = (), replace_run: str | None = None) -> int:
    """Add rows to a table kept across runs, in one transaction, without reading it back: the rows
    are loaded beside it and inserted, skipping those whose `unique_by` key is there already
    (earlier rows win); `replace_run` first deletes that run_id's rows (a run writing its rows
    again). A table not there yet, or whose columns are not the frame's (a column a newer version
    added), is written whole, old rows first. Returns the table's row count."""
    if unique_by:
        frame = frame.drop_duplicates(list(unique_by), keep="first")
    if not table_exists(engine, schema, table):
        return replace_table(engine, frame, schema, table)
    with engine.connect() as conn:
        types = _column_types(conn, schema, table)
    if set(types) != set(frame.columns):
        return _rewrite_appended(engine, frame, schema, table, unique_by, replace_run)
    with write_transaction(engine) as conn:
        target, side = qualified(schema, table), f"{table}__append"
        if replace_run is not None:
            conn.execute(sa.text(f"DELETE FROM {target} WHERE run_id = :run"), {"run": replace_run})
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {qualified(schema, side)}")
        load_frame(conn, frame, schema, side)
        names = ", ".join(quote(c) for c in types)
        values = ", ".join(f"CAST(n.{quote(c)} AS {kind}) AS {quote(c)}" for c, kind in types.items())
        new_only = "" if not unique_by else (
            f" WHERE NOT EXISTS (SELECT 1 FROM {target} AS t WHERE "
            + " AND ".join(f"t.{quote(c)} IS NOT DISTINCT FROM n.{quote(c)}" for c in unique_by) + ")")
        conn.exec_driver_sql(f"INSERT INTO {target} ({names}) SELECT {values} FROM {qualified(schema, side)} AS n"
                             + new_only)
        conn.exec_driver_sql(f"DROP TABLE {qualified(schema, side)}")
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {target}").scalar_one())


def _rewrite_appended(engine: sa.Engine, frame: pd.DataFrame, schema: str, table: str, unique_by: Sequence[str],
                      replace_run: str | None) -> int:
    """append_table for a table whose columns changed: old rows (a new column empty) and new rows
    written whole."""
    history = read_table(engine, schema, table)
    if replace_run is not None and "run_id" in history.columns:
        history = history[history["run_id"] != replace_run]
    frame = pd.concat([history, frame], ignore_index=True) if len(history) else frame
    if unique_by:
        frame = frame.drop_duplicates(list(unique_by), keep="first")
    return replace_table(engine, frame, schema, table)


def read_sql(engine: sa.Engine, sql: str, **params: object) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text(sql), conn, params=params)


def count_rows(engine: sa.Engine, schema: str, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {qualified(schema, table)}").scalar_one())


# Column types an export names, as Arrow, DuckDB and PostgreSQL spell them.
_EXPORT_TYPES = {"VARCHAR": (pa.string(), "VARCHAR", "TEXT"), "DATE": (pa.date32(), "DATE", "DATE"),
                 "BIGINT": (pa.int64(), "BIGINT", "BIGINT"), "BOOLEAN": (pa.bool_(), "BOOLEAN", "BOOLEAN"),
                 "DOUBLE": (pa.float64(), "DOUBLE", "DOUBLE PRECISION")}
EXPORT_BATCH_ROWS = 100_000


def export_parquet(engine: sa.Engine, select_sql: str, types: dict[str, str], path: str) -> int:
    """Write a SELECT's rows (its columns exactly `types`: name -> VARCHAR / DATE / BIGINT /
    BOOLEAN / DOUBLE) to one parquet file at `path` without holding them in this process: DuckDB
    copies them itself; PostgreSQL streams them through a server-side cursor, a batch at a time,
    into the file. Returns the rows written."""
    duckdb = engine.dialect.name == "duckdb"
    typed = ", ".join(f"CAST({quote(name)} AS {_EXPORT_TYPES[kind][1 if duckdb else 2]}) AS {quote(name)}"
                      for name, kind in types.items())
    sql = f"SELECT {typed} FROM ({select_sql}) AS exported"
    if duckdb:
        with engine.connect() as conn:  # COPY answers with the rows it wrote
            return int(conn.connection.driver_connection.execute(
                f"COPY ({sql}) TO {literal(path)} (FORMAT parquet)").fetchone()[0])
    import pyarrow.parquet as pq

    schema = pa.schema([(name, _EXPORT_TYPES[kind][0]) for name, kind in types.items()])
    rows = 0
    with engine.connect() as conn, pq.ParquetWriter(path, schema) as writer:
        result = conn.execution_options(stream_results=True, max_row_buffer=EXPORT_BATCH_ROWS).execute(sa.text(sql))
        while batch := result.fetchmany(EXPORT_BATCH_ROWS):
            columns = list(zip(*batch, strict=True))
            writer.write_table(pa.Table.from_arrays(
                [pa.array(values, type=field.type) for values, field in zip(columns, schema, strict=True)], schema=schema))
            rows += len(batch)
    return rows
