"""Issue #10: a flagged person kept without a village goes to the kecamatan's "desa tidak
diketahui" pekon-tier list, not into no list at all."""

import pandas as pd

from dtsen_pipeline.reports.worklists import PEKON, write_worklists

VILLAGES = pd.DataFrame({"kode_desa": ["18.06.01.2016"], "kode_kecamatan": ["18.06.01"],
                         "village_name": ["KOTA AGUNG"], "kecamatan_name": ["KOTA AGUNG"]})


def _flag(subject: str, kode_desa: str | None, kode_kecamatan: str | None) -> dict:
    return {"subject_type": "PERSON", "subject_id": subject, "household_id": None, "flag": "PERSON_MISSING_FROM_DTSEN",
            "reason": "NOT_IN_DTSEN", "evidence": "dukcapil=x", "kode_desa": kode_desa,
            "kode_kecamatan": kode_kecamatan, "kode_desa_lain": None, "verval_status": "UNVERIFIED", "verval_hasil": None,
            "verval_tingkat": None, "verval_tanggal": None}


def test_a_person_without_a_village_is_listed_in_the_kecamatan_unknown_village_list(tmp_path):
    flags = pd.DataFrame([_flag("p1", "18.06.01.2016", "18.06.01"), _flag("p2", None, "18.06.01"),
                          _flag("p3", None, None)])
    persons = pd.DataFrame({"person_id": ["p1", "p2", "p3"], "nik": [None] * 3, "nama": ["A", "B", "C"],
                            "no_kk": [None] * 3})
    households = pd.DataFrame(columns=["household_id", "id_keluarga", "no_kk", "head_nama", "desil", "pkh", "bpnt",
                                       "pbi_jk"])
    written = write_worklists(flags, persons, households, tmp_path, "2026-11", VILLAGES)
    lists = {(w.tier, w.code): w for w in written}
    assert set(lists) == {(PEKON, "18.06.01.2016"), (PEKON, "18.06.01")}
    unknown = pd.read_csv(lists[(PEKON, "18.06.01")].csv, dtype=str)
    assert list(unknown["PERSON_ID"]) == ["p2"] and unknown["KODE_DESA"].isna().all()
    assert lists[(PEKON, "18.06.01")].csv.name == "PEKON_180601_2026-11.csv"
    index = pd.read_csv(tmp_path / "INDEX_2026-11.csv", dtype=str).set_index("KODE_WILAYAH")
    assert index.loc["18.06.01", "NAMA_WILAYAH"] == "KOTA AGUNG (desa tidak diketahui)"
