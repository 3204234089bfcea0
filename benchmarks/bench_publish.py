"""Publication on PostgreSQL: what concurrent readers see under each replacement strategy, and
how long `publish()` takes at Tanggamus scale.

    python benchmarks/bench_publish.py [--persons 640000] [--rows 20000] [--publishes 12]

Part 1 publishes two tables over and over (`--rows` rows, a version number in every row) while
two readers query them: one in READ COMMITTED with one statement (counts, a join, the versions),
one in REPEATABLE READ whose snapshot is taken 10 ms before it reads (as a report transaction
or pg_dump does). It counts errors, empty tables and mixed versions for: DELETE + INSERT in one
transaction (what publication does), DROP + RENAME of freshly built tables, TRUNCATE + INSERT,
and views repointed at versioned tables. Part 2 times `publish()` itself on synthetic build
tables of `--persons` persons (no personal data: numbers made from a counter).

Needs the PostgreSQL server (DTSEN_BENCH_PG_ADMIN_URL, default the test server); creates and
drops its own database.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid

import psycopg
import sqlalchemy as sa

from dtsen_pipeline.clock import utc_now
from dtsen_pipeline.publish import PublishConfig, RoleConfig, RunInfo, publish, resolve_key

ADMIN = os.environ.get("DTSEN_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
STRATEGIES = ("delete_insert", "drop_rename", "truncate_insert", "view_swap")


def _dsn(database: str) -> str:
    url = sa.engine.make_url(ADMIN).set(database=database)
    return url.render_as_string(hide_password=False).replace("postgresql+psycopg://", "postgresql://")


def _replace(conn: psycopg.Connection, strategy: str, version: int, rows: int) -> None:
    n = rows + version * 7  # each version has its own row count
    fill = {"p": f"SELECT i, {version} AS v FROM generate_series(1, {n}) i",
            "h": f"SELECT i, {version} AS v FROM generate_series(1, {n // 3}) i"}
    with conn.transaction():
        for t, select in fill.items():
            if strategy == "delete_insert":
                conn.execute(f"DELETE FROM g.{t}")
                conn.execute(f"INSERT INTO g.{t} {select}")
            elif strategy == "truncate_insert":
                conn.execute(f"TRUNCATE g.{t}")
                conn.execute(f"INSERT INTO g.{t} {select}")
            elif strategy == "drop_rename":
                conn.execute(f"CREATE TABLE g.{t}__new AS {select}")
                conn.execute(f"DROP TABLE g.{t}")
                conn.execute(f"ALTER TABLE g.{t}__new RENAME TO {t}")
            else:
                conn.execute(f"CREATE TABLE gv.{t}_{version} AS {select}")
                conn.execute(f"CREATE OR REPLACE VIEW g.{t} AS SELECT * FROM gv.{t}_{version}")
                if version > 3:
                    conn.execute(f"DROP TABLE IF EXISTS gv.{t}_{version - 3}")


def _reader(dsn: str, repeatable: bool, rows: int, stop: threading.Event, out: dict) -> None:
    query = ("SELECT (SELECT count(*) FROM g.p), (SELECT count(*) FROM g.h), (SELECT min(v) FROM g.p), "
             "(SELECT max(v) FROM g.h), (SELECT count(*) FROM g.p JOIN g.h USING (i))")
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not stop.is_set():
            try:
                with conn.transaction():
                    if repeatable:
                        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                        conn.execute("SELECT 1").fetchone()  # the snapshot is taken here
                        time.sleep(0.01)
                    p, h, vp, vh, _ = conn.execute(query).fetchone()
                out["reads"] += 1
                if p == 0 or h == 0:
                    out["empty"] += 1
                elif vp != vh or p != rows + vp * 7:
                    out["mixed"] += 1
            except psycopg.Error as exc:
                out["errors"] += 1
                out.setdefault("first_error", str(exc).splitlines()[0][:70])


def anomalies(admin: sa.Engine, rows: int, publishes: int) -> None:
    print(f"Part 1: {publishes} publications of {rows:,} + {rows // 3:,} rows under two readers")
    print(f"{'strategy':<16} {'reader':<16} {'reads':>6} {'errors':>6} {'empty':>6} {'mixed':>6}  ms/publish")
    for strategy in STRATEGIES:
        database = f"dtsen_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{database}"')
        try:
            dsn = _dsn(database)
            with psycopg.connect(dsn, autocommit=True) as w:
                w.execute("CREATE SCHEMA g; CREATE SCHEMA gv")
                if strategy in ("delete_insert", "truncate_insert"):
                    w.execute("CREATE TABLE g.p (i int, v int); CREATE TABLE g.h (i int, v int)")
                elif strategy == "drop_rename":
                    w.execute("CREATE TABLE g.p (i int, v int); CREATE TABLE g.h (i int, v int)")
                _replace(w, strategy, 1, rows)
                stop = threading.Event()
                results = {mode: {"reads": 0, "errors": 0, "empty": 0, "mixed": 0} for mode in ("read committed",
                                                                                                 "repeatable read")}
                threads = [threading.Thread(target=_reader, args=(dsn, mode == "repeatable read", rows, stop, out))
                           for mode, out in results.items()]
                for t in threads:
                    t.start()
                started = time.perf_counter()
                for version in range(2, publishes + 2):
                    _replace(w, strategy, version, rows)
                elapsed = (time.perf_counter() - started) / publishes * 1000
                stop.set()
                for t in threads:
                    t.join()
            for mode, out in results.items():
                print(f"{strategy:<16} {mode:<16} {out['reads']:>6} {out['errors']:>6} {out['empty']:>6} "
                      f"{out['mixed']:>6}  {elapsed:8.0f}  {out.get('first_error', '')}")
        finally:
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


SYNTHETIC_BUILD = """
CREATE SCHEMA build;
CREATE TABLE build.person AS
SELECT 'P' || lpad(to_hex(i), 12, '0') AS person_id,
       '1806' || lpad(i::text, 12, '0') AS nik, '1806' || lpad((i / 3)::text, 12, '0') AS no_kk,
       'PERSON ' || i AS nama, DATE '1950-01-01' + (i % 25000) AS tgl_lahir, false AS dob_imprecise,
       CASE WHEN i % 2 = 0 THEN 'L' ELSE 'P' END AS jenis_kelamin, 'ANAK' AS hubungan,
       '18.06.' || lpad((i / 3 % 20 + 1)::text, 2, '0') || '.' || (2001 + i / 3 % 15) AS kode_desa,
       '18.06.' || lpad((i / 3 % 20 + 1)::text, 2, '0') AS kode_kecamatan,
       'dukcapil:dukcapil/DUKCAPIL.csv#' || i AS identity_source_record, 3::bigint AS source_records,
       2::bigint AS source_feeds, true AS in_dtsen, true AS in_dukcapil, i % 3 = 0 AS in_pekon,
       i % 5 = 0 AS is_recipient, i % 7 = 0 AS receives_pkh, i % 5 = 0 AS receives_bpnt,
       i % 4 = 0 AS receives_pbi_jk, (i / 3 % 10 + 1)::int AS desil, i % 97 = 0 AS is_dead, i % 89 = 0 AS is_moved,
       i % 41 = 0 AS flag_duplicate_records, false AS flag_multiple_kk, false AS flag_dead_recipient,
       false AS flag_moved_recipient, false AS flag_missing_from_dtsen, NULL::text AS verval_hasil,
       NULL::text AS verval_tingkat, NULL::date AS verval_tanggal
FROM generate_series(1, {persons}) i;
CREATE TABLE build.person_source AS
SELECT person_id, feed || ':' || feed || '/FILE.csv#' || source_row AS record_id, feed, feed || '/FILE.csv' AS source_file,
       source_row, priority AS source_priority
FROM (SELECT p.person_id, f.feed, f.priority, row_number() OVER () AS source_row
      FROM build.person p CROSS JOIN (VALUES ('dukcapil', 1), ('dtsen', 2), ('pekon', 3)) f(feed, priority)) x;
CREATE TABLE build.household AS
SELECT 'H' || md5(no_kk)::varchar(12) AS household_id, no_kk, min(kode_desa) AS kode_desa,
       min(kode_kecamatan) AS kode_kecamatan, 'Kecamatan' AS kecamatan, 'Desa' AS desa,
       min(person_id) AS head_person_id, min(nama) AS head_nama, count(*) AS member_count,
       count(*) AS living_member_count, min(desil) AS desil, bool_or(receives_pkh) AS pkh,
       bool_or(receives_bpnt) AS bpnt, bool_or(receives_pbi_jk) AS pbi_jk, true AS in_dtsen,
       bool_or(flag_duplicate_records) AS flag_duplicate_records, false AS flag_inclusion_candidate,
       false AS flag_exclusion_candidate, '' AS flag_reasons
FROM build.person GROUP BY no_kk;
CREATE SCHEMA raw;
CREATE TABLE raw.dtsen AS SELECT 'dtsen' AS feed, 'dtsen/FILE_' || (i % 20) || '.csv' AS source_file, i AS source_row
FROM generate_series(1, {persons}) i;
"""


def timing(admin: sa.Engine, persons: int) -> None:
    database = f"dtsen_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{database}"')
    engine = sa.create_engine(sa.engine.make_url(ADMIN).set(database=database))
    try:
        started = time.perf_counter()
        with psycopg.connect(_dsn(database), autocommit=True) as conn:
            conn.execute(SYNTHETIC_BUILD.format(persons=persons))
            sizes = conn.execute("SELECT (SELECT count(*) FROM build.person), (SELECT count(*) FROM build.household), "
                                 "(SELECT count(*) FROM build.person_source)").fetchone()
        print(f"\nPart 2: publish() on synthetic build tables: {sizes[0]:,} persons, {sizes[1]:,} households, "
              f"{sizes[2]:,} source records (built in {time.perf_counter() - started:.1f} s)")
        key = resolve_key("postgresql", "benchmark-only-key-benchmark-only-key", None)
        config = PublishConfig(history_runs=7, roles=RoleConfig(reader=None, restricted=None, pekon=None))
        for run in range(1, 4):
            info = RunInfo(f"bench-{run}", "nightly_refresh", utc_now(), "manual:bench")
            started = time.perf_counter()
            result = publish(engine, ("person", "person_source", "household"), info, config, key)
            print(f"  run {run}: {time.perf_counter() - started:6.1f} s  rows {result.rows}")
        with engine.connect() as conn:
            for schema in ("golden", "golden_history"):
                size = conn.exec_driver_sql(
                    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    f"WHERE n.nspname = '{schema}' AND c.relkind = 'r'").scalar_one()
                print(f"  {schema:<15} {int(size) / 2**20:8.0f} MiB after 3 runs")
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=640_000)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--publishes", type=int, default=12)
    args = parser.parse_args()
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    try:
        anomalies(admin, args.rows, args.publishes)
        timing(admin, args.persons)
    finally:
        admin.dispose()


if __name__ == "__main__":
    main()
