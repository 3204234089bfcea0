"""Publication on both warehouses: history depth, model changes, rollback, delivery registry.

Build tables come from the session's real pipeline run (tests/conftest.py) and are copied into a
fresh DuckDB file and a fresh PostgreSQL database. Roles are disabled here (they are global to
the PostgreSQL server); test_roles_postgres.py covers them.
"""

import json

import pytest
import sqlalchemy as sa

from dtsen_pipeline.publish import PublishConfig, RoleConfig, publish, resolve_key
from dtsen_pipeline.publish import publication as publication_module
from dtsen_pipeline.publish.publication import PublicationError
from dtsen_pipeline.warehouse import read_sql, table_exists
from tests.publish.support import BUILD_TABLES, TEST_KEY, copy_tables, pg_database, run_info, url_for

pytestmark = pytest.mark.slow
NO_ROLES = RoleConfig(reader=None, restricted=None, pekon=None)


@pytest.fixture(scope="module")
def source(duckdb_run):
    assert duckdb_run.success
    engine = sa.create_engine(duckdb_run.settings.warehouse_url)
    with engine.connect() as conn:
        raw = list(conn.exec_driver_sql(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name <> 'delivery'").scalars())
    yield engine, raw
    engine.dispose()


@pytest.fixture(params=["duckdb", "postgresql"])
def warehouse(request, tmp_path, source):
    src, raw = source
    tables = {f"build.{t}": None for t in BUILD_TABLES} | {f"raw.{t}": ["feed", "source_file", "source_row"] for t in raw}
    if request.param == "duckdb":
        engine = sa.create_engine(f"duckdb:///{tmp_path / 'publish.duckdb'}")
        copy_tables(src, engine, tables)
        yield engine
        engine.dispose()
        return
    with pg_database() as name:
        engine = sa.create_engine(url_for(name))
        copy_tables(src, engine, tables)
        yield engine
        engine.dispose()


def _publish(engine, run_id, history_runs=7):
    key = resolve_key(engine.dialect.name, TEST_KEY, None)
    return publish(engine, BUILD_TABLES, run_info(run_id), PublishConfig(history_runs=history_runs, roles=NO_ROLES), key)


def _drop_some_persons(engine, n):
    with engine.begin() as conn:
        ids = list(conn.exec_driver_sql(f"SELECT person_id FROM build.person ORDER BY person_id LIMIT {n}").scalars())
        for table in ("person", "person_source"):
            conn.execute(sa.text(f"DELETE FROM build.{table} WHERE person_id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)), {"ids": ids})


def _count(engine, sql):
    return int(read_sql(engine, sql).iloc[0, 0])


def test_history_keeps_the_last_n_runs(warehouse):
    published = {}
    for i in range(4):
        if i:
            _drop_some_persons(warehouse, 25)
        result = _publish(warehouse, f"run-{i}", history_runs=2)
        published[f"run-{i}"] = result.rows
    assert result.history_runs == ["run-3", "run-2"]
    for table in BUILD_TABLES:
        history = read_sql(warehouse, f"SELECT run_id, count(*) AS n FROM golden_history.{table} GROUP BY run_id")
        assert dict(zip(history.run_id, history.n, strict=True)) == {r: published[r][table] for r in ("run-2", "run-3")}
        assert _count(warehouse, f"SELECT count(*) FROM golden.{table} WHERE run_id = 'run-3'") == published["run-3"][table]
    assert published["run-0"]["person"] - published["run-3"]["person"] == 75
    audit = read_sql(warehouse, "SELECT run_id, row_counts, history_runs FROM audit.run ORDER BY finished_at")
    assert audit.run_id.tolist() == ["run-0", "run-1", "run-2", "run-3"]
    assert json.loads(audit.row_counts.iloc[-1]) == published["run-3"]


def test_golden_columns_follow_a_changed_model(warehouse):
    _publish(warehouse, "before")
    text = "VARCHAR" if warehouse.dialect.name == "duckdb" else "text"
    with warehouse.begin() as conn:
        conn.exec_driver_sql(f"ALTER TABLE build.person ADD COLUMN review_code {text}")
        conn.exec_driver_sql("UPDATE build.person SET review_code = 'R' || CAST(desil AS VARCHAR)")
        conn.exec_driver_sql("ALTER TABLE build.person DROP COLUMN is_moved")
        conn.exec_driver_sql(f"ALTER TABLE build.person ALTER COLUMN source_records TYPE {text} "
                             f"USING CAST(source_records AS {text})")
    result = _publish(warehouse, "after")
    assert sorted(result.schema_changes["person"]) == sorted([
        "drop is_moved", "drop source_records", f"add source_records {text}", f"add review_code {text}"])
    golden = read_sql(warehouse, "SELECT * FROM golden.person")
    build = read_sql(warehouse, "SELECT person_id, review_code, source_records FROM build.person")
    assert "is_moved" not in golden.columns and golden.run_id.unique().tolist() == ["after"]
    merged = golden.merge(build, on="person_id", suffixes=("", "_build"))
    assert len(merged) == len(build) == len(golden)
    assert (merged.review_code.fillna("") == merged.review_code_build.fillna("")).all()
    assert (merged.source_records == merged.source_records_build).all()
    masked = read_sql(warehouse, "SELECT * FROM golden_masked.person")
    assert "review_code" in masked.columns and "is_moved" not in masked.columns and len(masked) == len(golden)
    history = read_sql(warehouse, "SELECT run_id, count(is_moved) AS moved, count(review_code) AS review, "
                                  "count(source_records) AS sources FROM golden_history.person GROUP BY run_id")
    by_run = history.set_index("run_id")
    assert by_run.loc["before", "moved"] == len(golden) and by_run.loc["after", "moved"] == 0
    assert by_run.loc["after", "review"] > 0 and by_run.loc["before", "review"] == 0
    assert by_run.loc["before", "sources"] == by_run.loc["after", "sources"] == len(golden)


def test_a_failed_publication_leaves_the_last_one_intact(warehouse, monkeypatch):
    first = _publish(warehouse, "good")
    _drop_some_persons(warehouse, 100)

    def fail(*args, **kwargs):
        raise RuntimeError("audit write failed")

    monkeypatch.setattr(publication_module, "write_audit", fail)
    with pytest.raises(RuntimeError, match="audit write failed"):
        _publish(warehouse, "bad")
    for table in BUILD_TABLES:
        assert read_sql(warehouse, f"SELECT DISTINCT run_id FROM golden.{table}").run_id.tolist() == ["good"]
        assert _count(warehouse, f"SELECT count(*) FROM golden.{table}") == first.rows[table]
        assert read_sql(warehouse, f"SELECT DISTINCT run_id FROM golden_history.{table}").run_id.tolist() == ["good"]
    assert read_sql(warehouse, "SELECT run_id FROM audit.run").run_id.tolist() == ["good"]
    assert not table_exists(warehouse, "publish_work", "token")


def test_a_missing_build_table_publishes_nothing(warehouse):
    first = _publish(warehouse, "good")
    with warehouse.begin() as conn:
        conn.exec_driver_sql("DROP TABLE build.household")
    with pytest.raises(PublicationError, match="build tables missing: household; nothing was published"):
        _publish(warehouse, "bad")
    assert _count(warehouse, "SELECT count(*) FROM golden.household WHERE run_id = 'good'") == first.rows["household"]


def test_the_delivery_registry_names_the_deliveries_in_force(warehouse):
    with warehouse.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE raw.delivery (feed TEXT, delivery_id TEXT, source_file TEXT, record_file TEXT, status TEXT, "
            "records BIGINT, first_run TEXT, scope TEXT, in_force BOOLEAN)")
        conn.exec_driver_sql(
            "INSERT INTO raw.delivery VALUES "
            "('dtsen', 'aaa', 'dtsen/DTSEN_1806.csv', 'dtsen/DTSEN_1806.csv', 'loaded', 1200, 'r0', '', TRUE), "
            "('dtsen', 'bbb', 'dtsen/DTSEN_1806_old.csv', 'dtsen/DTSEN_1806_old.csv', 'loaded', 1100, 'r-1', '', FALSE), "
            "('pekon', 'ccc', 'pekon/p.csv', 'pekon/p.csv', 'rejected', 0, 'r0', '', FALSE), "
            "('bansos', 'ddd', 'bansos/PKH.xlsx', 'bansos/PKH.xlsx', 'loaded', 40, 'r0', 'PKH|2026-11', TRUE)")
    result = _publish(warehouse, "with-registry")
    audited = read_sql(warehouse, "SELECT feed, source_file, row_count, detail FROM audit.run_delivery ORDER BY feed")
    assert result.deliveries == 2
    assert audited[["feed", "source_file", "row_count"]].values.tolist() == [
        ["bansos", "bansos/PKH.xlsx", 40], ["dtsen", "dtsen/DTSEN_1806.csv", 1200]]
    detail = json.loads(audited.detail[0])
    assert detail["delivery_id"] == "ddd" and detail["scope"] == "PKH|2026-11" and detail["in_force"] is True
