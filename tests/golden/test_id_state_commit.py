"""The id state commits in the publication's transaction: a run killed during publication moves
neither the golden tables nor the ids on, and a published run always moves both (#14: a kill
between two commits once gave four published ids to other people the next night)."""

import pytest

from assets.publish import GOLDEN_TABLES
from dtsen_pipeline.golden.id_state import copy_id_state
from dtsen_pipeline.publish import PublishConfig, RoleConfig, publish, resolve_key
from dtsen_pipeline.warehouse import read_sql
from tests.golden.test_id_runs import first_delivery, second_delivery
from tests.publish.support import TEST_KEY, run_info

NO_ROLES = RoleConfig(reader=None, restricted=None, pekon=None)


class Killed(Exception):
    """Stands for the process dying after the id state was written, before the commit."""


def _publish(engine, run_id, with_publication):
    key = resolve_key(engine.dialect.name, TEST_KEY, None)
    return publish(engine, GOLDEN_TABLES, run_info(run_id), PublishConfig(roles=NO_ROLES), key,
                   with_publication=with_publication)


def _keys(engine, schema):
    return read_sql(engine, f'SELECT "key", "id" FROM {schema}.person_key ORDER BY "key"')


def _published(engine):
    return read_sql(engine, "SELECT person_id, run_id FROM golden.person ORDER BY person_id")


def test_ids_commit_with_the_golden_tables_or_not_at_all(warehouse):
    first_delivery().build(warehouse, run_id="run-1", commit=False)
    result = _publish(warehouse, "run-1", copy_id_state)
    assert result.written_with["person_key"] == len(_keys(warehouse, "identity")) > 0
    state, golden = _keys(warehouse, "golden_state"), _published(warehouse)
    assert state.equals(_keys(warehouse, "identity"))
    assert set(golden["person_id"]) <= set(state["id"])

    second_delivery().build(warehouse, run_id="run-2", commit=False)
    assert not _keys(warehouse, "identity").equals(state)  # the new run moved the ids on

    def killed(conn):
        copy_id_state(conn)
        raise Killed

    with pytest.raises(Killed):
        _publish(warehouse, "run-2", killed)
    assert _keys(warehouse, "golden_state").equals(state)  # neither the id state ...
    assert _published(warehouse).equals(golden)  # ... nor the golden tables moved

    _publish(warehouse, "run-2", copy_id_state)
    assert _keys(warehouse, "golden_state").equals(_keys(warehouse, "identity"))
    assert set(_published(warehouse)["run_id"]) == {"run-2"}
