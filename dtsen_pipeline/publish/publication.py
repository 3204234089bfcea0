"""Publish the checked build tables as the golden tables: one transaction, history, views, grants, audit.

Readers never see a mix, an empty table or an error. Every golden table is emptied with DELETE
and refilled with INSERT inside ONE transaction, so under PostgreSQL's MVCC a concurrent reader
keeps seeing the previous rows of every table until the commit and the new rows of every table
after it; no lock a reader needs is ever taken (DELETE/INSERT take ROW EXCLUSIVE, readers ACCESS
SHARE). Swapping tables in (DROP + RENAME, or views repointed at versioned tables) was measured
and rejected: a reader whose snapshot predates the swap (REPEATABLE READ, pg_dump, most BI
tools' report transactions) then sees the new table EMPTY, and a table with views on it cannot
be dropped at all (benchmarks/bench_publish.py shows both). DuckDB runs the same statements.

Each golden row carries the `run_id` that published it, and `<identifier>_token` HMAC
pseudonyms next to every NIK / No. KK column. The same transaction appends the snapshot to
`golden_history.<table>` (with `published_at`), keeps only the last N runs there, (re)creates the
masked and pekon-scoped views when their definition changed, resets the roles' grants
(PostgreSQL), writes `audit.run` and runs the caller's `also` step (the pipeline's: the stable-id
state, `golden/id_state.py`), so what the golden tables publish and the state the next run
builds on commit together. If anything fails, everything rolls back and the previous
publication stays as it was. With a `contract` (`contract.py`), the columns the run would
publish are checked against the declared schema before anything is changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.clock import utc_now
from dtsen_pipeline.publish import access
from dtsen_pipeline.publish.audit import (
    AUDIT_SCHEMA,
    RunInfo,
    deliveries,
    ensure_audit_tables,
    kept_runs,
    write_audit,
)
from dtsen_pipeline.publish.columns import Columns, extend_history, query_columns, sync_columns, table_columns
from dtsen_pipeline.publish.config import PublishConfig
from dtsen_pipeline.publish.contract import Contract, TableCheck, check_contract, describe_changes
from dtsen_pipeline.publish.masking import identifier_kind, masked_select, token_column
from dtsen_pipeline.publish.pseudonym import PseudonymKey, hmac_pads, token_sql, tokens
from dtsen_pipeline.warehouse import ensure_schema, load_frame, qualified, quote

BUILD_SCHEMA = "build"
GOLDEN_SCHEMA = "golden"
HISTORY_SCHEMA = "golden_history"
MASKED_SCHEMA = "golden_masked"
PEKON_SCHEMA = "golden_pekon"
WORK_SCHEMA = "publish_work"
TOKEN_TABLE = "token"
RUN_ID = "run_id"
PUBLISHED_AT = "published_at"
# Tables without kode_desa are placed in a village through these keys (pekon-scoped views).
ANCHORS = {"person_id": ("person", "kode_desa"), "household_id": ("household", "kode_desa")}
ADVISORY_LOCK = 6_2026_0006  # serialises concurrent publications on PostgreSQL
_RUN_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class PublicationError(RuntimeError):
    """Publication cannot start; nothing was changed."""


@dataclass(frozen=True)
class PublishResult:
    run_id: str
    published_at: dt.datetime
    rows: dict[str, int]
    history_runs: list[str]
    schema_changes: dict[str, list[str]]
    deliveries: int
    notes: list[str] = field(default_factory=list)
    schema_version: str | None = None  # the contract's, when publication checked one
    contract: list[TableCheck] = field(default_factory=list)
    also_rows: dict[str, int] = field(default_factory=dict)  # what the `also` step reported

    def announced_columns(self) -> dict[str, list[str]]:
        """Columns published for the first time, and those the contract does not declare, by table."""
        return {c.table: sorted({*c.added, *c.undeclared}) for c in self.contract if c.added or c.undeclared}


def _token_table(conn: sa.Connection) -> str:
    """Where this publication's tokens are. DuckDB: a temporary table, kept in memory instead of being
    compressed into the warehouse file only to be dropped before commit (at 640,000 persons the token
    step took 0.8-0.9 s instead of 1.2-2.4 s); PostgreSQL: publish_work.token, as before."""
    if conn.dialect.name == "duckdb":
        return f"temp.main.{quote(TOKEN_TABLE)}"
    return qualified(WORK_SCHEMA, TOKEN_TABLE)


def _golden_select(table: str, columns: list[str], run_id: str, token_table: str) -> str:
    items = [f"b.{quote(c)}" for c in columns]
    joins = []
    for i, column in enumerate(columns):
        kind = identifier_kind(column)
        if kind:
            alias = f"k{i}"
            items.append(f"{alias}.token AS {quote(token_column(column))}")
            joins.append(f"LEFT JOIN {token_table} {alias} "
                         f"ON {alias}.kind = '{kind}' AND {alias}.value = CAST(b.{quote(column)} AS TEXT)")
    items.append(f"CAST('{run_id}' AS TEXT) AS {RUN_ID}")
    return f"SELECT {', '.join(items)} FROM {qualified(BUILD_SCHEMA, table)} b {' '.join(joins)}"


def _identifier_selects(build_columns: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(kind, SELECT of that column's non-null values as text) for every identifier column of the build tables."""
    return [(kind, f"SELECT CAST({quote(column)} AS TEXT) AS value FROM {qualified(BUILD_SCHEMA, table)} "
                   f"WHERE {quote(column)} IS NOT NULL")
            for table, columns in build_columns.items() for column in columns
            if (kind := identifier_kind(column))]


def _load_tokens(conn: sa.Connection, key: PseudonymKey, build_columns: dict[str, list[str]]) -> int:
    """Token of every distinct identifier in the build tables, into a table dropped before commit."""
    if conn.dialect.name == "duckdb":
        return _load_tokens_duckdb(conn, key, build_columns)
    return _load_tokens_python(conn, key, build_columns)


def _load_tokens_duckdb(conn: sa.Connection, key: PseudonymKey, build_columns: dict[str, list[str]]) -> int:
    """The tokens computed by DuckDB itself (pseudonym.token_sql, equal to `token`): the values never
    leave the warehouse. At 640,000 persons (816,000 distinct NIK and No. KK) this took 1.5-2.2 s
    instead of 5.3-6.1 s for fetching them, HMAC in a Python loop and loading the rows back (0.8-0.9 s
    with the table temporary, `_token_table`)."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {qualified(WORK_SCHEMA, TOKEN_TABLE)}")  # as the other path
    target = _token_table(conn)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {target}")
    selects = _identifier_selects(build_columns)
    if not selects:
        conn.exec_driver_sql(f"CREATE TEMP TABLE {quote(TOKEN_TABLE)} (kind VARCHAR, value VARCHAR, token VARCHAR)")
        return 0
    values = " UNION ".join(f"SELECT '{kind}' AS kind, value FROM ({select}) s" for kind, select in selects)
    ipad, opad = hmac_pads(key)
    conn.execute(sa.text(f"CREATE TEMP TABLE {quote(TOKEN_TABLE)} AS "
                         f"SELECT kind, value, {token_sql('kind', 'value')} AS token FROM ({values}) v"),
                 {"ipad": ipad, "opad": opad})
    return int(conn.exec_driver_sql(f"SELECT count(*) FROM {target}").scalar_one())


def _load_tokens_python(conn: sa.Connection, key: PseudonymKey, build_columns: dict[str, list[str]]) -> int:
    """The tokens computed in Python (`tokens`) and copied in: PostgreSQL's path."""
    values: dict[str, set[str]] = {"nik": set(), "kk": set()}
    for kind, select in _identifier_selects(build_columns):
        values[kind].update(conn.exec_driver_sql(f"SELECT DISTINCT value FROM ({select}) s").scalars())
    rows = [(kind, v, t) for kind, vs in values.items() for v, t in tokens(key, kind, vs).items()]
    target = qualified(WORK_SCHEMA, TOKEN_TABLE)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {target}")
    if conn.dialect.name == "postgresql":  # COPY straight from the tuples: 3x faster than via a frame
        conn.exec_driver_sql(f"CREATE TABLE {target} (kind text, value text, token text)")
        with conn.connection.driver_connection.cursor().copy(f"COPY {target} (kind, value, token) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        load_frame(conn, pd.DataFrame(rows, columns=["kind", "value", "token"], dtype="string"),
                   WORK_SCHEMA, TOKEN_TABLE)
    return len(rows)


def _view_signature(select_sql: str, options: str, columns: Columns) -> str:
    text = "\n".join([select_sql, options, *(f"{c} {t}" for c, t in columns)])
    return "dtsen:" + hashlib.sha256(text.encode()).hexdigest()[:20]


def _view_comment(conn: sa.Connection, schema: str, view: str) -> str | None:
    if conn.dialect.name == "duckdb":
        return conn.execute(sa.text(
            "SELECT comment FROM duckdb_views() WHERE database_name = current_database() "
            "AND schema_name = :s AND view_name = :v"), {"s": schema, "v": view}).scalar()
    return conn.execute(sa.text("SELECT obj_description(to_regclass(:q), 'pg_class')"),
                        {"q": qualified(schema, view)}).scalar()


def _ensure_view(conn: sa.Connection, schema: str, view: str, select_sql: str, columns: Columns,
                 options: str = "") -> bool:
    """(Re)create the view only when its definition changed; returns whether it did."""
    signature = _view_signature(select_sql, options, columns)
    if _view_comment(conn, schema, view) == signature:
        return False
    conn.exec_driver_sql(f"DROP VIEW IF EXISTS {qualified(schema, view)}")
    conn.exec_driver_sql(f"CREATE VIEW {qualified(schema, view)} {options} AS {select_sql}")
    conn.exec_driver_sql(f"COMMENT ON VIEW {qualified(schema, view)} IS '{signature}'")
    return True


def _publish_table(conn: sa.Connection, table: str, columns: list[str], run_id: str,
                   views: Sequence[tuple[str, str]]) -> tuple[int, list[str]]:
    """Replace golden.<table>'s rows (altering its columns first if the model changed)."""
    select_sql = _golden_select(table, columns, run_id, _token_table(conn))
    wanted = query_columns(conn, select_sql)
    current = table_columns(conn, GOLDEN_SCHEMA, table)
    target = qualified(GOLDEN_SCHEMA, table)
    changes: list[str] = []
    if current is None:
        conn.exec_driver_sql(f"CREATE TABLE {target} AS {select_sql} LIMIT 0")
        changes = ["created"]
    elif sorted(current) != sorted(wanted):
        for schema, view in views:  # views (a pekon view also reads its anchor table) would block
            conn.exec_driver_sql(f"DROP VIEW IF EXISTS {qualified(schema, view)}")  # DROP COLUMN; recreated below
        changes = sync_columns(conn, GOLDEN_SCHEMA, table, current, wanted)
    names = ", ".join(quote(c) for c, _ in wanted)
    conn.exec_driver_sql(f"DELETE FROM {target}")
    inserted = conn.exec_driver_sql(f"INSERT INTO {target} ({names}) {select_sql}").rowcount
    if conn.dialect.name != "postgresql" or inserted < 0:
        inserted = conn.exec_driver_sql(f"SELECT count(*) FROM {target}").scalar_one()
    return int(inserted), changes


def _append_history(conn: sa.Connection, table: str, published_at: dt.datetime) -> None:
    golden = table_columns(conn, GOLDEN_SCHEMA, table) or []
    target = qualified(HISTORY_SCHEMA, table)
    history = table_columns(conn, HISTORY_SCHEMA, table)
    if history is None:
        conn.exec_driver_sql(f"CREATE TABLE {target} AS SELECT g.*, CAST(NULL AS TIMESTAMP) AS {PUBLISHED_AT} "
                             f"FROM {qualified(GOLDEN_SCHEMA, table)} g LIMIT 0")
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"CREATE INDEX ON {target} ({RUN_ID})")
        history = table_columns(conn, HISTORY_SCHEMA, table) or []
    else:
        history = extend_history(conn, HISTORY_SCHEMA, table, history, golden)
    types = dict(history)
    select = ", ".join(quote(c) if types[c] == t else f"CAST({quote(c)} AS {types[c]})" for c, t in golden)
    names = ", ".join(quote(c) for c, _ in golden)
    conn.execute(sa.text(f"INSERT INTO {target} ({names}, {PUBLISHED_AT}) SELECT {select}, :published_at "
                         f"FROM {qualified(GOLDEN_SCHEMA, table)}"), {"published_at": published_at})


def _prune_history(conn: sa.Connection, tables: Sequence[str], keep: list[str]) -> None:
    for table in tables:
        statement = sa.text(f"DELETE FROM {qualified(HISTORY_SCHEMA, table)} WHERE {RUN_ID} NOT IN :keep")
        conn.execute(statement.bindparams(sa.bindparam("keep", expanding=True)), {"keep": keep})


def _pekon_views(conn: sa.Connection, tables: Sequence[str], golden: dict[str, Columns], notes: list[str]) -> None:
    anchors = {k: v for k, v in ANCHORS.items() if v[0] in golden and v[1] in dict(golden[v[0]])}
    for table in tables:
        columns = [c for c, _ in golden[table]]
        select_sql = access.pekon_select(GOLDEN_SCHEMA, table, columns, anchors)
        if select_sql is None:
            notes.append(f"{GOLDEN_SCHEMA}.{table}: no region or person/household key, no pekon-scoped view")
            continue
        _ensure_view(conn, PEKON_SCHEMA, table, select_sql, golden[table], "WITH (security_barrier = true)")


def _last_schema_version(conn: sa.Connection) -> str | None:
    """The contract version the last publication recorded (None before the first)."""
    return conn.exec_driver_sql(
        f"SELECT schema_version FROM {qualified(AUDIT_SCHEMA, 'run')} WHERE status = 'PUBLISHED' "
        "ORDER BY finished_at DESC, run_id DESC LIMIT 1").scalar()


def _check_contract(conn: sa.Connection, contract: Contract, tables: Sequence[str],
                    build_columns: dict[str, list[str]], run_id: str) -> list[TableCheck]:
    token_table = _token_table(conn)
    wanted = {t: query_columns(conn, _golden_select(t, build_columns[t], run_id, token_table)) for t in tables}
    published = {t: table_columns(conn, GOLDEN_SCHEMA, t) for t in tables}
    return check_contract(contract, wanted, published, _last_schema_version(conn))


def publish(engine: sa.Engine, tables: Sequence[str], run: RunInfo, config: PublishConfig,
            key: PseudonymKey, now: dt.datetime | None = None, *, contract: Contract | None = None,
            also: Callable[[sa.Connection], dict[str, int]] | None = None) -> PublishResult:
    """Publish build.<table> as golden.<table> for every table, atomically, with history and audit.

    `contract`: the declared schema to check first (ContractError, nothing changed, when the run
    would break it). `also`: a step run on the publication's connection just before its commit.
    """
    if not _RUN_ID.match(run.run_id):
        raise PublicationError("run id has characters outside [A-Za-z0-9_.:-]")
    published_at = now.replace(tzinfo=None) if now else utc_now()
    postgres = engine.dialect.name == "postgresql"
    view_schemas = [MASKED_SCHEMA, PEKON_SCHEMA] if postgres else [MASKED_SCHEMA]
    notes: list[str] = []
    with engine.begin() as conn:
        if postgres:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})")
        build = {t: table_columns(conn, BUILD_SCHEMA, t) for t in tables}
        missing = [t for t, cols in build.items() if cols is None]
        if missing:
            raise PublicationError(f"build tables missing: {', '.join(missing)}; nothing was published")
        build_columns = {t: [c for c, _ in cols or []] for t, cols in build.items()}
        clashes = [t for t, cols in build_columns.items()
                   if RUN_ID in cols or any(token_column(c) in cols for c in cols if identifier_kind(c))]
        if clashes:
            raise PublicationError(f"build tables {', '.join(clashes)} already have a run_id or *_token column, "
                                   "which publication adds; nothing was published")
        for schema in (GOLDEN_SCHEMA, HISTORY_SCHEMA, MASKED_SCHEMA, WORK_SCHEMA, *view_schemas):
            ensure_schema(conn, schema)
        _load_tokens(conn, key, build_columns)
        ensure_audit_tables(conn)
        checks = _check_contract(conn, contract, tables, build_columns, run.run_id) if contract else []
        rows, changes = {}, {}
        for table in tables:
            rows[table], change = _publish_table(conn, table, build_columns[table], run.run_id,
                                                 [(s, t) for s in view_schemas for t in tables])
            if change:
                changes[table] = change
        conn.exec_driver_sql(f"DROP TABLE {_token_table(conn)}")
        for table in tables:
            _append_history(conn, table, published_at)
        delivered = deliveries(conn)
        write_audit(conn, run, published_at, rows, delivered, config.history_runs, key.key_id,
                    schema_version=contract.version if contract else None,
                    schema_change=describe_changes(checks) or None)
        keep = kept_runs(conn, config.history_runs)
        _prune_history(conn, tables, keep)
        golden = {t: table_columns(conn, GOLDEN_SCHEMA, t) or [] for t in tables}
        for table in tables:
            _ensure_view(conn, MASKED_SCHEMA, table,
                         masked_select(GOLDEN_SCHEMA, table, [c for c, _ in golden[table]]), golden[table])
        if postgres:
            roles = config.roles
            if roles.pekon:
                access.ensure_scope_table(conn)
                if roles.operators is not None:
                    scopes = access.replace_scopes(conn, dict(roles.operators))
                    notes.append(f"region scopes: {scopes} row(s) from DTSEN_PEKON_OPERATORS")
                _pekon_views(conn, tables, golden, notes)
            notes += access.apply_grants(conn, roles, {
                "reader": [MASKED_SCHEMA],
                "restricted": [GOLDEN_SCHEMA, HISTORY_SCHEMA, MASKED_SCHEMA, AUDIT_SCHEMA],
                "pekon": [PEKON_SCHEMA],
            })
        else:
            notes.append(f"{engine.dialect.name} warehouse: no database roles, grants or pekon-scoped views "
                         "(PostgreSQL only); masked views are in golden_masked")
        also_rows = also(conn) if also else {}
    if postgres:
        notes.append(_vacuum(engine, tables))
    return PublishResult(run_id=run.run_id, published_at=published_at, rows=rows, history_runs=keep,
                         schema_changes=changes, deliveries=len(delivered), notes=notes,
                         schema_version=contract.version if contract else None, contract=checks,
                         also_rows=also_rows)


def _vacuum(engine: sa.Engine, tables: Sequence[str]) -> str:
    """After commit: VACUUM (ANALYZE) the golden tables, so that the rows the DELETE left behind are
    reusable by the next publication and the planner knows the new data. It takes no lock readers
    wait for; if it fails, the publication stands and autovacuum does the job later."""
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.exec_driver_sql(f"VACUUM (ANALYZE) {qualified(GOLDEN_SCHEMA, table)}")
    except sa.exc.DBAPIError as exc:
        return f"VACUUM of the golden tables skipped ({type(exc.orig).__name__}); autovacuum will do it"
    return "golden tables vacuumed and analysed"
