"""The identity steps' warehouse side: read this run's groups and last run's state, write both.

Two steps run inside the SQL chain: person ids right after linkage (`identity.person_id`:
cluster -> person_id, read by intermediate.person_record) and household ids once each
person's No. KK has survived (`identity.household_id`: No. KK -> household_id). Each writes the
state the *next* run should match against: its ids, registry and changes into schema `identity`,
its keys (millions of rows) beside the published ones as `golden_state.<person|household>_key__next`.
`write_id_state` moves them into `golden_state` inside the publication's own transaction
(`publish(..., also=write_id_state)`: the keys by a rename, the rest by a copy),
so the ids move on exactly when the golden tables carrying them are published: a run that fails
or is killed before the commit leaves both as they were, and one killed after it has already
committed the state, so the next run never hands a published id to someone else (issue #14).

The keys are the warehouse's work (`assign_in_warehouse`): it hashes them as it reads the
records, keeps the units in a temporary table of its connection (never written to the file),
joins them to the last state, counts the votes and writes the next state. Python sees each
group once and the previous ids its units vote for, with their counts, and applies the rules
(`identity.issue_ids`). At 640,000 persons that is some 3.5 million keys against 2.5 million last
night; in pandas the id steps took 11-12 s each on a second night, here 8-9 s and 6-7 s.
Nothing here logs keys, NIKs or No. KK: only counts and ids.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.clock import utc_now
from dtsen_pipeline.golden.identity import (
    ACTIVE,
    CHANGE_COLUMNS,
    DORMANT,
    REGISTRY_COLUMNS,
    Assignment,
    Votes,
    empty_changes,
    empty_registry,
    issue_ids,
    units_in_two_groups,
)
from dtsen_pipeline.warehouse import (
    bulk_query,
    byte_ordered,
    ensure_schema,
    materialize,
    qualified,
    quote,
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
NEXT = "__next"  # golden_state.person_key__next: the keys a run will publish, renamed in at publication
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


def _previous_registry(engine: sa.Engine, subject: str) -> pd.DataFrame:
    """Every person or household id issued so far, with its status (empty on a first run)."""
    if not table_exists(engine, STATE_SCHEMA, "id_registry"):
        return empty_registry()
    registry = bulk_query(engine, "SELECT " + ", ".join(REGISTRY_COLUMNS) +
                          f" FROM golden_state.id_registry WHERE subject_type = '{subject}'")
    registry = registry.astype({c: "object" for c in REGISTRY_COLUMNS if c != "seq"})
    registry["seq"] = registry["seq"].astype("int64")
    return registry


def _scratch(subject: str) -> tuple[str, str]:
    """The names of the unit and group tables of one id step: temporary tables of the step's own
    connection, never written to the warehouse file (as tables of schema `identity`, written and
    dropped again, they cost about 2 s of each id step at 640,000 persons)."""
    return quote(f"id_scratch_{subject.lower()}_unit"), quote(f"id_scratch_{subject.lower()}_group")


def _groups_sql(units: str, dialect: str) -> str:
    """Each group (grp) with its code g, numbered in the order of the groups' smallest units: the
    anchors of `identity.Votes`, so g itself is the anchor. Byte order on every warehouse: a
    database's locale would sort record ids otherwise than Python, and the anchors break ties and
    order new ids."""
    return (f"SELECT grp, row_number() OVER (ORDER BY {byte_ordered('first_unit', dialect)}) - 1 AS g FROM "
            f"(SELECT grp, min({byte_ordered('unit', dialect)}) AS first_unit "
            f"FROM {units} GROUP BY grp) AS firsts")


def _votes(conn: sa.Connection, subject: str, has_state: bool) -> Votes:
    """`identity.unit_votes`, joined and counted by the warehouse: only each group's code, the
    previous ids its known units had and how many voted for each come to Python (at 640,000
    persons some 640,000 rows instead of one per known unit, 1.8 million)."""
    units, groups = _scratch(subject)
    # every unit has one rank-0 key (its record id, or a family's No. KK) in its group's rows
    shared = int(bulk_query(conn, f"SELECT count(*) AS n FROM (SELECT unit FROM {units} WHERE key_rank = 0 "
                                    "GROUP BY unit HAVING min(grp) <> max(grp)) AS shared")["n"].iloc[0])
    if shared:
        raise units_in_two_groups(shared)
    coded = bulk_query(conn, f"SELECT g, grp FROM {groups} ORDER BY g")
    if has_state:
        known = bulk_query(conn, "SELECT c.g, found.id, count(*) AS n FROM (SELECT t.grp, s.id, row_number() OVER "
                                   f"(PARTITION BY t.unit ORDER BY t.key_rank) AS pick FROM {units} AS t "
                                   f"JOIN {qualified(STATE_SCHEMA, _STATE_TABLE[subject])} AS s ON s.key = t.key) "
                                   f"AS found JOIN {groups} AS c ON c.grp = found.grp WHERE found.pick = 1 "
                                   "GROUP BY c.g, found.id")
    else:
        known = pd.DataFrame({"g": pd.Series(dtype="int64"), "id": pd.Series(dtype="object"),
                              "n": pd.Series(dtype="int64")})
    return Votes(groups=coded["grp"].to_numpy(dtype=object), anchor=np.arange(len(coded), dtype=np.int64),
                 known=pd.DataFrame({"g": known["g"].to_numpy(dtype=np.int64), "id": known["id"],
                                     "n": known["n"].to_numpy(dtype=np.int64)}))


def _next_state_sql(subject: str, group_column: str, id_column: str, has_state: bool) -> str:
    """`identity.next_state` in the warehouse: the keys of this run's groups (a key of two groups
    dropped), and the last state's keys of ids now dormant that no group took."""
    units, _ = _scratch(subject)
    current = (f"SELECT t.key, min(i.{id_column}) AS id FROM {units} AS t "
               f"JOIN {qualified(IDENTITY_SCHEMA, id_column)} AS i ON i.{group_column} = t.grp "
               f"GROUP BY t.key HAVING min(i.{id_column}) = max(i.{id_column})")
    if not has_state:
        return current
    registry = qualified(IDENTITY_SCHEMA, _REGISTRY_TABLE[subject])
    return (f"WITH current_keys AS ({current}) SELECT key, id FROM current_keys UNION ALL "
            f"SELECT s.key, s.id FROM {qualified(STATE_SCHEMA, _STATE_TABLE[subject])} AS s "
            f"WHERE s.id IN (SELECT id FROM {registry} WHERE status = '{DORMANT}') "
            "AND NOT EXISTS (SELECT 1 FROM current_keys AS c WHERE c.key = s.key)")


def _create_scratch(conn: sa.Connection, subject: str, units_sql: str) -> None:
    units, groups = _scratch(subject)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {units}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {units} AS {units_sql}")
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {groups}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {groups} AS {_groups_sql(units, conn.dialect.name)}")


def _write_next_state(conn: sa.Connection, subject: str, group_column: str, id_column: str, has_state: bool) -> None:
    """golden_state.<subject>_key__next from the scratch units and identity.<id_column>, committed."""
    materialize(conn, STATE_SCHEMA, _STATE_TABLE[subject] + NEXT,
                _next_state_sql(subject, group_column, id_column, has_state))
    conn.commit()


def _drop_scratch(conn: sa.Connection, subject: str) -> None:
    """The connection goes back to the pool without the scratch tables; after a failure, that
    failure's own error is the one raised, not one of cleaning up."""
    with contextlib.suppress(sa.exc.SQLAlchemyError):
        conn.rollback()
        for table in _scratch(subject):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        conn.commit()


def assign_in_warehouse(engine: sa.Engine, subject: str, units_sql: str, run_id: str, group_column: str,
                        id_column: str, registry: pd.DataFrame | None = None) -> Assignment:
    """Ids for this run's units (`units_sql`: SELECT grp, unit, key, key_rank) against the last
    published state, written to identity.<id_column> (one row per group) with the new keys, registry
    and changes. The rules are `identity.issue_ids`; the warehouse joins the keys and writes the
    next state, so the millions of keys never come to Python (returned state: None). `registry`:
    the last published one, when the caller has read it."""
    has_state = table_exists(engine, STATE_SCHEMA, _STATE_TABLE[subject])  # none before the first publication
    with engine.connect() as conn:  # the scratch tables live as long as this connection holds them
        try:
            _create_scratch(conn, subject, units_sql)
            votes = _votes(conn, subject, has_state)
            conn.commit()
            registry = _previous_registry(engine, subject) if registry is None else registry
            out = issue_ids(votes, registry, prefix=PREFIX[subject], run_id=run_id)
            ids = out.ids.rename(columns={"group": group_column, "id": id_column})
            replace_table(engine, _text(ids), IDENTITY_SCHEMA, id_column)
            replace_table(engine, _text(out.registry, ints=("seq",)), IDENTITY_SCHEMA, _REGISTRY_TABLE[subject])
            replace_table(engine, _text(out.changes, ints=("units",)), IDENTITY_SCHEMA, _CHANGE_TABLE[subject])
            _write_next_state(conn, subject, group_column, id_column, has_state)
        finally:
            _drop_scratch(conn, subject)
    return out


def record_units_sql(records_sql: str, group: str, *, families: bool = False) -> str:
    """`identity.record_units` (and, with `families`, `household_units`' No. KK units) in SQL:
    `records_sql` gives record_id, nik, nik_key, who_key, the group column (and kk_key)."""
    parts = [f"SELECT {group} AS grp, record_id AS unit, 'rec:' || record_id AS key, 0 AS key_rank FROM r",
             f"SELECT {group} AS grp, record_id AS unit, nik_key AS key, 1 AS key_rank FROM r WHERE nik IS NOT NULL",
             f"SELECT {group} AS grp, record_id AS unit, who_key AS key, 2 AS key_rank FROM r "
             "WHERE nik IS NULL AND who_key IS NOT NULL"]
    if families:
        parts.append("SELECT DISTINCT no_kk AS grp, kk_key AS unit, kk_key AS key, 0 AS key_rank FROM r "
                     "WHERE no_kk IS NOT NULL")
    return f"WITH r AS MATERIALIZED ({records_sql}) " + " UNION ALL ".join(parts)


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
    records = (f"SELECT c.record_id, c.cluster_id, s.nik, {keys} FROM linkage.person_cluster AS c "
               f"LEFT JOIN ({_staged_keys(engine, feeds)}) AS s ON s.record_id = c.record_id")
    registry = _previous_registry(engine, PERSON)
    out = assign_in_warehouse(engine, PERSON, record_units_sql(records, "cluster_id"), run_id, "cluster_id",
                              "person_id", registry)
    previous_active = int((registry["status"] == ACTIVE).sum())
    return {**out.stats(), "previous_active": previous_active}


def household_identity(engine: sa.Engine, run_id: str, feeds: tuple[str, ...]) -> dict[str, int]:
    """identity.household_id: a stable household id for every surviving No. KK of this run,
    and identity.id_change: every id change so far (last published history + this run).
    `feeds`: the person feeds (`feeds.person_feeds`)."""
    dialect = engine.dialect.name
    keys = _record_key_columns(dialect, "r.nik")
    records = (f"SELECT r.record_id, r.nik, k.no_kk, {keys}, {key_digest_sql('kk', 'k.no_kk', dialect)} AS kk_key "
               "FROM intermediate.person_record AS r JOIN intermediate.person_kk AS k ON k.person_id = r.person_id "
               f"LEFT JOIN ({_staged_keys(engine, feeds)}) AS s ON s.record_id = r.record_id")
    out = assign_in_warehouse(engine, HOUSEHOLD, record_units_sql(records, "no_kk", families=True), run_id,
                              "no_kk", "household_id")
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
    The keys wait beside the published ones (`NEXT`) and are renamed in: copying 5 million keys
    cost 2 s of every publication. No waiting keys (the golden tables published again without the
    id steps running since the last publication): the published keys are already this state's.
    Returns row counts."""
    copies = {
        "id_registry": " UNION ALL ".join(
            f"SELECT '{subject}' AS subject_type, {', '.join(REGISTRY_COLUMNS)} FROM identity.{table}"
            for subject, table in _REGISTRY_TABLE.items()),
        "id_change": f"SELECT {', '.join(ID_CHANGE_COLUMNS)} FROM identity.id_change",
    }
    rows: dict[str, int] = {}
    ensure_schema(conn, STATE_SCHEMA)
    for table in _STATE_TABLE.values():
        if table_exists(conn, STATE_SCHEMA, table + NEXT):
            swap_in(conn, STATE_SCHEMA, table, table + NEXT)
    for table, select in copies.items():
        new = f"{table}__new"
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {qualified(STATE_SCHEMA, new)}")
        conn.exec_driver_sql(f"CREATE TABLE {qualified(STATE_SCHEMA, new)} AS {select}")
        swap_in(conn, STATE_SCHEMA, table, new)
    for table in (*_STATE_TABLE.values(), *copies):
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
