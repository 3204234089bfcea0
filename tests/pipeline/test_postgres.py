"""The whole pipeline against PostgreSQL: warehouse there, Dagster instance storage there.

Needs the server at 127.0.0.1:5432 (trust auth). Without one the test skips only when CI is
unset and says so; under CI a missing server fails the test.
"""

import uuid

import pandas as pd
import pytest
import sqlalchemy as sa
from dagster import DagsterInstance

from tests.support import PG_ADMIN_URL, make_settings, pg_admin_engine, run_nightly

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ADMIN_URL = PG_ADMIN_URL


def _admin_engine() -> sa.Engine:
    return pg_admin_engine()


@pytest.fixture(scope="module")
def databases():
    admin = _admin_engine()
    suffix = uuid.uuid4().hex[:10]
    names = {"warehouse": f"dtsen_wh_{suffix}", "instance": f"dtsen_dg_{suffix}"}
    with admin.connect() as conn:
        for name in names.values():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield names
    with admin.connect() as conn:
        for name in names.values():
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in _publication_env(names)[1]:  # roles are server-wide: the publication created them
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
    admin.dispose()


def _publication_env(names: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """A test pseudonym key and role names unique to this test (roles are global to the server)."""
    suffix = names["warehouse"].rsplit("_", 1)[-1]
    roles = {"DTSEN_READER_ROLE": f"dtsen_rd_{suffix}", "DTSEN_RESTRICTED_ROLE": f"dtsen_rs_{suffix}",
             "DTSEN_PEKON_ROLE": f"dtsen_pk_{suffix}"}
    env = {**roles, "DTSEN_PSEUDONYM_KEY": "test-only-pseudonym-key-not-a-real-one-0123"}
    return env, list(roles.values())


@pytest.fixture(scope="module")
def postgres_run(databases, tmp_path_factory, sample_landing):
    base = ADMIN_URL.rsplit("/", 1)[0]
    tmp = tmp_path_factory.mktemp("pg_run")
    home = tmp / "dagster_home"
    home.mkdir()
    instance_url = base.replace("postgresql+psycopg://", "postgresql+psycopg2://") + "/" + databases["instance"]
    (home / "dagster.yaml").write_text(
        "storage:\n  postgres:\n"
        f"    postgres_url: {instance_url}\n"
        "telemetry:\n  enabled: false\n")
    instance = DagsterInstance.from_config(str(home))
    settings = make_settings(tmp, sample_landing, f"{base}/{databases['warehouse']}")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _publication_env(databases)[0].items():
            patch.setenv(name, value)
        run_id, success = run_nightly(settings, instance)
    yield settings, run_id, success, instance_url
    instance.dispose()


def test_pipeline_publishes_golden_tables_in_postgres(postgres_run):
    settings, run_id, success, _ = postgres_run
    assert success
    engine = sa.create_engine(settings.warehouse_url)
    with engine.connect() as conn:
        assert conn.dialect.name == "postgresql"
        persons = pd.read_sql(sa.text("select * from golden.person"), conn)
        households = pd.read_sql(sa.text("select * from golden.household"), conn)
        sources = pd.read_sql(sa.text("select count(*) as n from golden.person_source"), conn).n[0]
        evaluation = pd.read_sql(sa.text("select * from linkage.evaluation"), conn)
    engine.dispose()
    assert len(persons) > 2000 and persons["person_id"].is_unique
    assert len(households) > 500
    assert sources >= len(persons)
    assert evaluation.loc[(evaluation["scope"] == "all") & (evaluation["level"] == "pairwise"), "f1"].iloc[-1] >= 0.95


def test_run_is_recorded_in_postgres_instance_storage(postgres_run):
    _, run_id, _, instance_url = postgres_run
    engine = sa.create_engine(instance_url)
    with engine.connect() as conn:
        status = conn.execute(sa.text("select status from runs where run_id = :r"), {"r": run_id}).scalar_one()
        events = conn.execute(sa.text("select count(*) from event_logs where run_id = :r"), {"r": run_id}).scalar_one()
    engine.dispose()
    assert status == "SUCCESS"
    assert events > 50


def test_publication_in_postgres_is_audited_masked_and_granted(postgres_run, databases):
    settings, run_id, _, _ = postgres_run
    reader, restricted, _ = _publication_env(databases)[1]
    engine = sa.create_engine(settings.warehouse_url)
    with engine.connect() as conn:
        audit = conn.execute(sa.text("select status, triggered_by from audit.run where run_id = :r"), {"r": run_id}).one()
        run_ids = conn.exec_driver_sql("select distinct run_id from golden.household").scalars().all()
        masked = conn.exec_driver_sql("select column_name from information_schema.columns "
                                      "where table_schema = 'golden_masked' and table_name = 'person'").scalars().all()
        grants = conn.execute(sa.text(
            "select has_table_privilege(:rd, 'golden_masked.person', 'SELECT'), "
            "has_table_privilege(:rd, 'golden.person', 'SELECT'), has_table_privilege(:rs, 'golden.person', 'SELECT')"),
            {"rd": reader, "rs": restricted}).one()
    engine.dispose()
    assert audit.status == "PUBLISHED" and audit.triggered_by.startswith("manual:")
    assert run_ids == [run_id]
    assert {"nik_token", "no_kk_token"} <= set(masked) and not {"nik", "no_kk", "nama", "tgl_lahir"} & set(masked)
    assert tuple(grants) == (True, False, True)
