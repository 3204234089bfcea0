"""Moved and dead recipients found from what the sources say (intermediate.person_move, build.flag).

Hand-made families, each a case a real delivery shows: a family that moved with a new No. KK,
one member who moved onto another card while the list keeps the old one, a village renumbered or
split (not a move), a list already updated, village data from another village, a civil registry
that contradicts itself; a death known only from the registry's date of death, in another
village than the list's. Run on DuckDB and PostgreSQL like the other golden tests.
"""

import datetime as dt

import pandas as pd
import pytest

from dtsen_pipeline.golden.reference import village_code_changes
from dtsen_pipeline.reports.labels import flag_evidence
from dtsen_pipeline.reports.worklists import worklist_rows
from tests.golden.world import DESA, DESA_2, Built, World

KK = iter(f"18060117013{i:05d}" for i in range(1, 10_000))
SUKA_BUMI, SUKA_NEGERI_JAYA = "18.06.02.2016", "18.06.02.2017"  # Talang Padang (Kemendagri 2025)
BANJAR_SARI, SINGOSARI = "18.06.02.2018", "18.06.02.2019"
NEGERI_RATU = "18.06.01.2016"  # Kota Agung


@pytest.fixture(scope="module")
def world(warehouse, tmp_path_factory):
    w = World()
    r = {}

    def family(label: str, list_desa: str, *, head_desa: str | None = None, child_desa: str | None = None,
               head_kk: str | None = None, nama_desa: str | None = None, registry: bool = True) -> str:
        """Head (the recipient) and child, listed by DTSEN and on the current PKH list in `list_desa`
        with the family's card; the civil registry places each where the case says."""
        kk = next(KK)
        head, child = w.nik(), w.nik()
        if registry:
            r[f"{label}_head"] = w.add("dukcapil", f"{label}_h", nik=head, no_kk=head_kk or kk,
                                       hubungan="KEPALA_KELUARGA", kode_desa=head_desa or list_desa)
            w.add("dukcapil", f"{label}_c", nik=child, no_kk=kk, hubungan="ANAK",
                  kode_desa=child_desa or head_desa or list_desa)
        for who, nik in (("h", head), ("c", child)):
            r[f"{label}_dtsen_{who}"] = w.add("dtsen", f"{label}_{who}", nik=nik, no_kk=kk, kode_desa=list_desa,
                                              desil=2, id_keluarga=f"ID-{label}")
        r[f"{label}_list"] = w.add("bansos", f"{label}_h", nik=head, no_kk=kk, kode_desa=list_desa, program="PKH",
                                   periode="2026-T4", nama_desa=nama_desa, file="bansos/PKH_2026-T4.csv")
        return kk

    family("family_move", DESA, head_desa=DESA_2, head_kk=(new_kk := next(KK)))
    w.records["dukcapil"][-1]["no_kk"] = new_kk  # the child moved onto the new card too
    family("person_move", DESA, head_desa=DESA_2, child_desa=DESA, head_kk=next(KK))
    family("renumbered", "18.06.01.2099", head_desa=NEGERI_RATU, nama_desa="PEKON NEGERI RATU")
    family("split", SUKA_BUMI, head_desa=SUKA_NEGERI_JAYA)
    family("not_split", BANJAR_SARI, head_desa=SINGOSARI)
    kk = family("list_updated", DESA_2)
    r["old_village_left"] = w.add("pekon", "list_updated_h", no_kk=kk, kode_desa=DESA, status_dasar="PINDAH")
    family("village_data_only", DESA, registry=False)
    r["new_village_living"] = w.add("pekon", "village_data_only_h", no_kk=next(KK), kode_desa=DESA_2)
    family("registry_disagrees", DESA, head_desa=DESA_2)
    w.add("dukcapil", "registry_disagrees_h", no_kk=next(KK), kode_desa=BANJAR_SARI)
    family("dead_by_date", DESA, head_desa=DESA_2)  # the registry has a date of death, status still HIDUP
    w.records["dukcapil"][-2]["tgl_mati"] = dt.date(2026, 8, 14)
    changes = tmp_path_factory.mktemp("reference") / "village_code_changes.csv"
    changes.write_text("old_code,new_code,kind,source\n"
                       f"{SUKA_BUMI},{SUKA_NEGERI_JAYA},PEMEKARAN,Permendagri (test)\n", encoding="utf-8")
    w.build(warehouse, code_changes=changes)
    return Built(warehouse), r


def moved_flag(built: Built, record_id: str) -> pd.Series | None:
    flags = built.flags_of(built.person_of(record_id)["person_id"])
    return flags.loc["MOVED_RECIPIENT"] if "MOVED_RECIPIENT" in flags.index else None


def test_a_family_that_moved_with_a_new_card_is_a_family_move(world):
    built, r = world
    f = moved_flag(built, r["family_move_head"])
    assert f is not None and f["reason"] == "DUKCAPIL_ELSEWHERE"
    assert "moved=KELUARGA" in f["evidence"] and r["family_move_list"] in f["evidence"]
    assert "from=18.06.01.1001 Baros" in f["evidence"] and "to=18.06.02.2012 Kalibening" in f["evidence"]
    assert "list_period=2026-T4" in f["evidence"] and "placed_by=dukcapil:" in f["evidence"]
    assert f["kode_desa"] == DESA and f["kode_desa_lain"] == DESA_2  # the list's village, then where they live
    assert built.person_of(r["family_move_head"])["flag_moved_recipient"]


def test_one_member_who_moved_while_the_list_keeps_the_old_card(world):
    built, r = world
    person = built.person_of(r["person_move_head"])
    assert person["no_kk"] != built.person_of(r["person_move_dtsen_c"])["no_kk"]  # the registry's new card won
    f = moved_flag(built, r["person_move_head"])
    assert f is not None and f["reason"] == "DUKCAPIL_ELSEWHERE" and "moved=PERORANGAN" in f["evidence"]
    assert moved_flag(built, r["person_move_dtsen_c"]) is None  # the child stayed (and is not the recipient)
    # the family flag sits on the family of the list card, not on the card the mover joined
    assert built.household_of(r["person_move_dtsen_c"])["flag_moved_recipient"]
    assert not built.household_of(r["person_move_head"])["flag_moved_recipient"]


def test_a_renumbered_or_split_village_is_not_a_move(world):
    built, r = world
    assert moved_flag(built, r["renumbered_head"]) is None  # same name, same kecamatan, new code
    assert moved_flag(built, r["split_head"]) is None  # pemekaran in reference.village_code_change
    f = moved_flag(built, r["not_split_head"])  # the same shape without a decree: a move
    assert f is not None and f["kode_desa_lain"] == SINGOSARI


def test_a_list_already_updated_is_not_flagged_by_the_old_villages_pindah(world):
    built, r = world
    assert moved_flag(built, r["list_updated_head"]) is None


def test_village_data_places_a_recipient_the_registry_does_not_know(world):
    built, r = world
    f = moved_flag(built, r["village_data_only_list"])
    assert f is not None and f["reason"] == "PEKON_ELSEWHERE" and r["new_village_living"] in f["evidence"]


def test_a_registry_in_two_villages_is_no_evidence(world):
    built, r = world
    assert moved_flag(built, r["registry_disagrees_head"]) is None


def test_both_villages_worklists_carry_the_move_with_names(world):
    built, r = world
    flags = built.table("flag")
    rows = worklist_rows(flags, built.table("person"), built.table("household"), "PEKON")
    subject = built.person_of(r["family_move_head"])["person_id"]
    moved = rows[(rows["PERSON_ID"] == subject) & rows["FLAG"].str.contains("MOVED_RECIPIENT")]
    assert set(moved["KODE_DESA"]) == {DESA, DESA_2}
    wording = moved["BUKTI"].iloc[0]
    assert "desa di daftar bantuan: Baros (18.06.01.1001)" in wording
    assert "desa sekarang: Kalibening (18.06.02.2012)" in wording and "pindah sekeluarga" in wording
    assert flag_evidence("moved=PERORANGAN") == "pindah sendiri (anggota keluarga lain tetap)"


def test_code_changes_file_is_checked_row_by_row(tmp_path):
    assert village_code_changes().empty  # the packaged file: no change known for the area
    bad = tmp_path / "changes.csv"
    bad.write_text("old_code,new_code,kind,source\n18.06.02.2016,18062017,PEMEKARAN,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: old_code and new_code"):
        village_code_changes(bad)
    bad.write_text("old_code,new_code,kind,source\n18.06.02.2016,18.06.02.2017,SPLIT,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: kind"):
        village_code_changes(bad)


def test_only_a_move_names_a_second_village(world):
    built, _ = world
    flags = built.table("flag")
    assert flags.loc[flags["flag"] != "MOVED_RECIPIENT", "kode_desa_lain"].isna().all()


def test_a_death_known_only_from_the_registrys_date_of_death(world):
    built, r = world
    person = built.person_of(r["dead_by_date_head"])
    assert person["status_keberadaan"] == "MATI" and person["flag_dead_recipient"]
    flags = built.flags_of(person["person_id"])
    assert flags.loc["DEAD_RECIPIENT", "reason"] == "DUKCAPIL_MATI" and "MOVED_RECIPIENT" not in flags.index
