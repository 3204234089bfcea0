"""Every flag raised (and not raised) on hand-made records, with its reason, evidence and the
verification status under tier precedence (KABUPATEN > KECAMATAN > PEKON, later over earlier)."""

import datetime as dt
import re

import pandas as pd
import pytest
import sqlalchemy as sa

from dtsen_pipeline.golden.flags import FLAGS, REASON_CODES, flag_rules
from tests.golden.world import Built, World

D = dt.date
KK = iter(f"18060117012{i:05d}" for i in range(1, 10_000))


@pytest.fixture(scope="module")
def world(warehouse):
    w = World()
    r = {}

    def family(label: str, *, dtsen: bool = True, desil: int | None = None, programme: str | None = None,
               periode: str | None = None, head_status: str = "HIDUP", child_status: str = "HIDUP", decisions=()):
        """A two-person family in the civil registry (head + child), optionally in DTSEN and on a list."""
        kk = next(KK)
        head_nik = w.nik()
        r[f"{label}_head"] = w.add("dukcapil", f"{label}_h", nik=head_nik, no_kk=kk, hubungan="KEPALA_KELUARGA",
                                   status_hidup=head_status)
        r[f"{label}_child"] = w.add("dukcapil", f"{label}_c", nik=w.nik(), no_kk=kk, hubungan="ANAK",
                                    status_hidup=child_status)
        if dtsen:
            for who in ("h", "c"):
                w.add("dtsen", f"{label}_{who}", no_kk=kk, desil=desil, id_keluarga=f"ID-{label}")
        if programme:
            r[f"{label}_list"] = w.add("bansos", f"{label}_h", program=programme, periode=periode or "2026-11",
                                       file=f"bansos/{programme}_{periode or '2026-11'}.csv", no_kk=kk)
        for hasil, tingkat, tanggal, *file in decisions:
            r[f"{label}_{hasil}_{tingkat}"] = w.decide(hasil, tingkat, tanggal, no_kk=kk,
                                                       file=file[0] if file else "verval/V_PEKON.csv")
        return kk, head_nik

    # programme lists: the latest period of each programme is the current one
    w.add("bansos", "filler_pkh", program="PKH", periode="2026-T4", file="bansos/PKH_2026-T4.csv", no_kk=next(KK))
    w.add("bansos", "filler_bpnt", program="BPNT", periode="2026-11", file="bansos/BPNT_2026-11.csv", no_kk=next(KK))
    w.add("bansos", "filler_pbi", program="PBI-JK", periode="2026-11", file="bansos/PBI-JK_2026-11.csv", no_kk=next(KK))

    # duplicates: two DTSEN records of one person / one record per feed and two list periods
    kk = next(KK)
    r["dup_a"] = w.add("dtsen", "dup", no_kk=kk, hubungan="KEPALA_KELUARGA")
    r["dup_b"] = w.add("dtsen", "dup", no_kk=kk, hubungan="KEPALA_KELUARGA")
    w.add("dukcapil", "dup", nik=w.nik(), no_kk=kk, hubungan="KEPALA_KELUARGA")
    kk = next(KK)
    r["single"] = w.add("dukcapil", "single", nik=w.nik(), no_kk=kk, hubungan="KEPALA_KELUARGA")
    w.add("dtsen", "single", no_kk=kk)
    w.add("bansos", "single", program="BPNT", periode="2026-10", no_kk=kk)
    w.add("bansos", "single", program="BPNT", periode="2026-11", no_kk=kk)

    # a person in two families: DTSEN lists them under another established card too
    other_kk, _ = family("host", desil=5)
    kk = next(KK)
    r["two_kk"] = w.add("dukcapil", "two_kk", nik=w.nik(), no_kk=kk, hubungan="ANAK")
    w.add("dukcapil", "two_kk_head", nik=w.nik(), no_kk=kk, hubungan="KEPALA_KELUARGA")
    r["two_kk_other"] = w.add("dtsen", "two_kk", no_kk=other_kk)
    r["typo_kk"] = w.add("dukcapil", "typo", nik=w.nik(), no_kk=(kk2 := next(KK)), hubungan="KEPALA_KELUARGA")
    w.add("dtsen", "typo", no_kk=kk2[:6] + "99" + kk2[8:])  # a card typed once: a typo, not a second family

    # dead and moved recipients
    family("dead_registry", desil=1, programme="BPNT", head_status="MATI")
    kk, nik = family("dead_pekon", desil=1, programme="PBI-JK")
    r["dead_pekon_rec"] = w.add("pekon", "dead_pekon_h", nik=nik, no_kk=kk, status_dasar="MATI")
    kk, nik = family("dead_verval", desil=2, programme="BPNT")
    r["dead_verval_p"] = w.decide("MENINGGAL", "PEKON", D(2026, 10, 3), nik=nik, no_kk=kk)
    r["dead_verval_k"] = w.decide("MENINGGAL", "KECAMATAN", D(2026, 10, 1), nik=nik, no_kk=kk)
    family("dead_old_list", desil=1, programme="BPNT", periode="2026-10", head_status="MATI")
    family("dead_not_recipient", desil=3, head_status="MATI")
    kk, nik = family("moved", desil=3, programme="PKH", periode="2026-T4")
    r["moved_rec"] = w.add("pekon", "moved_h", nik=nik, no_kk=kk, status_dasar="PINDAH")
    kk, nik = family("moved_nonrecipient", desil=3)
    w.add("pekon", "moved_nonrecipient_h", nik=nik, no_kk=kk, status_dasar="PINDAH")

    # missing from DTSEN: a member of a DTSEN family / a whole family / the dead
    kk, _ = family("known_family", desil=4)
    r["missing_member"] = w.add("dukcapil", "missing_member", nik=w.nik(), no_kk=kk, hubungan="ANAK")
    r["missing_member_pekon"] = w.add("pekon", "missing_member", nik=w.nik(), no_kk=kk, hubungan="ANAK")
    family("absent", dtsen=False, decisions=[("USULAN_BARU", "PEKON", D(2026, 11, 2))])
    family("absent_dead_head", dtsen=False, head_status="MATI")
    family("absent_all_dead", dtsen=False, head_status="MATI", child_status="MATI")
    kk, _ = family("known_family_dead_member", desil=4)
    r["dead_member"] = w.add("dukcapil", "dead_member", nik=w.nik(), no_kk=kk, status_hidup="MATI")

    # inclusion and exclusion candidates
    family("pkh_above", desil=5, programme="PKH", periode="2026-T4",
           decisions=[("TIDAK_LAYAK", "PEKON", D(2026, 11, 9)), ("LAYAK", "KECAMATAN", D(2026, 11, 1))])
    family("pkh_at", desil=4, programme="PKH", periode="2026-T4")
    family("bpnt_above", desil=6, programme="BPNT",
           decisions=[("LAYAK", "PEKON", D(2026, 10, 1)), ("TIDAK_LAYAK", "PEKON", D(2026, 11, 1)),
                      ("GANDA", "KABUPATEN", D(2026, 11, 20))])
    family("pkh_old_list", desil=7, programme="PKH", periode="2026-T3")
    family("poor_none", desil=2, decisions=[("LAYAK", "KECAMATAN", D(2026, 11, 1), "verval/A.csv"),
                                            ("TIDAK_LAYAK", "KECAMATAN", D(2026, 11, 1), "verval/B.csv")])
    family("poor_bpnt", desil=2, programme="BPNT")
    family("desil3_none", desil=3)
    family("poor_all_dead", desil=1, head_status="MATI", child_status="MATI")
    w.build(warehouse)
    return Built(warehouse), r, w


def flags_of(built: Built, record_id: str, household: bool = False) -> pd.DataFrame:
    subject = built.household_of(record_id)["household_id"] if household else built.person_of(record_id)["person_id"]
    return built.flags_of(subject)


def test_duplicate_records_in_one_feed(world):
    built, r, _ = world
    f = flags_of(built, r["dup_a"]).loc["DUPLICATE_RECORDS"]
    assert f["reason"] == "DUPLICATE_IN_DTSEN" and f["subject_type"] == "PERSON"
    assert r["dup_a"] in f["evidence"] and r["dup_b"] in f["evidence"]
    assert "DUPLICATE_RECORDS" not in flags_of(built, r["single"]).index  # two list periods are not duplicates
    assert built.household_of(r["dup_a"])["flag_duplicate_records"]


def test_person_in_multiple_kk_only_for_established_cards(world):
    built, r, _ = world
    f = flags_of(built, r["two_kk"]).loc["PERSON_IN_MULTIPLE_KK"]
    assert f["reason"] == "KK_CONFLICT" and r["two_kk_other"] in f["evidence"]
    assert built.person_of(r["two_kk"])["flag_multiple_kk"]
    assert built.household_of(r["two_kk"])["flag_member_in_multiple_kk"]
    assert not built.person_of(r["typo_kk"])["flag_multiple_kk"]


def test_dead_recipient_with_each_reason(world):
    built, r, _ = world
    assert flags_of(built, r["dead_registry_head"]).loc["DEAD_RECIPIENT", "reason"] == "DUKCAPIL_MATI"
    assert flags_of(built, r["dead_pekon_head"]).loc["DEAD_RECIPIENT", "reason"] == "PEKON_MATI"
    f = flags_of(built, r["dead_verval_head"]).loc["DEAD_RECIPIENT"]
    assert f["reason"] == "VERVAL_MENINGGAL" and r["dead_verval_list"] in f["evidence"]
    assert built.household_of(r["dead_verval_head"])["flag_dead_recipient"]


def test_not_a_dead_recipient_on_an_old_list_or_without_a_programme(world):
    built, r, _ = world
    for label in ("dead_old_list", "dead_not_recipient"):
        person = built.person_of(r[f"{label}_head"])
        assert person["is_dead"] and not person["flag_dead_recipient"], label
        assert "DEAD_RECIPIENT" not in built.flags_of(person["person_id"]).index


def test_moved_recipient(world):
    built, r, _ = world
    f = flags_of(built, r["moved_head"]).loc["MOVED_RECIPIENT"]
    assert f["reason"] == "PEKON_PINDAH" and r["moved_rec"] in f["evidence"] and "PKH" in f["evidence"]
    assert not built.person_of(r["moved_nonrecipient_head"])["flag_moved_recipient"]


def test_person_missing_from_dtsen_in_a_family_dtsen_knows(world):
    built, r, _ = world
    f = flags_of(built, r["missing_member"]).loc["PERSON_MISSING_FROM_DTSEN"]
    assert f["reason"] == "IN_DUKCAPIL_NOT_IN_DTSEN;IN_PEKON_NOT_IN_DTSEN"
    assert r["missing_member"] in f["evidence"] and r["missing_member_pekon"] in f["evidence"]
    assert built.household_of(r["missing_member"])["flag_member_missing_from_dtsen"]
    assert not built.person_of(r["known_family_head"])["flag_missing_from_dtsen"]  # in DTSEN
    assert not built.person_of(r["dead_member"])["flag_missing_from_dtsen"]  # dead


def test_family_missing_from_dtsen_is_one_household_flag(world):
    built, r, _ = world
    household = built.household_of(r["absent_head"])
    f = built.flags_of(household["household_id"]).loc["FAMILY_MISSING_FROM_DTSEN"]
    assert f["reason"] == "IN_DUKCAPIL_NOT_IN_DTSEN" and f["verval_status"] == "CONFIRMED"
    assert f["verval_hasil"] == "USULAN_BARU"
    for who in ("absent_head", "absent_child"):  # members are not listed one by one
        assert not built.person_of(r[who])["flag_missing_from_dtsen"]


def test_no_family_flag_when_every_member_is_dead(world):
    built, r, _ = world
    household = built.household_of(r["absent_dead_head_head"])
    assert household["living_member_count"] == 1 and household["flag_missing_from_dtsen"]  # the child lives
    for label in ("absent_all_dead", "poor_all_dead"):
        household = built.household_of(r[f"{label}_head"])
        assert household["living_member_count"] == 0, label
        assert not household["flag_missing_from_dtsen"] and not household["flag_exclusion_candidate"], label


def test_inclusion_candidate_above_the_ceiling_only(world):
    built, r, _ = world
    f = flags_of(built, r["pkh_above_head"], household=True).loc["INCLUSION_CANDIDATE"]
    assert f["reason"] == "PKH_ABOVE_CEILING" and "desil=5" in f["evidence"] and "PKH ceiling=4" in f["evidence"]
    assert r["pkh_above_list"] in f["evidence"]
    assert flags_of(built, r["bpnt_above_head"], household=True).loc["INCLUSION_CANDIDATE", "reason"] == \
        "BPNT_ABOVE_CEILING"
    for label in ("pkh_at", "pkh_old_list"):
        assert not built.household_of(r[f"{label}_head"])["flag_inclusion_candidate"], label


def test_exclusion_candidate(world):
    built, r, _ = world
    f = flags_of(built, r["poor_none_head"], household=True).loc["EXCLUSION_CANDIDATE"]
    assert f["reason"] == "DESIL_1_2_NO_PROGRAMME" and "desil=2" in f["evidence"]
    for label in ("poor_bpnt", "desil3_none"):
        assert not built.household_of(r[f"{label}_head"])["flag_exclusion_candidate"], label


def test_tier_precedence_higher_tier_beats_a_later_lower_one(world):
    built, r, _ = world
    # PEKON TIDAK_LAYAK on 9 Nov, KECAMATAN LAYAK on 1 Nov: the kecamatan decision is in force
    f = flags_of(built, r["pkh_above_head"], household=True).loc["INCLUSION_CANDIDATE"]
    assert (f["verval_status"], f["verval_hasil"], f["verval_tingkat"]) == ("REJECTED", "LAYAK", "KECAMATAN")
    assert f["verval_record"] == r["pkh_above_LAYAK_KECAMATAN"]
    # KECAMATAN MENINGGAL (1 Oct) over PEKON MENINGGAL (3 Oct)
    f = flags_of(built, r["dead_verval_head"]).loc["DEAD_RECIPIENT"]
    assert f["verval_status"] == "CONFIRMED" and f["verval_record"] == r["dead_verval_k"]


def test_tier_precedence_later_within_a_tier_and_irrelevant_decisions_ignored(world):
    built, r, _ = world
    # two PEKON decisions: the later (TIDAK_LAYAK) wins; the KABUPATEN GANDA does not answer this flag
    f = flags_of(built, r["bpnt_above_head"], household=True).loc["INCLUSION_CANDIDATE"]
    assert (f["verval_status"], f["verval_hasil"], f["verval_tingkat"]) == ("CONFIRMED", "TIDAK_LAYAK", "PEKON")
    # same tier, same date: the later file wins
    f = flags_of(built, r["poor_none_head"], household=True).loc["EXCLUSION_CANDIDATE"]
    assert (f["verval_status"], f["verval_hasil"]) == ("REJECTED", "TIDAK_LAYAK")
    # the household's own decision in force (any result): the KABUPATEN GANDA
    assert built.household_of(r["bpnt_above_head"])["verval_tingkat"] == "KABUPATEN"


def test_unverified_when_no_decision_answers(world):
    built, r, _ = world
    f = flags_of(built, r["dead_registry_head"]).loc["DEAD_RECIPIENT"]
    assert f["verval_status"] == "UNVERIFIED" and pd.isna(f["verval_hasil"])


def test_flag_rows_match_the_boolean_columns(world):
    built, _, _ = world
    flags = built.table("flag")
    for f in FLAGS:
        table = built.table("person" if f.subject == "PERSON" else "household")
        key = "person_id" if f.subject == "PERSON" else "household_id"
        raised = set(table.loc[table[f.column].astype(bool), key])
        rows = flags[(flags["flag"] == f.code) & (flags["subject_type"] == f.subject)]
        assert set(rows["subject_id"]) == raised, f.code
        assert raised, f"the world raises no {f.code}"
        reasons = {code for value in rows["reason"] for code in value.split(";")}
        assert reasons <= {x.code for x in f.reasons} and reasons, f.code
    assert {code for value in flags["reason"] for code in value.split(";")} <= set(REASON_CODES)
    assert flags["verval_status"].isin(["UNVERIFIED", "CONFIRMED", "REJECTED", "OTHER"]).all()


def test_evidence_and_reasons_hold_no_personal_data(world):
    built, _, w = world
    flags = built.table("flag")
    text = " ".join(flags["evidence"].fillna("")) + " ".join(flags["reason"])
    assert not re.search(r"(?<!\d)\d{16}(?!\d)", text)
    names = {rec["nama"] for rows in w.records.values() for rec in rows}
    assert not any(n in text for n in names)


def test_flag_rules_answer_only_known_results():
    from dtsen_pipeline.schema import VERVAL_RESULTS

    rules = flag_rules()
    assert set(rules["hasil"]) <= set(VERVAL_RESULTS)
    assert set(rules["outcome"]) <= {"CONFIRMED", "REJECTED", "OTHER"}
    assert not rules.duplicated(["flag", "hasil"]).any()


def test_the_ceiling_is_configurable(monkeypatch):
    from dtsen_pipeline.resources import QualitySettings, from_environment

    def ceilings() -> dict[str, int]:  # DTSEN_MAX_DESIL_<PROGRAM>, as the assets take them
        return from_environment(QualitySettings).process_config_and_initialize().ceilings()

    monkeypatch.setenv("DTSEN_MAX_DESIL_PKH", "6")
    w = World()
    kk = "1806011701299999"
    w.add("dukcapil", "h", nik=w.nik(), no_kk=kk, hubungan="KEPALA_KELUARGA")
    w.add("dtsen", "h", no_kk=kk, desil=5)
    w.add("bansos", "h", program="PKH", periode="2026-T4", no_kk=kk)
    engine = sa.create_engine("duckdb:///:memory:")
    w.build(engine, ceilings=ceilings())
    built = Built(engine)
    assert not built.table("household")["flag_inclusion_candidate"].any()
    monkeypatch.setenv("DTSEN_MAX_DESIL_PKH", "4")
    w.build(engine, run_id="run-2", ceilings=ceilings())
    household = built.table("household").iloc[0]
    assert household["flag_inclusion_candidate"]
    assert "PKH ceiling=4" in built.flags_of(household["household_id"]).loc["INCLUSION_CANDIDATE", "evidence"]
    engine.dispose()
