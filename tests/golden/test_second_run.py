"""Two nightly runs on one warehouse: person and household ids survive a month's re-delivery.

The session's first run (3,000 persons) is copied; the second run gets next month's DTSEN
extract (renamed, one name corrected: every DTSEN record id changes) and a new snapshot of one
pekon with three residents fewer (records removed); the rest is unchanged. People and families, identified through the
generator's truth, must keep their ids; the changes recorded must be few and well-formed.
"""

import shutil

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance

from dtsen_pipeline.cli import write_instance_config
from dtsen_pipeline.golden.evaluate import load_truth, subject_maps
from dtsen_pipeline.sample.next_month import next_month
from dtsen_pipeline.warehouse import engine_for, read_table
from tests.support import make_settings, run_nightly

pytestmark = pytest.mark.slow


def _next_month_landing(landing, target):
    shutil.copytree(landing, target)
    return next_month(target)


@pytest.fixture(scope="module")
def two_runs(duckdb_run, tmp_path_factory):
    first_url = duckdb_run.settings.warehouse_url
    with engine_for(first_url).connect() as conn:  # the run's own engine: flush its WAL first
        conn.exec_driver_sql("CHECKPOINT")
    tmp = tmp_path_factory.mktemp("second_run")
    shutil.copy(first_url.removeprefix("duckdb:///"), tmp / "warehouse.duckdb")
    removed = _next_month_landing(duckdb_run.landing, tmp / "landing")
    home = write_instance_config(tmp / "dagster_home")
    settings = make_settings(tmp, tmp / "landing", f"duckdb:///{tmp / 'warehouse.duckdb'}")
    run_id, success = run_nightly(settings, DagsterInstance.from_config(str(home)))
    first = sa.create_engine(first_url)
    second = sa.create_engine(settings.warehouse_url)
    yield {"first": first, "second": second, "run_id": run_id, "success": success, "removed": removed,
           "truth1": load_truth(duckdb_run.landing / "_truth"), "truth2": load_truth(tmp / "landing" / "_truth")}
    first.dispose()
    second.dispose()


def _ids(engine, truth):
    source = read_table(engine, "golden", "person_source", ["person_id", "household_id", "record_id"])
    person_map, household_map = subject_maps(source, truth)
    persons = person_map.reset_index().drop_duplicates("person_key", keep=False).set_index("person_key")
    families = household_map.reset_index().drop_duplicates("family_key", keep=False).set_index("family_key")
    return persons["person_id"], families["household_id"], source


def test_second_run_succeeds_and_dtsen_records_were_renamed(two_runs):
    assert two_runs["success"]
    source = read_table(two_runs["second"], "golden", "person_source", ["record_id", "feed"])
    dtsen = source[source["feed"] == "dtsen"]["record_id"]
    assert len(dtsen) > 1000 and not dtsen.str.contains("202611").any()
    assert len(two_runs["removed"]) == 3 and not source["record_id"].isin(two_runs["removed"]).any()


def test_people_and_families_keep_their_ids(two_runs):
    p1, h1, _ = _ids(two_runs["first"], two_runs["truth1"])
    p2, h2, _ = _ids(two_runs["second"], two_runs["truth2"])
    both = p1.index.intersection(p2.index)
    assert len(both) > 2500
    assert (p1[both] == p2[both]).mean() >= 0.98
    families = h1.index.intersection(h2.index)
    assert len(families) > 700
    assert (h1[families] == h2[families]).mean() >= 0.97


def test_changes_are_recorded_few_and_well_formed(two_runs):
    changes = read_table(two_runs["second"], "golden", "id_change")
    persons = read_table(two_runs["second"], "golden", "person", ["person_id"])
    households = read_table(two_runs["second"], "golden", "household", ["household_id"])
    assert set(changes["change_run_id"]) <= {two_runs["run_id"]}
    assert set(changes["kind"]) <= {"MERGE", "SPLIT", "REMOVED", "RESTORED"}
    assert len(changes) < 0.02 * len(persons)
    live = set(persons["person_id"]) | set(households["household_id"])
    merged = changes[changes["kind"] == "MERGE"]
    assert merged["new_id"].isin(live).all() and not merged["old_id"].isin(live).any()
    split = changes[changes["kind"] == "SPLIT"]
    assert split["new_id"].isin(live).all()


def test_registry_grows_without_reusing_ids(two_runs):
    registry = read_table(two_runs["second"], "golden_state", "id_registry")
    before = read_table(two_runs["first"], "golden_state", "id_registry")
    assert registry["id"].is_unique
    assert set(before["id"]) <= set(registry["id"])
    for subject in ("PERSON", "HOUSEHOLD"):
        new = registry[(registry["subject_type"] == subject) & (registry["issued_run_id"] == two_runs["run_id"])]
        old_max = before.loc[before["subject_type"] == subject, "seq"].max()
        assert (new["seq"] > old_max).all()
