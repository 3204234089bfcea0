"""The SQL-model runner: dependencies from the SQL, dependency order, portable rendering."""

import pytest
import sqlalchemy as sa

from dtsen_pipeline.golden.sql_models import discover_models, load_model, render, table_references


def test_references_exclude_ctes_and_need_schemas():
    sql = "with a as (select * from staging.dtsen) select * from a join linkage.person_cluster c using (x)"
    assert table_references(sql) == (("linkage", "person_cluster"), ("staging", "dtsen"))
    with pytest.raises(ValueError, match="schema-qualified"):
        table_references("select * from dtsen")


def test_models_are_discovered_in_dependency_order():
    models = discover_models()
    order = [m.key for m in models]
    assert ("build", "person") in order and ("build", "household") in order
    position = {k: i for i, k in enumerate(order)}
    for model in models:
        for dep in model.deps:
            if dep in position:
                assert position[dep] < position[model.key], f"{dep} must come before {model.key}"


def test_every_model_has_a_description():
    for model in discover_models():
        assert model.description, f"{model.path.name} needs a leading -- comment"


def test_every_model_renders_for_postgres():
    for model in discover_models():
        sql = render(model.sql, "postgresql")
        assert "select" in sql.lower()


def test_model_runs_on_duckdb(tmp_path):
    from dtsen_pipeline.warehouse import replace_table_from_sql

    engine = sa.create_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("create schema s; create table s.t as select 1 as x union all select 2")
    path = tmp_path / "m" / "out" / "double.sql"
    path.parent.mkdir(parents=True)
    path.write_text("-- doubles x\nselect x * 2 as y from s.t;\n")
    model = load_model(path, root=tmp_path / "m")
    assert model.key == ("out", "double") and model.deps == (("s", "t"),)
    assert replace_table_from_sql(engine, model.schema, model.table, render(model.sql, "duckdb")) == 2
    engine.dispose()
