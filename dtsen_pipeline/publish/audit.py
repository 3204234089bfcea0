"""The audit record of each publication (UU 27/2022 Pasal 31, PDP-04): who, when, what, how much.

`audit.run` has one row per published run and `audit.run_delivery` one row per delivered file
the run used. They are written in the publication's transaction, so an audit row exists exactly
when its tables were published.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.clock import utc_from_timestamp, utc_now
from dtsen_pipeline.warehouse import qualified, quote

AUDIT_SCHEMA = "audit"
RAW_SCHEMA = "raw"
DELIVERY_REGISTRY = "delivery"

SCHEDULE_TAG = "dagster/schedule_name"
SENSOR_TAG = "dagster/sensor_name"
BACKFILL_TAG = "dagster/backfill"
PARENT_RUN_TAG = "dagster/parent_run_id"
USER_TAG = "user"


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    job_name: str
    started_at: dt.datetime  # UTC
    triggered_by: str


def run_info_of(run_id: str, job_name: str, tags: Mapping[str, str], start_time: float | None) -> RunInfo:
    """A Dagster run as audit.run records it: id, job, start (UTC; now if it has none yet) and trigger."""
    started_at = utc_from_timestamp(start_time) if start_time else utc_now()
    return RunInfo(run_id=run_id, job_name=job_name, started_at=started_at,
                   triggered_by=describe_trigger(tags, getpass.getuser()))


def describe_trigger(tags: Mapping[str, str], os_user: str) -> str:
    """`schedule:<name>`, `sensor:<name>`, `backfill:<id>`, `retry-of:<run>`, `user:<who>`, else `manual:<os user>`."""
    parts = []
    for tag, label in ((SCHEDULE_TAG, "schedule"), (SENSOR_TAG, "sensor"), (BACKFILL_TAG, "backfill"),
                       (PARENT_RUN_TAG, "retry-of"), (USER_TAG, "user")):
        if tags.get(tag):
            parts.append(f"{label}:{tags[tag]}")
    if not any(p.split(":")[0] in ("schedule", "sensor", "backfill", "user") for p in parts):
        parts.append(f"manual:{os_user}")
    return "; ".join(parts)


def trigger_kind(triggered_by: str) -> str:
    """The kind alone (`schedule`, `sensor`, `manual`...), for metadata that must not name people."""
    return ",".join(dict.fromkeys(p.split(":")[0] for p in triggered_by.split("; ")))


def ensure_audit_tables(conn: sa.Connection) -> None:
    conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {quote(AUDIT_SCHEMA)}")
    conn.exec_driver_sql(
        f"CREATE TABLE IF NOT EXISTS {qualified(AUDIT_SCHEMA, 'run')} ("
        "run_id VARCHAR PRIMARY KEY, job_name VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, "
        "triggered_by VARCHAR, status VARCHAR, row_counts VARCHAR, deliveries BIGINT, delivered_rows BIGINT, "
        "history_runs INTEGER, pseudonym_key_id VARCHAR)")
    # Feeds whose new deliveries the quality gate held back (`feed:RULE,...;...`): added later.
    conn.exec_driver_sql(f"ALTER TABLE {qualified(AUDIT_SCHEMA, 'run')} ADD COLUMN IF NOT EXISTS held_back VARCHAR")
    # The golden tables' declared schema version and the column changes the run published (contract.py).
    for column in ("schema_version", "schema_change"):
        conn.exec_driver_sql(f"ALTER TABLE {qualified(AUDIT_SCHEMA, 'run')} ADD COLUMN IF NOT EXISTS {column} VARCHAR")
    conn.exec_driver_sql(
        f"CREATE TABLE IF NOT EXISTS {qualified(AUDIT_SCHEMA, 'run_delivery')} ("
        "run_id VARCHAR NOT NULL, feed VARCHAR NOT NULL, source_file VARCHAR NOT NULL, row_count BIGINT, detail VARCHAR)")


def _columns(conn: sa.Connection, schema: str, table: str) -> list[str]:
    return list(conn.execute(sa.text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = :s AND table_name = :t"),
        {"s": schema, "t": table}).scalars())


def _raw_tables(conn: sa.Connection) -> list[str]:
    rows = conn.execute(sa.text(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = :s AND column_name = 'source_file' "
        "ORDER BY table_name"), {"s": RAW_SCHEMA}).all()
    return [r[0] for r in rows if r[0] != DELIVERY_REGISTRY and not r[0].endswith("__new")]


def _raw_files(conn: sa.Connection) -> pd.DataFrame:
    """feed, source_file, row_count of every file whose records are in a raw table."""
    frames = []
    for table in _raw_tables(conn):
        frame = pd.DataFrame(conn.exec_driver_sql(
            f"SELECT source_file, count(*) FROM {qualified(RAW_SCHEMA, table)} GROUP BY source_file").all(),
            columns=["source_file", "row_count"])
        frame.insert(0, "feed", table)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["feed", "source_file", "row_count"])
    return pd.concat(frames, ignore_index=True)


def _jsonable(value: object) -> object:
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _registry_deliveries(conn: sa.Connection, columns: list[str]) -> pd.DataFrame:
    """The registry's deliveries in force (status `loaded` without an in_force column)."""
    where = "WHERE in_force" if "in_force" in columns else ("WHERE status = 'loaded'" if "status" in columns else "")
    registry = pd.DataFrame(conn.exec_driver_sql(
        f"SELECT * FROM {qualified(RAW_SCHEMA, DELIVERY_REGISTRY)} {where}").mappings().all(), columns=columns)
    if "records" in columns:
        counts = registry["records"]
    else:
        raw = _raw_files(conn).set_index(["feed", "source_file"])["row_count"].to_dict()
        names = registry["record_file"] if "record_file" in columns else registry["source_file"]
        counts = [raw.get((f, n)) for f, n in zip(registry["feed"], names, strict=True)]
    others = [c for c in columns if c not in ("feed", "source_file", "records")]
    return pd.DataFrame({
        "feed": registry["feed"], "source_file": registry["source_file"],
        "row_count": pd.array(counts, dtype="Int64"),
        "detail": [json.dumps({c: _jsonable(r[c]) for c in others}, sort_keys=True)
                   for r in registry[others].to_dict(orient="records")],
    })


def deliveries(conn: sa.Connection) -> pd.DataFrame:
    """feed, source_file, row_count and detail of every delivery the run used.

    With the delivery registry `raw.delivery`: its deliveries in force, with the registry's other
    columns (delivery_id, status, scope, first_seen...) as JSON in `detail`. Without it: every
    file whose records are in a raw table.
    """
    registry = _columns(conn, RAW_SCHEMA, DELIVERY_REGISTRY)
    if {"feed", "source_file"} <= set(registry):
        result = _registry_deliveries(conn, registry)
    else:
        result = _raw_files(conn)
        result["detail"] = None
    return result.sort_values(["feed", "source_file"], ignore_index=True)


def held_back_feeds(conn: sa.Connection, run_id: str) -> str:
    """`feed:RULE,RULE;...` of the feeds whose new deliveries this run's gate held back (quality.gate)."""
    if not _columns(conn, "quality", "gate"):
        return ""
    rows = conn.execute(sa.text(
        f"SELECT target, failed_rules FROM {qualified('quality', 'gate')} WHERE run_id = :r AND gate = 'staging' "
        "AND decision = 'held_back' ORDER BY target"), {"r": run_id}).all()
    return ";".join(f"{target}:{rules}" for target, rules in rows)


def write_audit(conn: sa.Connection, run: RunInfo, finished_at: dt.datetime, row_counts: dict[str, int],
                delivered: pd.DataFrame, history_runs: int, key_id: str, *, schema_version: str | None = None,
                schema_change: str | None = None) -> None:
    """Replace this run's audit rows (a re-published run id keeps one record)."""
    for table in ("run", "run_delivery"):
        conn.execute(sa.text(f"DELETE FROM {qualified(AUDIT_SCHEMA, table)} WHERE run_id = :r"), {"r": run.run_id})
    conn.execute(sa.text(
        f"INSERT INTO {qualified(AUDIT_SCHEMA, 'run')} (run_id, job_name, started_at, finished_at, triggered_by, "
        "status, row_counts, deliveries, delivered_rows, history_runs, pseudonym_key_id, held_back, schema_version, "
        "schema_change) VALUES (:run_id, :job, :started, :finished, :who, 'PUBLISHED', :counts, :n, :rows, :history, "
        ":key_id, :held, :schema_version, :schema_change)"),
        {"run_id": run.run_id, "job": run.job_name, "started": run.started_at, "finished": finished_at,
         "who": run.triggered_by, "counts": json.dumps(row_counts, sort_keys=True), "n": len(delivered),
         "rows": int(delivered["row_count"].fillna(0).sum()) if len(delivered) else 0, "history": history_runs,
         "key_id": key_id, "held": held_back_feeds(conn, run.run_id) or None, "schema_version": schema_version,
         "schema_change": schema_change})
    if len(delivered):
        conn.execute(sa.text(
            f"INSERT INTO {qualified(AUDIT_SCHEMA, 'run_delivery')} (run_id, feed, source_file, row_count, detail) "
            "VALUES (:r, :feed, :source_file, :rows, :detail)"),
            [{"r": run.run_id, "feed": d.feed, "source_file": d.source_file,
              "rows": None if pd.isna(d.row_count) else int(d.row_count), "detail": d.detail}
             for d in delivered.itertuples()])


def kept_runs(conn: sa.Connection, history_runs: int) -> list[str]:
    """The run ids whose snapshots history keeps: the last `history_runs` publications."""
    return list(conn.execute(sa.text(
        f"SELECT run_id FROM {qualified(AUDIT_SCHEMA, 'run')} WHERE status = 'PUBLISHED' "
        "ORDER BY finished_at DESC, run_id DESC LIMIT :n"), {"n": history_runs}).scalars())


def record_failed_run(engine: sa.Engine, run: RunInfo, failed_at: dt.datetime, failed_steps: list[str]) -> None:
    """`audit.run_failure`: a run that failed before publishing (Pasal 31: every processing run).

    Only step names are kept, never error messages (they may quote input values).
    """
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {quote(AUDIT_SCHEMA)}")
        conn.exec_driver_sql(
            f"CREATE TABLE IF NOT EXISTS {qualified(AUDIT_SCHEMA, 'run_failure')} ("
            "run_id VARCHAR PRIMARY KEY, job_name VARCHAR, started_at TIMESTAMP, failed_at TIMESTAMP, "
            "triggered_by VARCHAR, failed_steps VARCHAR)")
        conn.execute(sa.text(f"DELETE FROM {qualified(AUDIT_SCHEMA, 'run_failure')} WHERE run_id = :r"),
                     {"r": run.run_id})
        conn.execute(
            sa.text(f"INSERT INTO {qualified(AUDIT_SCHEMA, 'run_failure')} VALUES (:r, :j, :s, :f, :t, :steps)"),
            {"r": run.run_id, "j": run.job_name, "s": run.started_at, "f": failed_at, "t": run.triggered_by,
             "steps": json.dumps(sorted(set(failed_steps)))})
