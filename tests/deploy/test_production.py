"""The production deployment, started as systemd would start it: the `dtsen-webserver` and
`dtsen-daemon` units' commands (deploy/systemd) with the example EnvironmentFile, a DAGSTER_HOME
whose dagster.yaml is deploy/production/dagster.yaml (instance storage in a fresh PostgreSQL
database) and the warehouse in another fresh PostgreSQL database.

The landing folder starts empty: the daemon's landing sensor skips its first tick. Then a delivery
(a generated 2,000-person sample) is dropped in, and the next tick starts one run, which must
succeed (as the webserver's GraphQL API reports it) and publish to the PostgreSQL warehouse:
golden tables and audit rows naming the sensor. The sensor's interval (120 s) is declared on the
sensor and Dagster has no instance setting to shorten it, so the test waits for the second tick.

Needs the PostgreSQL server at 127.0.0.1:5432: without it the test skips only when CI is unset
(and says so); under CI it fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from tests.services import (
    PRODUCTION_INSTANCE_YAML,
    Service,
    free_port,
    graphql,
    loaded_repository,
    service_environment,
    start_unit,
    stop,
    unit,
    wait_for,
)
from tests.support import PG_ADMIN_URL, pg_admin_engine, temporary_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PERSONS = 2_000
SEED = 5
FEEDS = ("dtsen", "dukcapil", "pekon", "bansos", "verval")
SENSOR = "landing_sensor"
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}

TICKS = """query ($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { __typename
  ... on Sensor { sensorState { status ticks(limit: 20) { status timestamp skipReason runIds } } } } }"""
RUNS = """query ($f: RunsFilter) { runsOrError(filter: $f) { ... on Runs { results {
  runId status jobName tags { key value } } } } }"""
DAEMONS = "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }"


@dataclass
class Deployment:
    port: int
    services: list[Service]
    instance_url: str
    warehouse_url: str
    home: Path
    delivered: list[str]
    first_ticks: list[dict]
    run: dict


def _sensor_ticks(port: int, repository: dict) -> list[dict]:
    selector = {"repositoryName": repository["name"], "repositoryLocationName": repository["location"]["name"],
                "sensorName": SENSOR}
    data = graphql(port, TICKS, {"s": selector}) or {}
    sensor = data.get("sensorOrError", {})
    assert sensor.get("__typename", "Sensor") == "Sensor", sensor
    return sorted((sensor.get("sensorState") or {}).get("ticks") or [], key=lambda t: t["timestamp"])


def _runs(port: int) -> list[dict]:
    data = graphql(port, RUNS, {"f": {}}) or {}
    return data.get("runsOrError", {}).get("results") or []


def _deliver(sample: Path, landing: Path) -> list[str]:
    """Copy the sample's feed folders into the landing folder, keeping the files' earlier
    modification time (as `cp -p` or rsync would), so the sensor's settling wait is over."""
    delivered = []
    earlier = time.time() - 600
    for feed in FEEDS:
        for path in sorted((sample / feed).iterdir()):
            target = landing / feed / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            os.utime(target, (earlier, earlier))
            delivered.append(f"{feed}/{path.name}")
    return delivered


def _pg_parts(url: str) -> dict[str, str]:
    parsed = sa.engine.make_url(url)
    return {"DAGSTER_PG_HOST": parsed.host or "127.0.0.1", "DAGSTER_PG_PORT": str(parsed.port or 5432),
            "DAGSTER_PG_DB": parsed.database, "DAGSTER_PG_USERNAME": parsed.username or "postgres",
            "DAGSTER_PG_PASSWORD": parsed.password or ""}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    from dtsen_pipeline.sample import generate

    pg_admin_engine().dispose()  # no server: skip (CI unset) or fail (CI) before anything starts
    tmp = tmp_path_factory.mktemp("deploy")
    suffix = uuid.uuid4().hex[:10]
    roles = {"DTSEN_READER_ROLE": f"dtsen_rd_{suffix}", "DTSEN_RESTRICTED_ROLE": f"dtsen_rs_{suffix}",
             "DTSEN_PEKON_ROLE": f"dtsen_pk_{suffix}"}
    with contextlib.ExitStack() as stack:
        stack.callback(_drop_roles, list(roles.values()))  # last: the warehouse's grants go with its database
        instance_url = stack.enter_context(temporary_database("dtsen_dep_instance"))
        warehouse_url = stack.enter_context(temporary_database("dtsen_dep_warehouse"))
        home, landing, artifacts, logs = (tmp / n for n in ("dagster_home", "landing", "artifacts", "logs"))
        for folder in (home, landing, artifacts, logs):
            folder.mkdir()
        shutil.copyfile(PRODUCTION_INSTANCE_YAML, home / "dagster.yaml")
        generate(persons=PERSONS, seed=SEED, out_dir=tmp / "sample")
        port = free_port()
        env = service_environment({
            "DAGSTER_HOME": str(home), **_pg_parts(instance_url),
            "DAGSTER_WEBSERVER_HOST": "127.0.0.1", "DAGSTER_WEBSERVER_PORT": str(port),
            "DTSEN_WAREHOUSE_URL": warehouse_url, "DTSEN_LANDING_DIR": str(landing),
            "DTSEN_ARTIFACTS_DIR": str(artifacts),
            "DTSEN_PSEUDONYM_KEY": "test-only-pseudonym-key-not-a-real-one-0123",
        })
        env.update(roles)  # role names unique to this test (roles are server-wide); defaults in production
        services: list[Service] = []
        stack.callback(lambda: [stop(s) for s in reversed(services)])
        services.append(start_unit(unit("dtsen-webserver.service"), env, logs))
        services.append(start_unit(unit("dtsen-daemon.service"), env, logs))

        repository = wait_for("the webserver loads the code location", lambda: loaded_repository(port), 240,
                              services)
        first_ticks = wait_for("the sensor's first finished tick on the empty landing folder",
                               lambda: [t for t in _sensor_ticks(port, repository) if t["status"] != "STARTED"],
                               240, services)
        delivered = _deliver(tmp / "sample", landing)
        run_id = wait_for("a run started by the landing sensor",
                          lambda: next((t["runIds"][0] for t in _sensor_ticks(port, repository) if t["runIds"]), None),
                          400, services)
        run = wait_for("the sensor's run to finish",
                       lambda: next((r for r in _runs(port) if r["runId"] == run_id and r["status"] in TERMINAL),
                                    None), 900, services, every=5)
        yield Deployment(port, services, instance_url, warehouse_url, home, delivered, first_ticks, run)


def _drop_roles(roles: list[str]) -> None:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for role in roles:
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
    engine.dispose()


def test_the_services_run_on_the_production_instance_config(deployment):
    config = yaml.safe_load((deployment.home / "dagster.yaml").read_text())
    assert config == yaml.safe_load(PRODUCTION_INSTANCE_YAML.read_text())
    assert "postgres" in config["storage"]
    assert not list(deployment.home.rglob("*.db"))  # no SQLite storage beside it
    daemons = {d["daemonType"]: d for d in graphql(deployment.port, DAEMONS)["instance"]["daemonHealth"][
        "allDaemonStatuses"]}
    assert {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR"} <= set(daemons)
    assert all(d["healthy"] for d in daemons.values() if d["required"]), daemons
    assert all(s.process.poll() is None for s in deployment.services)


def test_the_sensor_skips_the_empty_folder_then_starts_one_run_for_the_delivery(deployment):
    first = deployment.first_ticks[0]
    assert first["status"] == "SKIPPED" and first["runIds"] == []
    runs = _runs(deployment.port)
    assert [r["runId"] for r in runs] == [deployment.run["runId"]]
    tags = {t["key"]: t["value"] for t in deployment.run["tags"]}
    assert deployment.run["jobName"] == "nightly_refresh"
    assert tags["dagster/sensor_name"] == SENSOR and tags["dtsen/trigger"] == SENSOR
    assert int(tags["dtsen/changed_files"]) == len(deployment.delivered)
    assert set(tags["dtsen/feeds"].split(",")) == set(FEEDS)


def test_the_sensor_run_succeeds_as_the_webserver_reports_it(deployment):
    assert deployment.run["status"] == "SUCCESS"


def test_the_run_is_stored_in_the_postgres_instance_database(deployment):
    engine = sa.create_engine(deployment.instance_url)
    with engine.connect() as conn:
        status = conn.execute(sa.text("select status from runs where run_id = :r"),
                              {"r": deployment.run["runId"]}).scalar_one()
        events = conn.execute(sa.text("select count(*) from event_logs where run_id = :r"),
                              {"r": deployment.run["runId"]}).scalar_one()
    engine.dispose()
    assert status == "SUCCESS" and events > 50


def test_the_run_published_to_the_postgres_warehouse_with_audit_rows(deployment):
    run_id = deployment.run["runId"]
    engine = sa.create_engine(deployment.warehouse_url)
    with engine.connect() as conn:
        assert conn.dialect.name == "postgresql"
        golden = {t: conn.exec_driver_sql(f"select count(*), count(distinct run_id) from golden.{t}").one()
                  for t in ("person", "household", "person_source", "flag")}
        run_ids = conn.exec_driver_sql("select distinct run_id from golden.person").scalars().all()
        audit = conn.execute(sa.text("select status, triggered_by, deliveries from audit.run where run_id = :r"),
                             {"r": run_id}).one()
        audited_files = conn.execute(sa.text("select source_file from audit.run_delivery where run_id = :r"),
                                     {"r": run_id}).scalars().all()
        registered = conn.exec_driver_sql("select source_file from raw.delivery").scalars().all()
    engine.dispose()
    assert golden["person"][0] > PERSONS * 0.9 and golden["household"][0] > PERSONS / 8
    assert golden["person_source"][0] >= golden["person"][0] and golden["flag"][0] > 0
    assert all(distinct == 1 for _, distinct in golden.values()) and run_ids == [run_id]
    assert audit.status == "PUBLISHED" and audit.triggered_by == f"sensor:{SENSOR}"
    assert sorted(registered) == sorted(deployment.delivered)
    assert audit.deliveries == len(audited_files) > 0 and set(audited_files) <= set(deployment.delivered)
