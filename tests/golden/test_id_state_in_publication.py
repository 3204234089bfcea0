"""An id is never reused, whatever is killed when (issue #14, item 9).

The stable-id state (`golden_state.*`) is written in the publication's own transaction. Three
monthly runs: the second publishes and is "killed" right after its commit (nothing of the run
after `publish` returns ever happens); the third must keep every id the second published for the
same person and give none of them to anyone else. The same three runs with the state left for a
step after the commit (`also=None`: the old order, a kill in between) show the hazard the test
guards against: the third run hands a published id to a different person, with no id_change row.
"""

import datetime as dt

import pytest
import sqlalchemy as sa

from dtsen_pipeline.golden.id_state import write_id_state
from dtsen_pipeline.publish import PublishConfig, RoleConfig, RunInfo, publish, resolve_key
from dtsen_pipeline.publish.contract import load_contract
from dtsen_pipeline.warehouse import read_sql, read_table
from tests.golden.world import World

NIK = {name: f"18060117058{i:05d}" for i, name in enumerate("ABCDEF", start=1)}
KK = {name: f"18060117012{i:05d}" for i, name in enumerate("ABCDEF", start=1)}
KEY = "test-only-pseudonym-key-0123456789abcdef"  # a test key, not a real one
NO_ROLES = PublishConfig(roles=RoleConfig(reader=None, restricted=None, pekon=None))
TABLES = ("person", "person_source", "household", "flag", "id_change")


def month(*people: str) -> World:
    w = World()
    for p in people:
        w.add("dukcapil", p, nik=NIK[p], no_kk=KK[p], hubungan="KEPALA_KELUARGA",
              file=f"dukcapil/D_{p}.csv")  # a record id of its own per person
    return w


def publish_run(engine: sa.Engine, world: World, run_id: str, also=write_id_state):
    world.build(engine, run_id=run_id, commit=False)  # the chain; the state is the publication's job
    info = RunInfo(run_id, "nightly_refresh", dt.datetime(2026, 12, 1), "manual:test")
    return publish(engine, TABLES, info, NO_ROLES, resolve_key("duckdb", KEY, None), contract=load_contract(),
                   also=also)


def person_of_id(engine: sa.Engine) -> dict[str, str]:
    persons = read_sql(engine, "SELECT person_id, nik FROM golden.person")
    return dict(zip(persons["person_id"], persons["nik"], strict=True))


def reused(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(i for i in before.keys() & after.keys() if before[i] != after[i])


@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    yield engine
    engine.dispose()


def three_runs(engine: sa.Engine, second_also):
    publish_run(engine, month("A", "B", "C"), "run-1")
    publish_run(engine, month("A", "B", "D", "E"), "run-2", also=second_also)  # C gone, D and E new
    published = person_of_id(engine)
    publish_run(engine, month("A", "B", "E", "F"), "run-3")  # D gone, F new
    return published, person_of_id(engine)


def test_a_run_killed_after_its_publication_commit_leaves_no_id_to_reuse(engine):
    published, third = three_runs(engine, write_id_state)
    assert len(published) == 4 and len(third) == 4
    assert reused(published, third) == []
    for person in ("A", "B", "E"):  # still delivered: the id the second run published
        assert {v: k for k, v in published.items()}[NIK[person]] == {v: k for k, v in third.items()}[NIK[person]]
    changes = read_table(engine, "golden", "id_change")
    third_run = changes[(changes["change_run_id"] == "run-3") & (changes["subject_type"] == "PERSON")]
    d_id = {v: k for k, v in published.items()}[NIK["D"]]
    assert third_run[["kind", "old_id"]].values.tolist() == [["REMOVED", d_id]]  # D's id retired, not reused
    registry = read_table(engine, "golden_state", "id_registry")
    assert registry["id"].is_unique
    assert set(third) <= set(registry.loc[registry["status"] == "ACTIVE", "id"])


def test_without_the_state_in_the_transaction_the_next_run_reuses_ids(engine):
    """The hazard: the second run's state never committed (killed between publication and the
    state step); the third run matches against the first run's state."""
    published, third = three_runs(engine, None)
    assert reused(published, third), "expected the third run to give a published id to someone else"
    changes = read_table(engine, "golden", "id_change")
    d_id = {v: k for k, v in published.items()}[NIK["D"]]
    assert third[d_id] != NIK["D"] and d_id not in set(changes["old_id"])  # given away, no id_change row


def test_a_failure_before_the_commit_moves_neither_tables_nor_ids(engine):
    publish_run(engine, month("A", "B", "C"), "run-1")
    before = person_of_id(engine)
    state = read_table(engine, "golden_state", "id_registry")

    def state_then_fail(conn):
        write_id_state(conn)
        raise RuntimeError("killed inside the publication")

    with pytest.raises(RuntimeError, match="killed inside"):
        publish_run(engine, month("A", "B", "D"), "run-2", also=state_then_fail)
    assert person_of_id(engine) == before
    assert read_sql(engine, "SELECT DISTINCT run_id FROM golden.person")["run_id"].tolist() == ["run-1"]
    after = read_table(engine, "golden_state", "id_registry")
    assert after.sort_values("id").reset_index(drop=True).equals(state.sort_values("id").reset_index(drop=True))
    publish_run(engine, month("A", "B", "D"), "run-3")
    assert reused(before, person_of_id(engine)) == []
