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


def test_the_person_record_union_is_generated_from_the_feed_registry(tmp_path):
    """A new person feed reaches intermediate.person_record by its YAML: read from its staging
    table with its priority and the events it reports; extras it lacks are null."""
    import shutil

    from dtsen_pipeline.config import FEED_CONFIG_DIR
    from dtsen_pipeline.golden.sql_models import expand, person_records_sql
    from dtsen_pipeline.ingest.feeds import load_feed_specs

    for path in FEED_CONFIG_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "blt.yaml").write_text(
        "name: blt\nentity: person\ndelivery_mode: snapshot\nfiles: ['*.csv']\n"
        "region: {code_system: kemendagri, vintage: '2025', village: KODE_DESA}\n"
        "columns: {nik: NIK, nama: NAMA}\nextras: {status: STATUS, desil: DESIL}\n"
        "survivorship: {priority: 5, reported: {dead: {status: WAFAT}}}\n")
    specs = load_feed_specs(tmp_path)
    sql = "select * from ({{ person_records }}) as r"
    assert table_references(expand(sql, specs)) == tuple(
        ("staging", f) for f in ("bansos", "blt", "dtsen", "dukcapil", "pekon"))
    blt = person_records_sql(specs).split("union all")[-1]  # priority 5: after the four shipped feeds
    assert "from staging.blt" in blt and "5 as source_priority" in blt
    assert "status = 'WAFAT' as reported_dead" in blt and "false as reported_moved" in blt
    assert "cast(desil as integer) as desil" in blt and "cast(null as varchar) as program" in blt
    (tmp_path / "blt.yaml").write_text((tmp_path / "blt.yaml").read_text().replace("priority: 5, ", ""))
    with pytest.raises(ValueError, match="needs survivorship.priority"):
        load_feed_specs(tmp_path)
