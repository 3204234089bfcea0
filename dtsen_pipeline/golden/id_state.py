"""The identity steps' warehouse side: read this run's groups and last run's state, write both.

Two steps run inside the SQL chain: person ids right after linkage (`identity.person_id`:
cluster -> person_id, read by intermediate.person_record) and household ids once each
person's No. KK has survived (`identity.household_id`: No. KK -> household_id). Each writes the
state the *next* run should match against into schema `identity`; `write_id_state` copies it to
`golden_state` inside the publication's own transaction (`publish(..., also=write_id_state)`),
so the ids move on exactly when the golden tables carrying them are published: a run that fails
or is killed before the commit leaves both as they were, and one killed after it has already
committed the state, so the next run never hands a published id to someone else (issue #14).
Nothing here logs keys, NIKs or No. KK: only counts and ids.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.clock import utc_now
from dtsen_pipeline.golden.identity import (
    ACTIVE,
    CHANGE_COLUMNS,
    REGISTRY_COLUMNS,
    STATE_COLUMNS,
    Assignment,
    assign_ids,
    empty_changes,
    empty_registry,
    empty_state,
    household_units,
    person_units,
)
from dtsen_pipeline.warehouse import (
    bulk_query,
    ensure_schema,
    qualified,
    read_table,
    replace_table,
    swap_in,
    table_exists,
)

IDENTITY_SCHEMA = "identity"
STATE_SCHEMA = "golden_state"
PERSON, HOUSEHOLD = "PERSON", "HOUSEHOLD"
PREFIX = {PERSON: "P", HOUSEHOLD: "H"}
# change_run_id, not run_id: publication stamps every golden row with the publishing run's run_id.
ID_CHANGE_COLUMNS = ("change_run_id", "subject_type", "kind", "old_id", "new_id", "units", "recorded_at")
_STATE_TABLE = {PERSON: "person_key", HOUSEHOLD: "household_key"}
_REGISTRY_TABLE = {PERSON: "person_registry", HOUSEHOLD: "household_registry"}
_CHANGE_TABLE = {PERSON: "person_change", HOUSEHOLD: "household_change"}


def _text(df: pd.DataFrame, ints: tuple[str, ...] = ()) -> pd.DataFrame:
    """Typed columns for the warehouse (empty object columns have no type DuckDB can infer)."""
    out = df.copy()
    for column in out.columns:
        if column in ints:
            out[column] = out[column].astype("int64")
        elif not pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].astype("string")
    return out


def _previous(engine: sa.Engine, subject: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Last published run's keys and registry for persons or households (empty on a first run)."""
    state = (read_table(engine, STATE_SCHEMA, _STATE_TABLE[subject], STATE_COLUMNS)
             if table_exists(engine, STATE_SCHEMA, _STATE_TABLE[subject]) else empty_state())
    if table_exists(engine, STATE_SCHEMA, "id_registry"):
        registry = bulk_query(engine, "SELECT " + ", ".join(REGISTRY_COLUMNS) +
                              f" FROM golden_state.id_registry WHERE subject_type = '{subject}'")
        registry = registry.astype({c: "object" for c in REGISTRY_COLUMNS if c != "seq"})
        registry["seq"] = registry["seq"].astype("int64")
    else:
        registry = empty_registry()
    return state, registry  # Arrow strings: millions of keys as Python objects cost several times more


def _assign_and_write(engine: sa.Engine, subject: str, units: pd.DataFrame, run_id: str, group_column: str,
                      id_column: str, previous: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> Assignment:
    """Ids for this run's units against the last published state, written to identity.<id_column>
    (one row per group) with the new keys, registry and changes."""
    state, registry = previous if previous is not None else _previous(engine, subject)
    out = assign_ids(units, state, registry, prefix=PREFIX[subject], run_id=run_id)
    ids = out.ids.rename(columns={"group": group_column, "id": id_column})
    replace_table(engine, _text(ids), IDENTITY_SCHEMA, id_column)
    replace_table(engine, _text(out.state), IDENTITY_SCHEMA, _STATE_TABLE[subject])
    replace_table(engine, _text(out.registry, ints=("seq",)), IDENTITY_SCHEMA, _REGISTRY_TABLE[subject])
    replace_table(engine, _text(out.changes, ints=("units",)), IDENTITY_SCHEMA, _CHANGE_TABLE[subject])
    return out


def _staged_keys(engine: sa.Engine, feeds: tuple[str, ...]) -> str:
    # The birth date as text: the same 'YYYY-MM-DD' whatever the warehouse or the read path, so the
    # digest of a record without NIK (feed, name key, birth date) stays the key it was.
    parts = [f"SELECT record_id, nik, feed, name_key, CAST(tgl_lahir AS VARCHAR) AS tgl_lahir "
             f"FROM {qualified('staging', f)}" for f in feeds
             if table_exists(engine, "staging", f)]
    if not parts:
        raise ValueError("no staged person feed to read NIKs from")
    return " UNION ALL ".join(parts)


def key_digest_sql(kind: str, text_sql: str, dialect: str) -> str:
    """SQL giving `identity.key_digest(kind, value)` of the text `text_sql`: the warehouse hashes
    the keys instead of Python (1.7 s of each id step at 640,000 persons). The same SHA-256 of the
    UTF-8 text, its first 24 hex digits: the keys, and so the ids, are those Python gives."""
    hashed = f"'{kind}:' || {text_sql}"
    if dialect == "postgresql":
        hex_digest = f"encode(sha256(convert_to({hashed}, 'UTF8')), 'hex')"
    elif dialect == "duckdb":
        hex_digest = f"sha256({hashed})"
    else:
        raise ValueError(f"no SHA-256 for warehouse dialect {dialect!r}")
    return f"'{kind}:' || substr({hex_digest}, 1, 24)"


def _record_key_columns(dialect: str, nik: str) -> str:
    """nik_key and who_key (`identity.record_units`) of each record, as SELECT items; `nik`: the
    NIK column to hash, feed, name key and birth date come from the staged keys `s` (`_staged_keys`)."""
    who = "s.feed || '|' || s.name_key || '|' || s.tgl_lahir"
    return (f"{key_digest_sql('nik', nik, dialect)} AS nik_key, "
            f"CASE WHEN {nik} IS NULL THEN {key_digest_sql('who', who, dialect)} END AS who_key")


def person_identity(engine: sa.Engine, run_id: str, feeds: tuple[str, ...]) -> dict[str, int]:
    """identity.person_id: a stable person id for every linkage cluster of this run; `feeds`: the
    person feeds (`feeds.person_feeds`)."""
    keys = _record_key_columns(engine.dialect.name, "s.nik")
    records = bulk_query(engine, f"SELECT c.record_id, c.cluster_id, s.nik, s.feed, s.name_key, s.tgl_lahir, {keys} "
                       f"FROM linkage.person_cluster AS c LEFT JOIN ({_staged_keys(engine, feeds)}) AS s "
                       "ON s.record_id = c.record_id")
    previous = _previous(engine, PERSON)  # read once: at 640,000 persons the keys are millions of rows
    previous_active = int((previous[1]["status"] == ACTIVE).sum())
    stats = _assign_and_write(engine, PERSON, person_units(records), run_id, "cluster_id", "person_id",
                              previous).stats()
    return {**stats, "previous_active": previous_active}


def household_identity(engine: sa.Engine, run_id: str, feeds: tuple[str, ...]) -> dict[str, int]:
    """identity.household_id: a stable household id for every surviving No. KK of this run,
    and identity.id_change: every id change so far (last published history + this run).
    `feeds`: the person feeds (`feeds.person_feeds`)."""
    dialect = engine.dialect.name
    keys = _record_key_columns(dialect, "r.nik")
    records = bulk_query(engine, f"SELECT r.record_id, r.nik, k.no_kk, s.feed, s.name_key, s.tgl_lahir, {keys}, "
                       f"{key_digest_sql('kk', 'k.no_kk', dialect)} AS kk_key "
                       "FROM intermediate.person_record AS r JOIN intermediate.person_kk AS k "
                       f"ON k.person_id = r.person_id LEFT JOIN ({_staged_keys(engine, feeds)}) AS s "
                       "ON s.record_id = r.record_id")
    out = _assign_and_write(engine, HOUSEHOLD, household_units(records), run_id, "no_kk", "household_id")
    replace_table(engine, _cumulative_changes(engine, out.changes), IDENTITY_SCHEMA, "id_change")
    return out.stats()


def _cumulative_changes(engine: sa.Engine, household_changes: pd.DataFrame) -> pd.DataFrame:
    now = utc_now()
    person_changes = (read_table(engine, IDENTITY_SCHEMA, _CHANGE_TABLE[PERSON], CHANGE_COLUMNS)
                      if table_exists(engine, IDENTITY_SCHEMA, _CHANGE_TABLE[PERSON]) else empty_changes())
    this_run = pd.concat([person_changes.assign(subject_type=PERSON),
                          household_changes.assign(subject_type=HOUSEHOLD)], ignore_index=True)
    this_run = this_run.rename(columns={"run_id": "change_run_id"})
    this_run["recorded_at"] = pd.Series([now] * len(this_run), dtype="datetime64[us]")
    frames = [this_run[list(ID_CHANGE_COLUMNS)]]
    if table_exists(engine, STATE_SCHEMA, "id_change"):
        history = read_table(engine, STATE_SCHEMA, "id_change", ID_CHANGE_COLUMNS)
        history["recorded_at"] = pd.to_datetime(history["recorded_at"]).astype("datetime64[us]")
        frames.insert(0, history)
    changes = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return _text(changes, ints=("units",))


def write_id_state(conn: sa.Connection) -> dict[str, int]:
    """This run's keys, registry and change history become golden_state, on the caller's
    connection and in its transaction (the publication's), for the next run to match against.
    Returns row counts."""
    selects = {
        "person_key": 'SELECT "key", "id" FROM identity.person_key',
        "household_key": 'SELECT "key", "id" FROM identity.household_key',
        "id_registry": " UNION ALL ".join(
            f"SELECT '{subject}' AS subject_type, {', '.join(REGISTRY_COLUMNS)} FROM identity.{table}"
            for subject, table in _REGISTRY_TABLE.items()),
        "id_change": f"SELECT {', '.join(ID_CHANGE_COLUMNS)} FROM identity.id_change",
    }
    rows: dict[str, int] = {}
    ensure_schema(conn, STATE_SCHEMA)
    for table, select in selects.items():
        new = f"{table}__new"
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {qualified(STATE_SCHEMA, new)}")
        conn.exec_driver_sql(f"CREATE TABLE {qualified(STATE_SCHEMA, new)} AS {select}")
        swap_in(conn, STATE_SCHEMA, table, new)
        rows[table] = int(conn.exec_driver_sql(
            f"SELECT count(*) FROM {qualified(STATE_SCHEMA, table)}").scalar_one())
    return rows


def commit_id_state(engine: sa.Engine) -> dict[str, int]:
    """`write_id_state` in a transaction of its own: for building the golden chain outside a
    publication (tests, benchmarks); the pipeline writes the state in the publication's."""
    with engine.begin() as conn:
        return write_id_state(conn)


def state_tables_present(engine: sa.Engine) -> bool:
    return table_exists(engine, STATE_SCHEMA, "id_registry")


__all__ = ["HOUSEHOLD", "ID_CHANGE_COLUMNS", "IDENTITY_SCHEMA", "PERSON", "STATE_SCHEMA", "commit_id_state",
           "household_identity", "person_identity", "state_tables_present",
           "write_id_state"]
