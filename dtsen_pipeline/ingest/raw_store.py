"""The warehouse side of ingestion: the delivery registry `raw.delivery` and the raw tables.

`raw.<feed>` keeps the records of every loaded delivery (column `delivery_id`), so a delivery
stays available after its file is replaced or removed; staging reads only the deliveries in
force. A feed's new records and its registry rows are written in one transaction: a failure
leaves both as they were. DuckDB gets an Arrow fast path for the large reads and writes; every
other dialect goes through SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from dtsen_pipeline.clock import utc_now
from dtsen_pipeline.ingest.deliveries import Delivery, mark_superseded, registry_frame, registry_from_frame
from dtsen_pipeline.ingest.feeds import FeedSpec
from dtsen_pipeline.ingest.raw_records import INT_COLUMNS, JUNK_COLUMN, STR_DTYPE, empty_raw_frame
from dtsen_pipeline.warehouse import (
    bulk_query,
    ensure_schema,
    literal,
    load_frame,
    qualified,
    quote,
    table_exists,
    table_transaction,
    write_transaction,
)

RAW_SCHEMA = "raw"
REGISTRY_TABLE = "delivery"
_REGISTRY_DDL = {
    "feed": "TEXT", "delivery_id": "TEXT", "source_file": "TEXT", "record_file": "TEXT", "status": "TEXT",
    "records": "BIGINT", "size": "BIGINT", "mtime": "DOUBLE PRECISION", "first_seen": "TIMESTAMP",
    "first_run": "TEXT", "scope": "TEXT", "problem": "TEXT", "note": "TEXT", "in_force": "BOOLEAN",
    "arrived": "TIMESTAMP", "superseded": "TIMESTAMP",
}
ACCEPTANCE_TABLE = "delivery_acceptance"  # suspect deliveries an operator accepted (`dtsen accept`)
REQUIRED_RAW_COLUMNS = ("delivery_id", JUNK_COLUMN)


def _registry() -> str:
    return qualified(RAW_SCHEMA, REGISTRY_TABLE)


def _ensure_registry(conn: sa.Connection) -> None:
    ensure_schema(conn, RAW_SCHEMA)
    columns = ", ".join(f"{quote(c)} {t}" for c, t in _REGISTRY_DDL.items())
    conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {_registry()} ({columns})")
    present = set(_columns(conn, REGISTRY_TABLE))
    for column, kind in _REGISTRY_DDL.items():  # a registry written by an earlier version
        if column not in present:
            conn.exec_driver_sql(f"ALTER TABLE {_registry()} ADD COLUMN {quote(column)} {kind}")


def _has_table(conn: sa.Connection, table: str) -> bool:
    return table_exists(conn, RAW_SCHEMA, table)


def _columns(conn: sa.Connection, table: str) -> list[str]:
    return [c["name"] for c in sa.inspect(conn).get_columns(table, schema=RAW_SCHEMA)]


def load_registry(engine: sa.Engine, feed: str) -> list[Delivery]:
    """Every registry entry of the feed (empty before its first run)."""
    with engine.connect() as conn:
        if not _has_table(conn, REGISTRY_TABLE):
            return []
        frame = pd.read_sql(sa.text(f"SELECT * FROM {_registry()} WHERE feed = :feed"), conn,
                            params={"feed": feed})
    return registry_from_frame(frame)


def registered_files(engine: sa.Engine) -> list[tuple[str, int, float]]:
    """(source_file, size, mtime) of every registry entry of every feed: the files runs have examined."""
    with engine.connect() as conn:
        if not _has_table(conn, REGISTRY_TABLE):
            return []
        rows = conn.execute(sa.text(f"SELECT source_file, size, mtime FROM {_registry()}")).all()
    return [(str(f), int(size), float(mtime)) for f, size, mtime in rows]


def accept_delivery(engine: sa.Engine, feed: str, source_file: str, delivery_id: str, accepted_by: str) -> None:
    """Record that an operator accepts this content of this file although it looked suspect."""
    table = qualified(RAW_SCHEMA, ACCEPTANCE_TABLE)
    with write_transaction(engine) as conn:
        ensure_schema(conn, RAW_SCHEMA)
        conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {table} (feed TEXT, source_file TEXT, delivery_id TEXT, "
                             "accepted_at TIMESTAMP, accepted_by TEXT)")
        conn.execute(sa.text(f"DELETE FROM {table} WHERE feed = :f AND source_file = :s AND delivery_id = :d"),
                     {"f": feed, "s": source_file, "d": delivery_id})
        conn.execute(sa.text(f"INSERT INTO {table} VALUES (:f, :s, :d, :at, :by)"),
                     {"f": feed, "s": source_file, "d": delivery_id, "by": accepted_by,
                      "at": pd.Timestamp.now("UTC").tz_localize(None).to_pydatetime()})


def accepted_deliveries(engine: sa.Engine, feed: str) -> set[tuple[str, str]]:
    """(source_file, delivery_id) of the feed's deliveries an operator accepted."""
    with engine.connect() as conn:
        if not _has_table(conn, ACCEPTANCE_TABLE):
            return set()
        rows = conn.execute(sa.text(f"SELECT source_file, delivery_id FROM {qualified(RAW_SCHEMA, ACCEPTANCE_TABLE)} "
                                    "WHERE feed = :f"), {"f": feed}).all()
    return {(r[0], r[1]) for r in rows}


def _insert(conn: sa.Connection, frame: pd.DataFrame, table: str) -> None:
    """Append `frame` to raw.<table> by column name."""
    target = qualified(RAW_SCHEMA, table)
    names = ", ".join(quote(c) for c in frame.columns)
    if conn.dialect.name == "duckdb":
        driver = conn.connection.driver_connection
        view = "__dtsen_incoming"
        driver.register(view, pa.Table.from_pandas(frame, preserve_index=False))  # Arrow scan: no copy
        try:
            conn.exec_driver_sql(f"INSERT INTO {target} ({names}) SELECT {names} FROM {view}")
        finally:
            driver.unregister(view)
        return
    incoming = f"{table}__incoming"
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {qualified(RAW_SCHEMA, incoming)}")
    load_frame(conn, frame, RAW_SCHEMA, incoming)
    conn.exec_driver_sql(f"INSERT INTO {target} ({names}) SELECT {names} FROM {qualified(RAW_SCHEMA, incoming)}")
    conn.exec_driver_sql(f"DROP TABLE {qualified(RAW_SCHEMA, incoming)}")


def reset_if_outdated(engine: sa.Engine, feed: str) -> bool:
    """Drop raw.<feed> and the feed's registry rows when the table predates the registry or the
    stored junk reasons, so the landing folder is read again; True when it did."""
    def current(conn: sa.Connection) -> bool:
        return not _has_table(conn, feed) or set(REQUIRED_RAW_COLUMNS) <= set(_columns(conn, feed))

    with engine.connect() as conn:  # the usual answer, without queueing behind other feeds' writes
        if current(conn):
            return False
    with write_transaction(engine) as conn:
        if current(conn):
            return False
        conn.exec_driver_sql(f"DROP TABLE {qualified(RAW_SCHEMA, feed)}")
        if _has_table(conn, REGISTRY_TABLE):
            conn.execute(sa.text(f"DELETE FROM {_registry()} WHERE feed = :feed"), {"feed": feed})
    return True


def _prepare_raw_table(conn: sa.Connection, spec: FeedSpec, frames: list[pd.DataFrame]) -> None:
    """Create raw.<feed>, then add the columns new deliveries bring, as text."""
    if not _has_table(conn, spec.name):
        load_frame(conn, empty_raw_frame(spec), RAW_SCHEMA, spec.name)
    # DuckDB matches column names ignoring case (PostgreSQL's quoted names do not): a raw table
    # written before extra headers were normalised may hold `Keterangan` when `keterangan` comes.
    fold = str.lower if conn.dialect.name == "duckdb" else str
    present = {fold(c) for c in _columns(conn, spec.name)}
    for frame in frames:
        for column in frame.columns:
            if fold(column) not in present:
                conn.exec_driver_sql(
                    f"ALTER TABLE {qualified(RAW_SCHEMA, spec.name)} ADD COLUMN {quote(column)} TEXT")
                present.add(fold(column))


def save_feed(engine: sa.Engine, spec: FeedSpec, registry: list[Delivery], frames: list[pd.DataFrame],
              now: pd.Timestamp | None = None) -> int:
    """Append the new deliveries' records and replace the feed's registry rows, in one transaction.

    The tables (and columns new deliveries bring) are created first, taking turns with other
    catalog changes; the records, this feed's own, are then written beside other feeds' writes.
    Deliveries that left force are dated `now` (`deliveries.mark_superseded`).
    """
    with write_transaction(engine) as conn:
        _ensure_registry(conn)
        _prepare_raw_table(conn, spec, frames)
    with table_transaction(engine) as conn:
        if frames:  # one insert: many small files (one per pekon) cost one statement each otherwise
            _insert(conn, frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True), spec.name)
        _replace_registry(conn, spec.name, registry, now)
    return sum(len(f) for f in frames)


def _replace_registry(conn: sa.Connection, feed: str, registry: list[Delivery], now: pd.Timestamp | None) -> None:
    conn.execute(sa.text(f"DELETE FROM {_registry()} WHERE feed = :feed"), {"feed": feed})
    if registry:
        stamp = pd.Timestamp(now if now is not None else utc_now()).as_unit("us")  # naive UTC, as stored
        _insert(conn, registry_frame(mark_superseded(registry, stamp)), REGISTRY_TABLE)


def remove_deliveries(engine: sa.Engine, spec: FeedSpec, registry: list[Delivery], delivery_ids: set[str],
                      now: pd.Timestamp | None = None) -> int:
    """Write the registry and take these deliveries' records out of raw.<feed>, in one transaction;
    returns the records removed. After a hold-back (`deliveries.hold_back`): a held-back file still
    in the landing folder is read again next run, as a rejected one is, and must not be there
    twice. After the raw retention (`ingest.retention`): the records of long-superseded deliveries."""
    with table_transaction(engine) as conn:
        where = f"FROM {qualified(RAW_SCHEMA, spec.name)} WHERE delivery_id IN ({_id_list(sorted(delivery_ids))})"
        removed = int(conn.exec_driver_sql(f"SELECT count(*) {where}").scalar_one())  # rowcount: -1 on DuckDB
        conn.exec_driver_sql(f"DELETE {where}")
        _replace_registry(conn, spec.name, registry, now)
    return removed


def _id_list(delivery_ids: list[str]) -> str:
    """Delivery ids as SQL string literals for `IN (...)` (NULL when none: matches nothing)."""
    return ", ".join(literal(d) for d in delivery_ids) or "NULL"


def _in_force_filter(placeholder: str = ":feed") -> str:
    return f"delivery_id IN (SELECT delivery_id FROM {_registry()} WHERE feed = {placeholder} AND in_force)"


def read_in_force(engine: sa.Engine, spec: FeedSpec, loaded: Mapping[str, pd.DataFrame] | None = None
                  ) -> pd.DataFrame:
    """The raw records of the feed's deliveries in force, in file and row order.

    `loaded`: records this process has just saved (`IntakeResult.loaded`, by delivery_id); those
    in force are taken from memory, the rest read from the warehouse. Same result either way.
    """
    loaded = loaded or {}
    with engine.connect() as conn:
        if not (_has_table(conn, spec.name) and _has_table(conn, REGISTRY_TABLE)):
            return empty_raw_frame(spec)
        columns = _columns(conn, spec.name)
        in_force = [r[0] for r in conn.execute(sa.text(f"SELECT delivery_id FROM {_registry()} "
                                                        "WHERE feed = :feed AND in_force"), {"feed": spec.name})]
    fresh = sorted((loaded[d] for d in in_force if d in loaded), key=lambda f: str(f["source_file"].iloc[0]))
    stored = [d for d in in_force if d not in loaded]
    if stored or not fresh:
        blocks = [*fresh, read_stored(engine, spec, stored)]
        frame = pd.concat(blocks, ignore_index=True) if fresh else blocks[0]
        if fresh:  # deliveries are whole files: order by file, each file in its row order
            frame = frame.sort_values(["source_file", "source_row"], kind="stable", ignore_index=True)
    else:  # each loaded delivery is one file, already in row order
        frame = fresh[0] if len(fresh) == 1 else pd.concat(fresh, ignore_index=True)
    frame = frame.reindex(columns=columns)
    for column in frame.columns:
        if column in INT_COLUMNS:
            frame[column] = frame[column].astype("int64")
        elif frame[column].dtype != STR_DTYPE:
            frame[column] = frame[column].astype(STR_DTYPE)
    return frame


def read_stored(engine: sa.Engine, spec: FeedSpec, delivery_ids: list[str]) -> pd.DataFrame:
    """Records of these deliveries from raw.<feed>, in file and row order."""
    sql = (f"SELECT * FROM {qualified(RAW_SCHEMA, spec.name)} WHERE delivery_id IN ({_id_list(delivery_ids)}) "
           "ORDER BY source_file, source_row")
    return bulk_query(engine, sql)


def count_in_force(engine: sa.Engine, feed: str) -> int:
    """How many raw records the feed's deliveries in force hold (rows in, for no_row_lost)."""
    with engine.connect() as conn:
        if not (_has_table(conn, feed) and _has_table(conn, REGISTRY_TABLE)):
            return 0
        sql = f"SELECT count(*) FROM {qualified(RAW_SCHEMA, feed)} WHERE {_in_force_filter()}"
        return int(conn.execute(sa.text(sql), {"feed": feed}).scalar_one())


def count_raw(engine: sa.Engine, feed: str) -> int:
    """Every record raw.<feed> holds, superseded deliveries included."""
    with engine.connect() as conn:
        if not _has_table(conn, feed):
            return 0
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {qualified(RAW_SCHEMA, feed)}").scalar_one())
