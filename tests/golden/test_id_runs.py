"""Stable ids through the golden chain across runs: renamed deliveries, removed, corrected and
added records, a merge and a split, and a failed run that must not move the ids on."""

import pandas as pd
import pytest

from dtsen_pipeline.golden.identity import key_digest
from dtsen_pipeline.warehouse import read_table
from tests.golden.world import Built, World

NIK = {name: f"18060117058{i:05d}" for i, name in enumerate("ABCDEFGH", start=1)}
KK1, KK2, KK3 = "1806011701200101", "1806011701200102", "1806011701200103"


def first_delivery() -> World:
    w = World()
    w.add("dukcapil", "A", nik=NIK["A"], no_kk=KK1, hubungan="KEPALA_KELUARGA", file="dukcapil/D_2026-11.csv")
    w.add("dtsen", "A", nik=NIK["A"], no_kk=KK1, desil=2, file="dtsen/DTSEN_2026-11.csv")
    w.add("bansos", "A", program="BPNT", periode="2026-11", no_kk=KK1, file="bansos/BPNT_2026-11.csv")
    w.add("dukcapil", "B", nik=NIK["B"], no_kk=KK1, hubungan="PASANGAN", file="dukcapil/D_2026-11.csv")
    w.add("pekon", "B", nik=NIK["B"], no_kk=KK1, file="pekon/pekon_1806011001.csv")
    w.add("dukcapil", "C", nik=NIK["C"], no_kk=KK2, nama="CAHYO", hubungan="KEPALA_KELUARGA",
          file="dukcapil/D_2026-11.csv")
    w.add("dukcapil", "D1", nik=NIK["D"], no_kk=KK3, hubungan="KEPALA_KELUARGA", file="dukcapil/D_2026-11.csv")
    w.add("pekon", "D2", nik=None, no_kk=KK3, nama="DEWI", file="pekon/pekon_1806011002.csv")
    w.add("pekon", "D2", nik=None, no_kk=KK3, nama="DEWI", file="pekon/pekon_1806011002.csv")
    return w


def second_delivery() -> World:
    """Next month: DTSEN re-delivered under a new name (every DTSEN record id changes), the pekon
    file missing, C's name corrected in place, a new person E, linkage now joins D1 and D2 and
    splits A's programme record off (a linkage change, not a data change)."""
    w = World()
    w.add("dukcapil", "A", nik=NIK["A"], no_kk=KK1, hubungan="KEPALA_KELUARGA", file="dukcapil/D_2026-11.csv")
    w.add("dtsen", "A", nik=NIK["A"], no_kk=KK1, desil=2, file="dtsen/DTSEN_2026-12.csv")
    w.add("bansos", "A-split", program="BPNT", periode="2026-11", no_kk=KK1, file="bansos/BPNT_2026-11.csv")
    w.add("dukcapil", "B", nik=NIK["B"], no_kk=KK1, hubungan="PASANGAN", file="dukcapil/D_2026-11.csv")
    next(w._row)  # B's pekon record is gone
    w.add("dukcapil", "C", nik=NIK["C"], no_kk=KK2, nama="CAHYONO", hubungan="KEPALA_KELUARGA",
          file="dukcapil/D_2026-11.csv")
    w.add("dukcapil", "D", nik=NIK["D"], no_kk=KK3, hubungan="KEPALA_KELUARGA", file="dukcapil/D_2026-11.csv")
    w.add("pekon", "D", nik=None, no_kk=KK3, nama="DEWI", file="pekon/pekon_1806011002.csv")
    w.add("pekon", "D", nik=None, no_kk=KK3, nama="DEWI", file="pekon/pekon_1806011002.csv")
    w.add("dukcapil", "E", nik=NIK["E"], no_kk=KK2, hubungan="ANAK", file="dukcapil/D_2026-11.csv")
    return w


def ids_by_nik(built: Built) -> dict[str, tuple[str, str]]:
    persons = built.table("person")
    return {n: (p, h) for n, p, h in zip(persons["nik"], persons["person_id"], persons["household_id"], strict=True)
            if n is not None}


@pytest.fixture(scope="module")
def runs(warehouse):
    built = Built(warehouse)
    first_delivery().build(warehouse, run_id="run-1")
    before = {"ids": ids_by_nik(built), "persons": built.table("person"), "source": built.table("person_source")}
    second_delivery().build(warehouse, run_id="run-2")
    return built, before


def test_people_and_families_keep_their_ids_across_a_renamed_delivery(runs):
    built, before = runs
    after = ids_by_nik(built)
    for name in "ABC":
        assert after[NIK[name]] == before["ids"][NIK[name]], name  # A: DTSEN renamed; B: pekon gone; C: corrected
    assert after[NIK["A"]][1] == after[NIK["B"]][1]  # still one family


def test_a_new_person_gets_a_new_id_and_joins_the_family(runs):
    built, before = runs
    after = ids_by_nik(built)
    old_ids = set(before["persons"]["person_id"])
    assert after[NIK["E"]][0] not in old_ids
    assert after[NIK["E"]][1] == after[NIK["C"]][1]


def test_merge_and_split_are_recorded(runs):
    built, before = runs
    changes = built.table("id_change")
    this_run = changes[changes["change_run_id"] == "run-2"]
    source = before["source"]
    d1 = source.loc[source["record_id"].str.startswith("dukcapil:") & source["person_id"].isin(
        before["persons"].loc[before["persons"]["nik"] == NIK["D"], "person_id"]), "person_id"].iloc[0]
    (d2,) = set(source.loc[source["record_id"].str.startswith("pekon:pekon/pekon_1806011002"), "person_id"])
    merges = this_run[(this_run["kind"] == "MERGE") & (this_run["subject_type"] == "PERSON")]
    assert len(merges) == 1
    assert {merges["old_id"].iloc[0], merges["new_id"].iloc[0]} == {d1, d2}
    assert merges["new_id"].iloc[0] == ids_by_nik(built)[NIK["D"]][0] == d2  # two records beat one
    a_id = before["ids"][NIK["A"]][0]
    splits = this_run[(this_run["kind"] == "SPLIT") & (this_run["subject_type"] == "PERSON")]
    assert list(splits["old_id"]) == [a_id]
    assert splits["new_id"].iloc[0] not in set(before["persons"]["person_id"])
    assert set(this_run["kind"]) <= {"MERGE", "SPLIT"}


def test_state_registry_never_reuses_an_id(runs, warehouse):
    registry = read_table(warehouse, "golden_state", "id_registry")
    assert registry["id"].is_unique
    persons = registry[registry["subject_type"] == "PERSON"]
    assert list(persons.sort_values("seq")["seq"]) == list(range(1, len(persons) + 1))
    retired = persons[persons["status"] == "RETIRED"]
    assert len(retired) == 1 and retired["successor_id"].notna().all()
    assert persons["id"].str.fullmatch(r"P\d{10}").all()


def test_a_run_that_is_not_published_does_not_move_the_ids(runs, warehouse):
    """Run 3 fails before publication (no commit); run 4 on the same data matches against run 2."""
    built, _ = runs
    before = built.table("id_change")
    third = second_delivery()
    third.add("dukcapil", "F", nik=NIK["F"], no_kk=KK2, hubungan="ANAK", file="dukcapil/D_2026-11.csv")
    third.build(warehouse, run_id="run-3", commit=False)
    failed_ids = ids_by_nik(built)
    third.build(warehouse, run_id="run-4")
    assert ids_by_nik(built) == failed_ids  # same state in, same ids out
    history = built.table("id_change")
    assert "run-3" not in set(history["change_run_id"])
    assert len(history) == len(before)  # nothing changed since run 2: history carried over
    registry = read_table(warehouse, "golden_state", "id_registry")
    assert set(registry.loc[registry["issued_run_id"] == "run-4", "id"]) == {failed_ids[NIK["F"]][0]}


def test_a_record_without_nik_is_known_by_its_feed_name_and_birth_date_as_text(runs, warehouse):
    """The key of a record without NIK digests `feed|name key|YYYY-MM-DD`, whichever warehouse and
    read path delivered the birth date (a date object, a timestamp or text): the key a later run
    matches against must be the key this one wrote."""
    staged = read_table(warehouse, "staging", "pekon")
    dewi = staged[staged["nik"].isna() & (staged["nama"] == "DEWI")].iloc[0]
    born = pd.Timestamp(dewi["tgl_lahir"]).strftime("%Y-%m-%d")
    keys = set(read_table(warehouse, "golden_state", "person_key")["key"])
    assert key_digest("who", f"pekon|{dewi['name_key']}|{born}") in keys
