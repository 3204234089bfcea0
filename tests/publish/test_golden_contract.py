"""The golden tables' declared schema (publish/golden_schema.yaml) is checked before publishing
(issue #14, item 10): an added column is published and announced; a dropped, renamed or retyped
column stops publication, unless the declaration and its version changed; audit.run records the
version and the change. On DuckDB and PostgreSQL, with build tables from the golden chain."""

import datetime as dt

import pytest
import sqlalchemy as sa
import yaml

from dtsen_pipeline.publish import PublishConfig, RoleConfig, RunInfo, publish, resolve_key
from dtsen_pipeline.publish.contract import (
    CONTRACT_FILE,
    ContractError,
    canonical_type,
    check_table,
    load_contract,
)
from dtsen_pipeline.warehouse import read_sql
from tests.golden.world import World
from tests.publish.support import TEST_KEY, pg_database, url_for

TABLES = ("person", "person_source", "household", "flag", "id_change")
NO_ROLES = PublishConfig(roles=RoleConfig(reader=None, restricted=None, pekon=None))


@pytest.fixture(params=["duckdb", "postgresql"])
def engine(request, tmp_path):
    w = World()
    w.add("dukcapil", "a", nik=w.nik(), no_kk="1806011701200001", hubungan="KEPALA_KELUARGA")
    w.add("dtsen", "a", nik=w.nik(), no_kk="1806011701200001", desil=3)
    w.add("dukcapil", "b", nik=w.nik(), no_kk="1806011701200002", hubungan="KEPALA_KELUARGA")
    if request.param == "duckdb":
        engine = sa.create_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
        w.build(engine)
        yield engine
        engine.dispose()
        return
    with pg_database() as name:
        engine = sa.create_engine(url_for(name))
        w.build(engine)
        yield engine
        engine.dispose()


def run(engine, run_id, contract=None):
    info = RunInfo(run_id, "nightly_refresh", dt.datetime(2026, 12, 1), "manual:test")
    return publish(engine, TABLES, info, NO_ROLES, resolve_key(engine.dialect.name, TEST_KEY, None),
                   contract=contract or load_contract())


def text(engine) -> str:
    return "VARCHAR" if engine.dialect.name == "duckdb" else "text"


def audit(engine, run_id) -> dict:
    rows = read_sql(engine, "SELECT schema_version, schema_change FROM audit.run WHERE run_id = :r", r=run_id)
    return rows.iloc[0].to_dict() if len(rows) else {}


def published_run(engine, table="person") -> list[str]:
    return read_sql(engine, f"SELECT DISTINCT run_id FROM golden.{table}")["run_id"].tolist()


def declared_without(tmp_path, table, column, version):
    """The shipped declaration with one column removed and the given version, as a file."""
    data = yaml.safe_load(CONTRACT_FILE.read_text(encoding="utf-8"))
    del data["tables"][table]["columns"][column]
    data["version"] = version
    path = tmp_path / "golden_schema.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_contract(path)


def test_the_declared_schema_is_what_publication_publishes(engine):
    result = run(engine, "r1")
    assert result.announced_columns() == {}  # every published column is declared, with its type
    assert audit(engine, "r1") == {"schema_version": load_contract().version, "schema_change": None}


def test_an_added_column_is_published_and_announced(engine):
    run(engine, "r1")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"ALTER TABLE build.person ADD COLUMN review_code {text(engine)}")
    result = run(engine, "r2")
    assert result.announced_columns() == {"person": ["review_code"]}
    assert "review_code" in read_sql(engine, "SELECT * FROM golden.person").columns
    assert audit(engine, "r2")["schema_change"] == "person: +review_code"


@pytest.mark.parametrize("change", ["drop", "rename", "retype"])
def test_a_broken_declared_column_blocks_publication(engine, change):
    run(engine, "r1")
    with engine.begin() as conn:
        if change == "drop":
            conn.exec_driver_sql("ALTER TABLE build.person DROP COLUMN is_moved")
        elif change == "rename":
            conn.exec_driver_sql("ALTER TABLE build.person RENAME COLUMN is_moved TO is_moved_away")
        else:
            conn.exec_driver_sql(f"ALTER TABLE build.person ALTER COLUMN source_records TYPE {text(engine)} "
                                 f"USING CAST(source_records AS {text(engine)})")
    expected = "source_records integer->text" if change == "retype" else "is_moved"
    with pytest.raises(ContractError, match="nothing was published") as error:
        run(engine, "r2")
    assert "golden.person: " in str(error.value) and expected in str(error.value)
    assert {t: published_run(engine, t) for t in TABLES} == {  # id_change is empty on a first run
        "person": ["r1"], "person_source": ["r1"], "household": ["r1"], "flag": ["r1"], "id_change": []}
    assert {"is_moved", "source_records"} <= set(read_sql(engine, "SELECT * FROM golden.person").columns)
    assert audit(engine, "r2") == {}


def test_a_dropped_column_needs_the_declaration_and_its_version_changed(engine, tmp_path):
    shipped = load_contract()
    run(engine, "r1")
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE build.person DROP COLUMN is_moved")
    same_version = declared_without(tmp_path, "person", "is_moved", shipped.version)
    with pytest.raises(ContractError, match=f"is_moved would be dropped .* still version {shipped.version}"):
        run(engine, "r2", same_version)
    assert published_run(engine) == ["r1"]
    bumped = declared_without(tmp_path, "person", "is_moved", "2")
    result = run(engine, "r3", bumped)
    assert result.schema_version == "2"
    assert "is_moved" not in read_sql(engine, "SELECT * FROM golden.person").columns
    assert published_run(engine) == ["r3"]
    assert audit(engine, "r3") == {"schema_version": "2", "schema_change": "person: -is_moved"}
    run(engine, "r4", bumped)  # the next run under version 2: nothing changes, nothing recorded
    assert audit(engine, "r4") == {"schema_version": "2", "schema_change": None}


def test_check_table_rules():
    contract = load_contract()
    declared = [(c.name, {"text": "VARCHAR", "integer": "BIGINT", "boolean": "BOOLEAN", "date": "DATE",
                          "timestamp": "TIMESTAMP"}[c.type]) for c in contract.tables["flag"]]
    same = check_table(contract, "flag", declared, declared, contract.version)
    assert same.problems == () and same.changes() == []
    extra = check_table(contract, "flag", [*declared, ("note", "VARCHAR")], declared, contract.version)
    assert extra.problems == () and extra.added == ("note",) and extra.undeclared == ("note",)
    new_table = check_table(contract, "appeal", [("appeal_id", "VARCHAR")], None, contract.version)
    assert new_table.problems == () and new_table.undeclared == ("appeal_id",)
    assert canonical_type("timestamp without time zone") == canonical_type("TIMESTAMP") == "timestamp"
    assert canonical_type("DECIMAL(18,3)") == canonical_type("numeric") == "number"
    assert canonical_type("HUGEINT") == canonical_type("bigint") == "integer"


def test_a_malformed_declaration_is_refused(tmp_path):
    path = tmp_path / "golden_schema.yaml"
    path.write_text("version: 1\ntables:\n  person:\n    columns:\n      person_id: {type: uuid, meaning: id}\n")
    with pytest.raises(ValueError, match="person.person_id has type 'uuid'"):
        load_contract(path)
    path.write_text("version: 1\ntables:\n  person:\n    columns:\n      person_id: {type: text}\n")
    with pytest.raises(ValueError, match="person.person_id has no meaning"):
        load_contract(path)
