"""Row-level codes of the rules in staging: E quarantines the row, W (and family-level E) flag it."""

import dataclasses
import datetime as dt

import pandas as pd

from dtsen_pipeline.ingest.feeds import load_feed_specs
from dtsen_pipeline.quality.row_rules import ROW_FLAGS, ROW_QUARANTINE_REASONS, apply_row_rules

AS_OF = dt.date(2026, 11, 29)
V = "18.06.01.1001"
SPECS = load_feed_specs()


def staged(rows: list[dict]) -> pd.DataFrame:
    """A staged frame in the canonical person shape, defaults filled in."""
    base = {"source_file": "dtsen/a.csv", "nik": None, "no_kk": "1806010101200001", "nama": "ANI",
            "nama_norm": "ANI", "name_key": "ANI", "tgl_lahir": "1980-05-17", "jenis_kelamin": "P",
            "hubungan": "KEPALA_KELUARGA", "kode_desa": V, "alamat": None, "rt": None, "rw": None}
    frame = pd.DataFrame([{**base, **r} for r in rows])
    frame["tgl_lahir"] = pd.to_datetime(frame["tgl_lahir"])
    return frame


def raw_for(frame: pd.DataFrame, **columns) -> pd.DataFrame:
    raw = pd.DataFrame(index=frame.index)
    raw["KODE_WILAYAH"] = frame["kode_desa"].str.replace(".", "", regex=False)
    for name, values in columns.items():
        raw[name] = values
    return raw


def codes(flags: pd.Series) -> list[set[str]]:
    return [set(filter(None, f.split(";"))) for f in flags]


def run(frame, raw, spec, candidates=None, **settings):
    candidates = pd.Series(True, index=frame.index) if candidates is None else candidates
    return apply_row_rules(frame, raw, spec, AS_OF, candidates, **settings)


def test_nik_collision_withdraws_the_nik_and_flags_both_records():
    frame = staged([
        {"nik": "1806014107850001", "name_key": "BUDI SANTOSO", "jenis_kelamin": "L", "hubungan": "ANAK"},
        {"nik": "1806014107850001", "name_key": "SITI AMINAH", "hubungan": "PASANGAN"},
        {"nik": "1806014107850002", "name_key": "MUHAMMAD ALI"},
    ])
    result = run(frame, raw_for(frame), SPECS["pekon"])
    assert result.reason.isna().all()  # the records stay staged, for review
    assert [("NIK_COLLISION" in c) for c in codes(result.flags)] == [True, True, False]
    assert result.columns["nik"].isna().tolist() == [True, True, False]
    assert result.columns["nik_issue"].tolist()[:2] == ["NIK_COLLISION", "NIK_COLLISION"]


def test_same_person_twice_is_not_a_collision_but_an_exact_duplicate():
    row = {"nik": "1806014107850001", "name_key": "MUHAMMAD ALI"}
    frame = staged([row, row, {**row, "source_file": "dtsen/b.csv"}])
    result = run(frame, raw_for(frame), SPECS["dtsen"])
    assert result.reason.isna().all()
    assert [("EXACT_DUPLICATE_ROW" in c) for c in codes(result.flags)] == [False, True, False]


def test_bad_desil_is_flagged_not_quarantined_and_empty_desil_is_neither():
    frame = staged([{"nik": None}, {"nik": None, "no_kk": "1806010101200002"}, {"no_kk": "1806010101200003"}])
    frame["desil"] = pd.array([None, None, 3], dtype="Int64")
    raw = raw_for(frame, DESIL_NASIONAL=["11", "", "3"])
    result = run(frame, raw, SPECS["dtsen"])
    assert result.reason.isna().all()  # issue #10: the person stays, the desil is not used
    assert [("BAD_DESIL" in c) for c in codes(result.flags)] == [True, False, False]


def test_region_hierarchy_is_checked_when_a_feed_delivers_parent_codes():
    spec = dataclasses.replace(SPECS["dtsen"], extras={**SPECS["dtsen"].extras, "kode_kec": "KODE_KEC"})
    frame = staged([{}, {"no_kk": "1806010101200002"}])
    frame["kode_kec"] = ["18.06.01", "18.06.02"]
    result = run(frame, raw_for(frame, DESIL_NASIONAL=["", ""]), spec)
    assert list(result.reason.fillna("")) == ["", "REGION_HIERARCHY"]


def test_family_codes():
    k1, k2, k3 = "1806010101200001", "1806010101200002", "1806010101200003"
    frame = staged([
        {"no_kk": k1, "hubungan": "KEPALA_KELUARGA", "tgl_lahir": "1970-02-03", "nik": "1806010302700001"},
        {"no_kk": k1, "hubungan": "PASANGAN", "tgl_lahir": "1974-02-03"},
        {"no_kk": k1, "hubungan": "PASANGAN", "tgl_lahir": "2015-02-03"},
        {"no_kk": k1, "hubungan": "ANAK", "tgl_lahir": "1968-02-03"},
        {"no_kk": k2, "hubungan": "ANAK", "tgl_lahir": "2001-02-03", "nik": "1806010302700001"},
        {"no_kk": k3, "hubungan": "KEPALA_KELUARGA", "tgl_lahir": "1960-02-03"},
        {"no_kk": k3, "hubungan": "KEPALA_KELUARGA", "tgl_lahir": "1962-02-03"},
    ])
    frame["name_key"] = ["A", "B", "C", "D", "A", "F", "G"]
    frame["jenis_kelamin"] = ["L"] * 7
    frame["tgl_lahir"] = pd.to_datetime(frame["tgl_lahir"])
    frame.loc[4, "tgl_lahir"] = frame.loc[0, "tgl_lahir"]
    got = codes(run(frame, raw_for(frame), SPECS["pekon"]).flags)
    assert {"PERSON_IN_MULTIPLE_KK"} <= got[0] and {"PERSON_IN_MULTIPLE_KK", "KK_NO_HEAD"} <= got[4]
    assert {"KK_MULTIPLE_SPOUSES"} <= got[1] and {"KK_MULTIPLE_SPOUSES", "KK_SPOUSE_UNDERAGE"} <= got[2]
    assert "KK_CHILD_AGE_GAP" in got[3]
    assert "KK_MULTIPLE_HEADS" in got[5] and "KK_MULTIPLE_HEADS" in got[6]
    assert not any(c.startswith("KK_") and c != "KK_MULTIPLE_HEADS" for c in got[5])


def test_programme_and_identifier_warnings():
    frame = staged([
        {"no_kk": "1806010101200001", "nik": "1870014107850001"},  # kabupaten 70
        {"no_kk": "1806010101200001", "hubungan": "ANAK", "tgl_lahir": "2001-01-01",
         "nik": "1806994107850001"},  # unknown kecamatan, imprecise DOB
        {"no_kk": "1806000101200002", "nama": "A" * 61},  # KK prefix unknown, name too long
    ])
    frame["desil"] = pd.array([5, 6, 2], dtype="Int64")
    frame["pkh"] = [True, False, False]
    frame["bpnt"] = [False, False, False]
    frame["pbi_jk"] = [False, False, False]
    got = codes(run(frame, raw_for(frame, DESIL_NASIONAL=["5", "6", "2"]), SPECS["dtsen"]).flags)
    assert {"NIK_KAB_70", "INCLUSION_CANDIDATE", "KK_DESIL_INCONSISTENT"} <= got[0]
    assert {"NIK_REGION_UNKNOWN", "DOB_IMPRECISE", "KK_DESIL_INCONSISTENT"} <= got[1]
    assert "INCLUSION_CANDIDATE" not in got[1]
    assert {"KK_REGION_UNKNOWN", "NAME_TOO_LONG"} <= got[2] and "KK_NO_HEAD" not in got[2]
    # The deployment's ceilings (DTSEN_MAX_DESIL_PKH=5) decide INCLUSION_CANDIDATE, not the defaults.
    raised = codes(run(frame, raw_for(frame, DESIL_NASIONAL=["5", "6", "2"]), SPECS["dtsen"],
                       ceilings={"PKH": 5, "BPNT": 5, "PBI-JK": 5}).flags)
    assert "INCLUSION_CANDIDATE" not in raised[0]


def test_village_name_age_and_jkn_warnings_when_a_feed_carries_them():
    spec = dataclasses.replace(SPECS["bansos"], columns={**SPECS["bansos"].columns, "tgl_lahir": "TGL"},
                               extras={**SPECS["bansos"].extras, "umur": "UMUR", "jkn_segmen": "JKN"})
    frame = staged([{"no_kk": "1806010101200001"}, {"no_kk": "1806010101200002"}])
    frame["kode_desa"] = ["18.06.24.2007", "18.06.24.2007"]
    frame["nama_desa"] = ["PEKON AMPAI", "SUKARAJA"]
    frame["umur"] = ["46", "30"]
    frame["pbi_jk"] = [True, True]
    frame["jkn_segmen"] = ["PBI-JK", "PBI-JK;PPU"]
    got = codes(run(frame, raw_for(frame), spec).flags)
    assert not {"REGION_NAME_MISMATCH", "AGE_MISMATCH", "JKN_MULTI_SEGMENT"} & got[0]
    assert {"REGION_NAME_MISMATCH", "AGE_MISMATCH", "JKN_MULTI_SEGMENT"} <= got[1]


def test_rows_already_quarantined_are_not_judged_and_lineage_travels():
    frame = staged([{"nik": "1806014107850001", "name_key": "BUDI"}, {"nik": "1806014107850001", "name_key": "SITI"}])
    result = run(frame, raw_for(frame), SPECS["dtsen"], candidates=pd.Series([True, False]))
    assert result.reason.isna().all()  # the other record is already quarantined: no collision left
    assert list(result.columns["region_code_system"]) == ["kemendagri"] * 2
    assert list(result.columns["region_vintage"]) == ["2025"] * 2
    assert list(result.columns["kode_desa_source"]) == ["1806011001"] * 2


def test_every_code_names_a_rule():
    assert set(ROW_QUARANTINE_REASONS.values()) == {"REG-04"}
    assert ROW_FLAGS["NIK_COLLISION"] == ("NIK-11", "E")
    assert all(severity in ("E", "W") for _, severity in ROW_FLAGS.values())
