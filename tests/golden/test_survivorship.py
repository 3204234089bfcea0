"""Survivorship rules of build.person and build.household, each on hand-made records.

One world holds every scenario (distinct persons and families), built once through the real
golden chain (identity steps + SQL models) on DuckDB.
"""

import datetime as dt

import pytest

from tests.golden.world import DESA_2, OUTSIDE, Built, World

D = dt.date


@pytest.fixture(scope="module")
def world(warehouse):
    w = World()
    r = {}
    # identity: the civil registry wins over DTSEN, pekon and the programme lists
    nik = w.nik()
    r["id_dtsen"] = w.add("dtsen", "ident", nik=nik, nama="SITI AMINAH BINTI X", tgl_lahir=D(1980, 1, 1),
                          no_kk="1806011701200001", jenis_kelamin="P", hubungan="PASANGAN", desil=3)
    r["id_dukcapil"] = w.add("dukcapil", "ident", nik=nik, nama="SITI AMINAH", tgl_lahir=D(1980, 2, 3),
                             no_kk="1806011701200001", jenis_kelamin="P", hubungan="KEPALA_KELUARGA")
    r["id_bansos"] = w.add("bansos", "ident", nik=None, nama="ST AMINAH", program="PKH", periode="2026-T4",
                           no_kk="1806011701200001")
    # a field the civil registry lacks comes from the next source that has it
    r["gap_dukcapil"] = w.add("dukcapil", "gap", nik=None, nama="BUDI", no_kk="1806011701200002",
                              hubungan="KEPALA_KELUARGA")
    r["gap_pekon"] = w.add("pekon", "gap", nik=w.nik(), nama="BUDI S", no_kk="1806011701200002")
    # recency: a person only on programme lists takes the name of the latest list
    r["old_list"] = w.add("bansos", "recent", nama="RAHMAT LAMA", program="BPNT", periode="2026-10",
                          no_kk="1806011701200003", hubungan=None)
    r["new_list"] = w.add("bansos", "recent", nama="RAHMAT BARU", program="BPNT", periode="2026-11",
                          no_kk="1806011701200003", hubungan=None)
    # completeness: of two DTSEN records, the one with more identity fields filled
    r["sparse"] = w.add("dtsen", "complete", nama="JOKO SPARSE", nik=None, tgl_lahir=None, no_kk="1806011701200004")
    r["full"] = w.add("dtsen", "complete", nama="JOKO FULL", nik=w.nik(), no_kk="1806011701200004",
                      hubungan="KEPALA_KELUARGA")
    # No. KK: an established card (civil registry, or on two records) beats a card typed once
    r["kk_typo"] = w.add("dtsen", "kk", nik=w.nik(), no_kk="1806011701209999", hubungan="KEPALA_KELUARGA")
    r["kk_pekon"] = w.add("pekon", "kk", no_kk="1806011701200005")
    r["kk_member"] = w.add("pekon", "kk_member", no_kk="1806011701200005", hubungan="ANAK")
    # village: a code inside the deployment's scope beats a higher-priority one outside it
    r["desa_out"] = w.add("dtsen", "desa", kode_desa=OUTSIDE, no_kk="1806011701200006", hubungan="KEPALA_KELUARGA")
    r["desa_in"] = w.add("pekon", "desa", kode_desa=DESA_2, no_kk="1806011701200006")
    # life status: a verification decision is above every feed
    nik_alive = w.nik()
    r["st_pekon_mati"] = w.add("pekon", "alive", nik=nik_alive, status_dasar="MATI", no_kk="1806011701200007",
                               hubungan="KEPALA_KELUARGA")
    r["st_layak"] = w.decide("LAYAK", "KECAMATAN", D(2026, 11, 5), nik=nik_alive)
    nik_dead = w.nik()
    r["st_dukcapil"] = w.add("dukcapil", "dead", nik=nik_dead, status_hidup="HIDUP", no_kk="1806011701200008",
                             hubungan="KEPALA_KELUARGA")
    r["st_meninggal"] = w.decide("MENINGGAL", "PEKON", D(2026, 10, 2), nik=nik_dead)
    r["st_registry_mati"] = w.add("dukcapil", "mati", nik=w.nik(), status_hidup="MATI", no_kk="1806011701200009",
                                  hubungan="KEPALA_KELUARGA")
    r["st_moved"] = w.add("pekon", "moved", nik=w.nik(), status_dasar="PINDAH", no_kk="1806011701200009")
    # household: head, registration (desil, ID_KELUARGA), programmes
    r["hh_head"] = w.add("dukcapil", "head", nik=w.nik(), no_kk="1806011701200010", hubungan="KEPALA_KELUARGA",
                         tgl_lahir=D(1970, 1, 1), kode_desa=DESA_2)
    r["hh_wife"] = w.add("dukcapil", "wife", nik=w.nik(), no_kk="1806011701200010", hubungan="PASANGAN",
                         tgl_lahir=D(1960, 1, 1))
    r["hh_reg"] = w.add("dtsen", "head", no_kk="1806011701200010", desil=2, id_keluarga="77001", hubungan="KEPALA_KELUARGA")
    r["hh_reg2"] = w.add("dtsen", "wife", no_kk="1806011701200010", desil=2, id_keluarga="77001", hubungan="PASANGAN")
    r["hh_list"] = w.add("bansos", "wife", program="PBI-JK", periode="2026-11", no_kk=None)
    # birth year (issue #10): a year-only record keeps its year; the most precise date wins
    r["year_only"] = w.add("dukcapil", "year_only", nik=w.nik(), tgl_lahir=None, birth_year=1957,
                           dob_precision="year", no_kk="1806011701200011", hubungan="KEPALA_KELUARGA")
    r["year_month"] = w.add("dukcapil", "precise", nik=w.nik(), tgl_lahir=None, birth_year=1961,
                            dob_precision="month", no_kk="1806011701200012", hubungan="KEPALA_KELUARGA")
    r["full_date"] = w.add("bansos", "precise", tgl_lahir=D(1961, 4, 9), birth_year=1961, program="PKH",
                           periode="2026-T4", no_kk="1806011701200012")
    # no usable village code (issue #10): kept, placed in the kecamatan staging derived
    r["no_village"] = w.add("dukcapil", "no_village", nik=w.nik(), kode_desa=None, kode_kecamatan="18.06.02",
                            in_scope=True, flags="REGION_UNKNOWN", no_kk="1806011701200013",
                            hubungan="KEPALA_KELUARGA")
    w.build(warehouse)
    return Built(warehouse), r


def test_identity_fields_come_from_the_civil_registry_with_their_source(world):
    built, r = world
    p = built.person_of(r["id_dtsen"])
    assert p["nama"] == "SITI AMINAH" and p["tgl_lahir"] == D(1980, 2, 3) and p["hubungan"] == "KEPALA_KELUARGA"
    for column in ("nik_source", "nama_source", "tgl_lahir_source", "jenis_kelamin_source", "hubungan_source",
                   "no_kk_source", "kode_desa_source", "identity_source_record"):
        assert p[column] == r["id_dukcapil"], column
    assert p["desil"] == 3 and p["desil_source"] == r["id_dtsen"]  # desil: DTSEN only
    assert p["source_records"] == 3 and p["source_feeds"] == 3


def test_a_missing_value_comes_from_the_next_source_that_has_it(world):
    built, r = world
    p = built.person_of(r["gap_dukcapil"])
    assert p["nama"] == "BUDI" and p["nama_source"] == r["gap_dukcapil"]
    assert p["nik_source"] == r["gap_pekon"] and p["nik"] is not None


def test_recency_the_latest_programme_list_wins(world):
    built, r = world
    p = built.person_of(r["old_list"])
    assert p["nama"] == "RAHMAT BARU" and p["nama_source"] == r["new_list"]


def test_completeness_breaks_a_tie_between_records_of_one_source(world):
    built, r = world
    p = built.person_of(r["sparse"])
    assert p["nama"] == "JOKO FULL" and p["nama_source"] == r["full"]


def test_an_established_no_kk_beats_one_typed_once(world):
    built, r = world
    p = built.person_of(r["kk_typo"])
    assert p["no_kk"] == "1806011701200005" and p["no_kk_source"] == r["kk_pekon"]
    assert not p["flag_multiple_kk"]  # the typed-once card is not a second family
    assert built.person_of(r["kk_member"])["household_id"] == p["household_id"]


def test_village_inside_the_scope_first(world):
    built, r = world
    p = built.person_of(r["desa_out"])
    assert p["kode_desa"] == DESA_2 and p["kode_kecamatan"] == DESA_2[:8] and p["kode_desa_source"] == r["desa_in"]


def test_a_verification_decision_is_above_the_feeds_for_life_status(world):
    built, r = world
    alive = built.person_of(r["st_pekon_mati"])
    assert alive["status_keberadaan"] == "HIDUP" and alive["status_source"] == r["st_layak"]
    assert not alive["is_dead"]
    dead = built.person_of(r["st_dukcapil"])
    assert dead["status_keberadaan"] == "MATI" and dead["status_source"] == r["st_meninggal"] and dead["is_dead"]
    assert dead["verval_hasil"] == "MENINGGAL" and dead["verval_record"] == r["st_meninggal"]


def test_without_a_decision_a_reported_death_counts_then_a_move(world):
    built, r = world
    registry = built.person_of(r["st_registry_mati"])
    assert registry["status_keberadaan"] == "MATI" and registry["status_source"] == r["st_registry_mati"]
    moved = built.person_of(r["st_moved"])
    assert moved["status_keberadaan"] == "PINDAH" and moved["is_moved"] and moved["status_source"] == r["st_moved"]


def test_household_head_registration_and_programmes(world):
    built, r = world
    h = built.household_of(r["hh_head"])
    head = built.person_of(r["hh_head"])
    assert h["head_person_id"] == head["person_id"]  # KEPALA_KELUARGA, although the wife is older
    assert h["kode_desa"] == DESA_2 and h["desa"] and h["kecamatan"]
    assert h["member_count"] == 2 and h["living_member_count"] == 2
    assert h["desil"] == 2 and h["desil_source"] in (r["hh_reg"], r["hh_reg2"]) and h["id_keluarga"] == "77001"
    assert h["pbi_jk"] and not h["pkh"] and not h["bpnt"] and h["in_dtsen"]
    assert h["no_kk_source"] == r["hh_head"]


def test_every_record_has_lineage_to_its_person_and_household(world):
    built, _ = world
    source = built.table("person_source")
    persons = built.table("person")
    assert source["record_id"].is_unique
    assert set(source["person_id"]) == set(persons["person_id"])
    merged = source.merge(persons[["person_id", "household_id"]], on="person_id", suffixes=("", "_p"))
    assert (merged["household_id"].fillna("") == merged["household_id_p"].fillna("")).all()


def test_a_person_known_by_birth_year_only_keeps_the_year(world):
    built, r = world
    p = built.person_of(r["year_only"])
    assert p["tgl_lahir"] is None or p["tgl_lahir"] != p["tgl_lahir"]  # null
    assert p["birth_year"] == 1957 and p["dob_precision"] == "year" and p["birth_year_source"] == r["year_only"]
    assert built.person_of(r["id_dtsen"])["birth_year"] == 1980  # a full date's own year and record
    assert built.person_of(r["id_dtsen"])["birth_year_source"] == r["id_dukcapil"]


def test_the_most_precise_birth_date_gives_the_year(world):
    built, r = world
    p = built.person_of(r["year_month"])  # the civil registry knows the month, a programme list the day
    assert p["tgl_lahir"] == D(1961, 4, 9) and p["tgl_lahir_source"] == r["full_date"]
    assert p["dob_precision"] == "day" and p["birth_year_source"] == r["full_date"]


def test_a_person_without_a_village_is_in_the_golden_tables(world):
    built, r = world
    p = built.person_of(r["no_village"])
    assert p["kode_desa"] is None or p["kode_desa"] != p["kode_desa"]  # null
    assert p["kode_kecamatan"] == "18.06.02" and "REGION_UNKNOWN" in p["quality_flags"].split(";")
    assert built.household_of(r["no_village"])["kode_kecamatan"] == "18.06.02"
