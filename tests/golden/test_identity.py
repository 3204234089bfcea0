"""Stable ids across runs: add, correct, remove, merge, split, never reuse.

Each test runs the id rules twice (or more) on small hand-made groups of records, carrying the
state and registry from one run to the next exactly as the pipeline does: once in pandas
(`assign_ids`) and once as the pipeline runs them, the warehouse joining the keys
(`id_state.assign_in_warehouse`) on DuckDB and on PostgreSQL. Both must give the same ids.
"""

import pandas as pd
import pytest
import sqlalchemy as sa

from dtsen_pipeline.golden.id_state import HOUSEHOLD, PERSON, assign_in_warehouse
from dtsen_pipeline.golden.identity import (
    ACTIVE,
    DORMANT,
    MERGE,
    REMOVED,
    RESTORED,
    RETIRED,
    SPLIT,
    assign_ids,
    empty_registry,
    empty_state,
    household_units,
    person_units,
)
from dtsen_pipeline.warehouse import read_table, replace_table, table_exists, write_transaction
from tests.support import temporary_database


def persons(clusters: dict[str, list[str]], nik: dict[str, str] | None = None) -> pd.DataFrame:
    """Records (record_id, cluster_id, nik) from {cluster: [record ids]}."""
    nik = nik or {}
    rows = [(r, c, nik.get(r)) for c, records in clusters.items() for r in records]
    return pd.DataFrame(rows, columns=["record_id", "cluster_id", "nik"])


class Runs:
    """Successive runs sharing state and registry, like nightly refreshes."""

    def __init__(self, prefix: str = "P") -> None:
        self.prefix = prefix
        self.state = empty_state()
        self.registry = empty_registry()
        self.n = 0

    def run(self, units: pd.DataFrame):
        self.n += 1
        out = assign_ids(units, self.state, self.registry, prefix=self.prefix, run_id=f"run{self.n}")
        self.state, self.registry = out.state, out.registry
        return out

    def persons(self, clusters, nik=None) -> tuple[dict[str, str], pd.DataFrame]:
        """Run on person clusters; returns {cluster: id} and the run's changes."""
        out = self.run(person_units(persons(clusters, nik)))
        return dict(zip(out.ids["group"], out.ids["id"], strict=True)), out.changes



class WarehouseRuns(Runs):
    """The same runs through the warehouse: units, last state and registry in tables, as the
    identity steps find them (golden_state), and the outcome read back from schema identity."""

    TABLES = {"P": (PERSON, "person", "cluster_id", "person_id"), "H": (HOUSEHOLD, "household", "no_kk", "household_id")}

    def __init__(self, engine: sa.Engine, prefix: str = "P") -> None:
        super().__init__(prefix)
        self.engine = engine
        self.subject, self.name, self.group_column, self.id_column = self.TABLES[prefix]
        with write_transaction(engine) as conn:
            for schema, table in (("golden_state", f"{self.name}_key"), ("golden_state", "id_registry")):
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {schema}.{table}")

    def run(self, units: pd.DataFrame):
        self.n += 1
        if len(self.state):
            replace_table(self.engine, self.state.astype("str"), "golden_state", f"{self.name}_key")
        if len(self.registry):
            registry = self.registry.astype({c: "str" for c in self.registry.columns if c != "seq"})
            replace_table(self.engine, registry.assign(subject_type=self.subject), "golden_state", "id_registry")
        replace_table(self.engine, units.rename(columns={"group": "grp"}).astype({"grp": "str", "unit": "str", "key": "str"}),
                      "work", "id_units")
        out = assign_in_warehouse(self.engine, self.subject, "SELECT grp, unit, key, key_rank FROM work.id_units",
                                  f"run{self.n}", self.group_column, self.id_column)
        state = read_table(self.engine, "golden_state", f"{self.name}_key__next")  # awaiting publication
        registry = read_table(self.engine, "identity", f"{self.name}_registry")
        registry["successor_id"] = registry["successor_id"].where(registry["successor_id"].notna(), None)
        self.state, self.registry = state, registry.astype({"seq": "int64"})
        assert table_exists(self.engine, "identity", self.id_column)
        return out


@pytest.fixture(scope="module", params=["pandas", "duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def make_runs(request):
    """Runs on one side: pandas, or the warehouse (DuckDB, PostgreSQL)."""
    if request.param == "pandas":
        yield Runs
    elif request.param == "duckdb":
        engine = sa.create_engine("duckdb:///:memory:")
        yield lambda prefix="P": WarehouseRuns(engine, prefix)
        engine.dispose()
    else:
        with temporary_database("dtsen_ids") as url:
            engine = sa.create_engine(url)
            yield lambda prefix="P": WarehouseRuns(engine, prefix)
            engine.dispose()


def changes_of(changes: pd.DataFrame) -> set[tuple[str, str, str | None]]:
    return {(k, o, n) for k, o, n in zip(changes["kind"], changes["old_id"], changes["new_id"], strict=True)}


def test_first_run_issues_sequential_ids_in_record_order_and_no_changes(make_runs):
    ids, changes = make_runs().persons({"c2": ["dtsen:b#1"], "c1": ["dukcapil:a#1", "dtsen:a#2"]})
    assert ids == {"c1": "P0000000001", "c2": "P0000000002"}  # c1's smallest record sorts first
    assert changes.empty


@pytest.mark.postgres
def test_new_ids_follow_the_record_ids_byte_order_whatever_the_database_sorts_by():
    """A server whose databases sort text by a language's rules (ICU en-US puts _ before a before B;
    bytes put B before _ before a) still numbers new persons in the record ids' byte order, as
    pandas does."""
    clusters = {"c1": ["dtsen:a#1"], "c2": ["dtsen:B#1"], "c3": ["dtsen:_x#1"], "c4": ["dtsen:A#2"]}
    expected, _ = Runs().persons(clusters)
    assert [expected[c] for c in ("c4", "c2", "c3", "c1")] == [f"P000000000{i}" for i in range(1, 5)]
    icu = "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
    with temporary_database("dtsen_icu", icu) as url:
        engine = sa.create_engine(url)
        with engine.connect() as conn:  # the premise: this database sorts otherwise than bytes
            order = [r[0] for r in conn.exec_driver_sql("SELECT x FROM (VALUES ('a'), ('B'), ('_')) AS t(x) ORDER BY x")]
        assert order != ["B", "_", "a"]
        got, _ = WarehouseRuns(engine).persons(clusters)
        engine.dispose()
    assert got == expected


def test_ids_are_not_derived_from_identifiers(make_runs):
    nik = {"r1": "1806010101900001"}
    ids, _ = make_runs().persons({"c": ["r1"]}, nik)
    assert "1806" not in ids["c"] and ids["c"] == "P0000000001"


def test_same_records_under_new_cluster_ids_keep_their_ids(make_runs):
    runs = make_runs()
    first, _ = runs.persons({"a": ["r1", "r2"], "b": ["r3"]})
    second, changes = runs.persons({"x9": ["r3"], "x1": ["r2", "r1"]})
    assert second == {"x1": first["a"], "x9": first["b"]}
    assert changes.empty


def test_added_records_join_their_person_and_new_people_get_new_ids(make_runs):
    runs = make_runs()
    first, _ = runs.persons({"a": ["r1"], "b": ["r2"]})
    second, changes = runs.persons({"a": ["r1", "r4"], "b": ["r2"], "c": ["r5"]})
    assert second["a"] == first["a"] and second["b"] == first["b"]
    assert second["c"] == "P0000000003"
    assert changes.empty


def test_corrected_record_keeps_its_person_and_a_renamed_file_is_recognised_by_nik(make_runs):
    runs = make_runs()
    first, _ = runs.persons({"a": ["dtsen:d1#1", "dukcapil:k#7"]},
                            {"dtsen:d1#1": "1806010101900001", "dukcapil:k#7": "1806010101900001"})
    # the corrected record keeps its record id (its NIK typo was fixed): same person
    again, _ = runs.persons({"z": ["dtsen:d1#1", "dukcapil:k#7"]},
                            {"dtsen:d1#1": "1806010101900002", "dukcapil:k#7": "1806010101900002"})
    assert again["z"] == first["a"]
    # next month's delivery: every record id is new, only the NIK is known
    renamed, changes = runs.persons({"q": ["dtsen:d2#5", "dukcapil:k2#3"]},
                                    {"dtsen:d2#5": "1806010101900002", "dukcapil:k2#3": "1806010101900002"})
    assert renamed["q"] == first["a"] and changes.empty


def test_a_record_without_nik_is_recognised_by_name_and_birth_date_after_a_rename(make_runs):
    runs = make_runs()
    first = runs.run(person_units(pd.DataFrame({
        "record_id": ["dtsen:d1#4"], "cluster_id": ["c"], "nik": [None], "feed": ["dtsen"],
        "name_key": ["SITI AMINAH"], "tgl_lahir": ["1980-02-03"]})))
    renamed = runs.run(person_units(pd.DataFrame({
        "record_id": ["dtsen:d2#9", "dtsen:d2#10"], "cluster_id": ["x", "y"], "nik": [None, None],
        "feed": ["dtsen", "dtsen"], "name_key": ["SITI AMINAH", "SITI AMINAH"],
        "tgl_lahir": ["1980-02-03", "1980-02-04"]})))
    ids = dict(zip(renamed.ids["group"], renamed.ids["id"], strict=True))
    assert ids["x"] == first.ids["id"].iloc[0] and ids["y"] != ids["x"]  # another birth date: another person
    assert renamed.changes.empty


def test_removed_records_keep_the_id_and_a_person_who_comes_back_gets_it_back(make_runs):
    runs = make_runs()
    first, _ = runs.persons({"a": ["r1", "r2"], "b": ["pekon:p#1"]})
    second, changes = runs.persons({"a": ["r1"]})  # r2 removed; b's only record gone (pekon file missing)
    assert second["a"] == first["a"]
    assert changes_of(changes) == {(REMOVED, first["b"], None)}
    assert runs.registry.set_index("id").loc[first["b"], "status"] == DORMANT
    third, changes = runs.persons({"a": ["r1"], "b2": ["pekon:p#1"]})
    assert third["b2"] == first["b"]
    assert changes_of(changes) == {(RESTORED, first["b"], first["b"])}
    assert runs.registry.set_index("id").loc[first["b"], "status"] == ACTIVE


def test_merge_keeps_the_id_with_most_records_and_retires_the_other_into_it(make_runs):
    runs = make_runs()
    first, _ = runs.persons({"a": ["r1"], "b": ["r2", "r3"]})
    merged, changes = runs.persons({"m": ["r1", "r2", "r3"]})
    assert merged["m"] == first["b"]
    assert changes_of(changes) == {(MERGE, first["a"], first["b"])}
    row = runs.registry.set_index("id").loc[first["a"]]
    assert row["status"] == RETIRED and row["successor_id"] == first["b"] and row["changed_run_id"] == "run2"


def test_merge_tie_goes_to_the_oldest_id(make_runs):
    runs = make_runs()
    first, _ = runs.persons({"a": ["r9"], "b": ["r1"]})  # b is issued first (smaller record id)
    merged, changes = runs.persons({"m": ["r1", "r9"]})
    assert merged["m"] == first["b"] == "P0000000001"
    assert changes_of(changes) == {(MERGE, first["a"], first["b"])}


def test_split_keeps_the_id_with_the_larger_part_and_records_the_new_id(make_runs):
    runs = make_runs()
    first, _ = runs.persons({"a": ["r1", "r2", "r3"]})
    split, changes = runs.persons({"x": ["r3"], "y": ["r1", "r2"]})
    assert split["y"] == first["a"]
    assert split["x"] == "P0000000002"
    assert changes_of(changes) == {(SPLIT, first["a"], split["x"])}
    assert int(changes["units"].iloc[0]) == 1


def test_a_change_counts_every_known_record_it_moves(make_runs):
    """The units of a MERGE or SPLIT are the records the old id had in the group that took them,
    however the votes are counted (one row per unit, or per group and id with a count)."""
    runs = make_runs()
    first, _ = runs.persons({"a": ["r1", "r2", "r3", "r4", "r5"], "b": ["r6", "r7"]})
    merged, merge_changes = runs.persons({"a": ["r1", "r2", "r3", "r4", "r5", "r6", "r7"]})
    assert merged["a"] == first["a"]
    merge = merge_changes.set_index("kind").loc[MERGE]
    assert (merge["old_id"], merge["new_id"], int(merge["units"])) == (first["b"], first["a"], 2)
    split, split_changes = runs.persons({"a": ["r1", "r2", "r3", "r4"], "x": ["r5", "r6", "r7"]})
    assert split["a"] == first["a"]
    row = split_changes.set_index("kind").loc[SPLIT]
    assert (row["old_id"], row["new_id"], int(row["units"])) == (first["a"], split["x"], 3)


def test_ids_are_never_reused_after_merge_or_removal(make_runs):
    runs = make_runs()
    runs.persons({"a": ["r1"], "b": ["r2"], "c": ["r3"]})
    runs.persons({"m": ["r1", "r2"]})  # b merged into a, c removed
    ids, _ = runs.persons({"m": ["r1", "r2"], "n": ["r7"]})
    assert ids["n"] == "P0000000004"
    assert runs.registry["id"].is_unique and list(runs.registry["seq"]) == [1, 2, 3, 4]


def test_a_record_cannot_belong_to_two_groups(make_runs):
    units = person_units(persons({"a": ["r1"], "b": ["r1"]}))
    with pytest.raises(ValueError, match="more than one group"):
        make_runs().run(units)


def _scratch_tables(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.exec_driver_sql("SELECT table_name FROM duckdb_tables() WHERE temporary").scalars())


def test_the_unit_and_group_tables_leave_with_the_id_step_failed_or_not():
    """They are temporary tables of the step's own connection: never written into schema
    identity, and gone from the connection when the step ends, also when it fails."""
    engine = sa.create_engine("duckdb:///:memory:", poolclass=sa.pool.StaticPool)  # one connection: what a step left shows
    runs = WarehouseRuns(engine)
    with pytest.raises(ValueError, match="more than one group"):
        runs.run(person_units(persons({"a": ["r1"], "b": ["r1"]})))
    assert _scratch_tables(engine) == []
    ids, _ = runs.persons({"a": ["r1"], "b": ["r2"]})
    assert ids == {"a": "P0000000001", "b": "P0000000002"}
    assert _scratch_tables(engine) == []
    with engine.connect() as conn:
        tables = set(conn.exec_driver_sql("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'identity'").scalars())
    assert tables == {"person_id", "person_registry", "person_change"}
    engine.dispose()


def test_a_nik_shared_by_two_people_is_not_used_to_match(make_runs):
    runs = make_runs("P")
    same = "1806010101900001"
    first, _ = runs.persons({"a": ["r1"], "b": ["r2"]}, {"r1": same, "r2": same})
    assert not runs.state["key"].str.startswith("nik:").any()
    renamed, _ = runs.persons({"x": ["r1b"]}, {"r1b": same})  # only the shared NIK: not enough
    assert renamed["x"] not in first.values()


def households(members: dict[str, list[str]], nik: dict[str, str] | None = None) -> pd.DataFrame:
    """Member records (record_id, nik, no_kk) from {No. KK: [record ids]}."""
    nik = nik or {}
    rows = [(r, nik.get(r), kk) for kk, records in members.items() for r in records]
    return pd.DataFrame(rows, columns=["record_id", "nik", "no_kk"])


def family_ids(runs: Runs, members, nik=None):
    out = runs.run(household_units(households(members, nik)))
    return dict(zip(out.ids["group"], out.ids["id"], strict=True)), out.changes


def test_household_keeps_its_id_when_its_no_kk_is_corrected_or_a_member_is_born(make_runs):
    runs = make_runs("H")
    first, _ = family_ids(runs, {"1806010101200001": ["r1", "r2", "r3"]})
    fixed, changes = family_ids(runs, {"1806010101200009": ["r1", "r2", "r3", "r4"]})
    assert fixed["1806010101200009"] == first["1806010101200001"] == "H0000000001"
    assert changes.empty


def test_household_split_when_a_child_takes_a_new_kk_and_merge_of_two_cards(make_runs):
    runs = make_runs("H")
    first, _ = family_ids(runs, {"KK_A": ["a1", "a2", "a3", "a4"], "KK_B": ["b1"]})
    split, changes = family_ids(runs, {"KK_A": ["a1", "a2", "a3"], "KK_C": ["a4"], "KK_B": ["b1"]})
    assert split["KK_A"] == first["KK_A"] and split["KK_B"] == first["KK_B"]
    assert changes_of(changes) == {(SPLIT, first["KK_A"], split["KK_C"])}
    merged, changes = family_ids(runs, {"KK_A": ["a1", "a2", "a3", "b1"], "KK_C": ["a4"]})
    assert merged["KK_A"] == first["KK_A"]
    assert changes_of(changes) == {(MERGE, first["KK_B"], first["KK_A"])}
