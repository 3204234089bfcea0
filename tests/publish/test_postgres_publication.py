"""Publication on the real PostgreSQL server: atomic replacement under concurrent readers, and roles.

The pipeline connects as a non-superuser that owns the database and has CREATEROLE (the minimum
docs/operations.md documents). Build tables come from the session's real pipeline run. Roles are global
to the server, so every role name here carries a unique suffix and is dropped afterwards.
Without a server the module skips only when CI is unset; under CI it fails.
"""

import base64
import threading
import time
import uuid

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import errors

from dtsen_pipeline.publish import PublishConfig, RoleConfig, publish, resolve_key
from dtsen_pipeline.publish.access import scram_verifier
from dtsen_pipeline.publish.pseudonym import token
from dtsen_pipeline.warehouse import read_sql
from tests.publish.support import (
    BUILD_TABLES,
    TEST_KEY,
    admin_engine,
    copy_tables,
    pg_database,
    run_info,
    url_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
KEY = resolve_key("postgresql", TEST_KEY, None)
PUBLISHES_UNDER_READERS = 6


class Server:
    """The test's database, its roles, and connections as each of them."""

    def __init__(self, database: str, roles: dict[str, str], village: str, kecamatan: str):
        self.database, self.roles, self.village, self.kecamatan = database, roles, village, kecamatan
        self.pipeline = sa.create_engine(url_for(database, roles["pipeline"]))
        self.admin = sa.create_engine(url_for(database))

    def config(self, operators: dict[str, tuple[str, ...]] | None = None) -> PublishConfig:
        r = self.roles
        if operators is None:
            operators = {r["op_desa"]: (self.village,), r["op_kec"]: (self.kecamatan,)}
        return PublishConfig(history_runs=3, roles=RoleConfig(
            reader=r["reader"], reader_password="reader-password", restricted=r["restricted"],
            restricted_password="restricted-password", pekon=r["pekon"], operators=operators))

    def publish(self, run_id: str, operators=None):
        return publish(self.pipeline, BUILD_TABLES, run_info(run_id, f"schedule:test_{run_id}"),
                       self.config(operators), KEY)

    def connect(self, kind: str) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", dbname=self.database, user=self.roles[kind], autocommit=True)


@pytest.fixture(scope="module")
def server(duckdb_run):
    assert duckdb_run.success
    admin = admin_engine()
    suffix = uuid.uuid4().hex[:8]
    roles = {k: f"dtsen_{k}_{suffix}" for k in ("pipeline", "reader", "restricted", "pekon", "op_desa", "op_kec")}
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{roles["pipeline"]}" LOGIN CREATEROLE NOSUPERUSER')
        conn.exec_driver_sql(f'CREATE ROLE "{roles["op_desa"]}" LOGIN')  # an operator the DBA created
    source = sa.create_engine(duckdb_run.settings.warehouse_url)
    try:
        with pg_database(owner=roles["pipeline"]) as database:
            with source.connect() as conn:
                raw = list(conn.exec_driver_sql("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw' "
                                                "AND table_name <> 'delivery'").scalars())
                village, kecamatan = conn.exec_driver_sql(
                    "SELECT kode_desa, (SELECT kode_kecamatan FROM build.household h2 WHERE h2.kode_kecamatan <> "
                    "h.kode_kecamatan GROUP BY 1 ORDER BY count(*) DESC LIMIT 1) FROM build.household h "
                    "GROUP BY kode_desa, kode_kecamatan ORDER BY count(*) DESC, kode_desa LIMIT 1").one()
            srv = Server(database, roles, village, kecamatan)
            copy_tables(source, srv.pipeline, {f"build.{t}": None for t in BUILD_TABLES}
                        | {f"raw.{t}": ["feed", "source_file", "source_row"] for t in raw})
            with srv.pipeline.begin() as conn:
                conn.exec_driver_sql("CREATE SCHEMA src")
                for table in BUILD_TABLES:
                    conn.exec_driver_sql(f"CREATE TABLE src.{table} AS SELECT * FROM build.{table}")
            srv.publish("r0")
            with admin.connect() as conn:  # the DBA lets the operator the pipeline created log in
                conn.exec_driver_sql(f'ALTER ROLE "{roles["op_kec"]}" LOGIN')
            yield srv
            srv.pipeline.dispose()
            srv.admin.dispose()
    finally:
        source.dispose()
        with admin.connect() as conn:
            for role in ("op_desa", "op_kec", "reader", "restricted", "pekon", "pipeline"):
                conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{roles[role]}"')
        admin.dispose()


def _prepare_version(srv: Server, version: int) -> tuple[int, int, int, int]:
    """Different build tables per version (a different tenth of persons and families left out)."""
    with srv.pipeline.begin() as conn:
        for table in BUILD_TABLES:
            conn.exec_driver_sql(f"DELETE FROM build.{table}")
        conn.exec_driver_sql(f"INSERT INTO build.person SELECT * FROM src.person "
                             f"WHERE abs(hashtext(person_id || '{version}')) %% 10 <> 0")
        conn.exec_driver_sql("INSERT INTO build.person_source SELECT * FROM src.person_source "
                             "WHERE person_id IN (SELECT person_id FROM build.person)")
        conn.exec_driver_sql(f"INSERT INTO build.household SELECT * FROM src.household "
                             f"WHERE abs(hashtext(no_kk || '{version}')) %% 10 <> 0")
        return tuple(conn.exec_driver_sql(
            "SELECT (SELECT count(*) FROM build.person), (SELECT count(*) FROM build.household), "
            "(SELECT count(*) FROM build.person_source), "
            "(SELECT count(*) FROM build.person p JOIN build.household h USING (no_kk))").one())


ONE_STATEMENT = """
SELECT (SELECT count(*) FROM {s}.person), (SELECT count(*) FROM {s}.household), (SELECT count(*) FROM {s}.person_source),
       (SELECT count(*) FROM {s}.person p JOIN {s}.household h USING ({kk})),
       (SELECT array_agg(DISTINCT run_id) FROM (SELECT run_id FROM {s}.person UNION ALL
        SELECT run_id FROM {s}.household UNION ALL SELECT run_id FROM {s}.person_source) x)
"""


def _reader(srv, kind, schema, kk, repeatable, stop, reads, problems):
    """Read counts, a join and the run ids in a loop; record every read and every problem."""
    with srv.connect(kind) as conn:
        while not stop.is_set():
            started = time.monotonic()
            try:
                if repeatable:  # separate statements in one snapshot (a report transaction)
                    with conn.transaction():
                        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                        counts = [conn.execute(f"SELECT count(*) FROM {schema}.{t}").fetchone()[0]
                                  for t in ("person", "household", "person_source")]
                        time.sleep(0.005)
                        join = conn.execute(f"SELECT count(*) FROM {schema}.person p "
                                            f"JOIN {schema}.household h USING ({kk})").fetchone()[0]
                        runs = conn.execute(ONE_STATEMENT.format(s=schema, kk=kk)).fetchone()[4]
                        row = (*counts, join, runs)
                else:
                    row = conn.execute(ONE_STATEMENT.format(s=schema, kk=kk)).fetchone()
            except Exception as exc:  # noqa: BLE001 - every error is a failure of atomicity, recorded
                problems.append(f"{kind}: {type(exc).__name__}: {str(exc)[:120]}")
                continue
            reads.append((started, time.monotonic(), kind, tuple(row[:4]), tuple(row[4] or ())))


def test_readers_see_one_whole_version_during_publications(server):
    expected = {"r0": tuple(server.admin.connect().exec_driver_sql(
        ONE_STATEMENT.format(s="golden", kk="no_kk")).fetchone()[:4])}
    stop, reads, problems, windows = threading.Event(), [], [], []
    threads = [threading.Thread(target=_reader, args=(server, "restricted", "golden", "no_kk", False, stop, reads, problems)),
               threading.Thread(target=_reader, args=(server, "reader", "golden_masked", "no_kk_token", True, stop, reads,
                                                      problems))]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.2)
        for version in range(1, PUBLISHES_UNDER_READERS + 1):
            run_id = f"r{version}"
            expected[run_id] = _prepare_version(server, version)
            started = time.monotonic()
            result = server.publish(run_id)
            windows.append((started, time.monotonic()))
            assert (result.rows["person"], result.rows["household"], result.rows["person_source"]) == expected[run_id][:3]
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert problems == []
    assert len(reads) > 50
    for _, _, kind, counts, runs in reads:
        assert len(runs) == 1, f"{kind} saw a mix of runs {runs}"
        assert counts == expected[runs[0]], f"{kind} saw counts {counts} that run {runs[0]} did not publish"
        assert min(counts[:3]) > 0
    seen = {runs[0] for *_, runs in reads}
    assert len(seen) >= 4, "the readers saw several publications go by"
    during = [r for r in reads if any(start < r[0] and r[1] < end for start, end in windows)]
    assert len(during) >= 5, "reads ran while publication transactions were open"
    assert {r[2] for r in during} == {"restricted", "reader"}


def test_history_and_audit_on_postgres(server):
    history = read_sql(server.admin, "SELECT run_id, count(*) AS n FROM golden_history.household GROUP BY run_id")
    audit = read_sql(server.admin, "SELECT run_id, triggered_by, row_counts FROM audit.run ORDER BY finished_at DESC")
    assert sorted(history.run_id) == sorted(audit.run_id[:3])
    assert audit.triggered_by[0] == f"schedule:test_{audit.run_id[0]}"
    files = read_sql(server.admin, "SELECT count(*) AS n FROM audit.run_delivery WHERE run_id = :r", r=audit.run_id[0])
    raw_files = read_sql(server.admin, "SELECT count(DISTINCT source_file) AS n FROM raw.dtsen").n[0]
    assert files.n[0] > raw_files > 0


def _denied(conn: psycopg.Connection, sql: str) -> bool:
    try:
        conn.execute(sql).fetchall()
    except errors.InsufficientPrivilege:
        return True
    return False


def test_reader_sees_only_pseudonymised_tables(server):
    golden = read_sql(server.admin, "SELECT person_id, nik, no_kk FROM golden.person")
    with server.connect("reader") as conn:
        columns = [c.name for c in conn.execute("SELECT * FROM golden_masked.person LIMIT 1").description]
        masked = conn.execute("SELECT person_id, nik_token, no_kk_token FROM golden_masked.person").fetchall()
        households = conn.execute("SELECT count(*) FROM golden_masked.household").fetchone()[0]
        assert not {"nik", "no_kk", "nama", "tgl_lahir", "alamat"} & set(columns)
        assert {"nik_token", "no_kk_token", "tahun_lahir", "kode_desa", "desil"} <= set(columns)
        for sql in ("SELECT * FROM golden.person", "SELECT * FROM golden_history.person", "SELECT * FROM audit.run",
                    "SELECT * FROM golden_pekon.household", "SELECT * FROM build.person", "SELECT * FROM raw.dtsen",
                    "SELECT * FROM access.region_scope", "DELETE FROM golden_masked.household",
                    "CREATE TABLE golden_masked.mine (x int)"):
            assert _denied(conn, sql), sql
    assert households == read_sql(server.admin, "SELECT count(*) AS n FROM golden.household").n[0]
    raw = golden.set_index("person_id")
    assert len(masked) == len(raw) > 2000
    for person_id, nik_token, kk_token in masked:
        nik, kk = raw.at[person_id, "nik"], raw.at[person_id, "no_kk"]
        assert nik_token == (token(KEY, "nik", nik) if isinstance(nik, str) else None)
        assert kk_token == (token(KEY, "kk", kk) if isinstance(kk, str) else None)


def test_restricted_role_sees_raw_identifiers_and_cannot_write(server):
    golden = read_sql(server.admin, "SELECT person_id, nik FROM golden.person WHERE nik IS NOT NULL")
    with server.connect("restricted") as conn:
        seen = dict(conn.execute("SELECT person_id, nik FROM golden.person WHERE nik IS NOT NULL").fetchall())
        assert conn.execute("SELECT count(*) FROM golden_history.person").fetchone()[0] > len(golden)
        assert conn.execute("SELECT count(*) FROM audit.run").fetchone()[0] >= 1
        assert conn.execute("SELECT count(*) FROM golden_masked.person").fetchone()[0] > 0
        for sql in ("SELECT * FROM build.person", "SELECT * FROM raw.dtsen", "SELECT * FROM access.region_scope",
                    "SELECT * FROM golden_pekon.household", "DELETE FROM golden.person",
                    "UPDATE golden.household SET desil = 1", "TRUNCATE golden.person_source",
                    "INSERT INTO audit.run (run_id) VALUES ('forged')"):
            assert _denied(conn, sql), sql
    assert seen == dict(zip(golden.person_id, golden.nik, strict=True))


def test_pekon_operators_see_only_their_region(server):
    admin = server.admin
    village_households = read_sql(admin, "SELECT no_kk FROM golden.household WHERE kode_desa = :v", v=server.village)
    village_persons = read_sql(admin, "SELECT person_id FROM golden.person WHERE kode_desa = :v", v=server.village)
    village_sources = read_sql(admin, "SELECT count(*) AS n FROM golden.person_source s JOIN golden.person p "
                                      "USING (person_id) WHERE p.kode_desa = :v", v=server.village).n[0]
    kec_households = read_sql(admin, "SELECT count(*) AS n FROM golden.household WHERE kode_kecamatan = :k",
                              k=server.kecamatan).n[0]
    assert len(village_households) > 5 and kec_households > 20
    with server.connect("op_desa") as conn:
        rows = conn.execute("SELECT kode_desa, no_kk FROM golden_pekon.household").fetchall()
        persons = conn.execute("SELECT person_id, nik FROM golden_pekon.person").fetchall()
        sources = conn.execute("SELECT count(*) FROM golden_pekon.person_source").fetchone()[0]
        for sql in ("SELECT * FROM golden.household", "SELECT * FROM golden_masked.household",
                    "SELECT * FROM access.region_scope", "DELETE FROM golden_pekon.household"):
            assert _denied(conn, sql), sql
    assert {r[0] for r in rows} == {server.village}
    assert sorted(r[1] for r in rows) == sorted(village_households.no_kk)
    assert sorted(p[0] for p in persons) == sorted(village_persons.person_id)
    assert sources == village_sources
    with server.connect("op_kec") as conn:
        kodes = [r[0] for r in conn.execute("SELECT kode_desa FROM golden_pekon.household").fetchall()]
        conn.execute(f'SET ROLE "{server.roles["pekon"]}"')  # the group role itself has no region
        group_rows = conn.execute("SELECT count(*) FROM golden_pekon.household").fetchone()[0]
    assert len(kodes) == kec_households and all(k.startswith(server.kecamatan + ".") for k in kodes)
    assert server.village not in kodes and group_rows == 0


def _leaked_rows(conn: psycopg.Connection, view: str) -> set[str]:
    """A cheap function that reports every row it is shown, pushed at the view by the planner."""
    seen: set[str] = set()
    conn.add_notice_handler(lambda d: seen.add(d.message_primary.removeprefix("seen ")))
    conn.execute("CREATE OR REPLACE FUNCTION pg_temp.peek(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 "
                 "AS $$ BEGIN RAISE NOTICE 'seen %', $1; RETURN true; END $$")
    conn.execute(f"SELECT count(*) FROM {view} WHERE pg_temp.peek(kode_desa)").fetchone()
    return seen


def test_security_barrier_stops_a_leaky_function(server):
    roles = server.roles
    with server.admin.begin() as conn:  # the same filter without the barrier, to show the probe works
        definition = conn.exec_driver_sql("SELECT pg_get_viewdef('golden_pekon.household'::regclass)").scalar_one()
        conn.exec_driver_sql(f"CREATE VIEW golden_pekon.household_no_barrier AS {definition}")
        conn.exec_driver_sql(f'GRANT SELECT ON golden_pekon.household_no_barrier TO "{roles["pekon"]}"')
    try:
        with server.connect("op_desa") as conn:
            through_barrier = _leaked_rows(conn, "golden_pekon.household")
        with server.connect("op_desa") as conn:
            without_barrier = _leaked_rows(conn, "golden_pekon.household_no_barrier")
    finally:
        with server.admin.begin() as conn:
            conn.exec_driver_sql("DROP VIEW golden_pekon.household_no_barrier")
    assert through_barrier == {server.village}
    assert len(without_barrier) > 10


def test_grants_follow_the_configuration(server):
    server.publish("regrant", operators={server.roles["op_desa"]: (server.village,)})
    with server.connect("op_kec") as conn:
        assert conn.execute("SELECT count(*) FROM golden_pekon.household").fetchone()[0] == 0
    with server.connect("op_desa") as conn:
        assert conn.execute("SELECT count(*) FROM golden_pekon.household").fetchone()[0] > 0
    with server.admin.connect() as conn:
        r = server.roles
        superuser = conn.exec_driver_sql(f"SELECT rolsuper FROM pg_roles WHERE rolname = '{r['pipeline']}'").scalar_one()
        stored = conn.exec_driver_sql(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{r['reader']}'").scalar_one()
        members = conn.exec_driver_sql(f"SELECT pg_has_role('{r['op_kec']}', '{r['pekon']}', 'MEMBER'), "
                                       f"pg_has_role('{r['reader']}', '{r['pekon']}', 'MEMBER')").one()
    assert superuser is False
    iterations, salt = stored.split("$")[1].split(":")  # the configured password is the one stored
    assert scram_verifier("reader-password", base64.b64decode(salt), int(iterations)) == stored
    assert tuple(members) == (True, False)


def test_the_pipeline_user_cannot_be_a_managed_role(server):
    before = read_sql(server.admin, "SELECT DISTINCT run_id FROM golden.person").run_id.tolist()
    config = PublishConfig(roles=RoleConfig(reader=server.roles["pipeline"], restricted=None, pekon=None))
    with pytest.raises(ValueError, match="cannot also be a reader"):
        publish(server.pipeline, BUILD_TABLES, run_info("self-grant"), config, KEY)
    assert read_sql(server.admin, "SELECT DISTINCT run_id FROM golden.person").run_id.tolist() == before


def test_scram_verifier_is_the_one_libpq_computes():
    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres") as conn:
        libpq = conn.pgconn.encrypt_password(b"reader-password", b"dtsen_reader", b"scram-sha-256").decode()
    iterations, salt = libpq.split("$")[1].split(":")
    assert scram_verifier("reader-password", base64.b64decode(salt), int(iterations)) == libpq


def test_a_model_change_keeps_views_and_grants_working(server):
    with server.pipeline.begin() as conn:  # the anchor column of person_source's pekon view changes type
        conn.exec_driver_sql("ALTER TABLE build.person ALTER COLUMN kode_desa TYPE varchar(32)")
        conn.exec_driver_sql("ALTER TABLE build.person DROP COLUMN is_moved")
    result = server.publish("changed")
    assert sorted(result.schema_changes["person"]) == [
        "add kode_desa character varying(32)", "drop is_moved", "drop kode_desa"]
    expected = read_sql(server.admin, "SELECT count(*) AS n FROM golden.person_source s JOIN golden.person p "
                                      "USING (person_id) WHERE p.kode_desa = :v", v=server.village).n[0]
    with server.connect("op_desa") as conn:
        assert conn.execute("SELECT count(*) FROM golden_pekon.person_source").fetchone()[0] == expected > 0
        assert {r[0] for r in conn.execute("SELECT kode_desa FROM golden_pekon.person").fetchall()} == {server.village}
    with server.connect("reader") as conn:
        columns = [c.name for c in conn.execute("SELECT * FROM golden_masked.person LIMIT 1").description]
        assert "is_moved" not in columns and "kode_desa" in columns
