"""Worklist rows: one row per person or family and place, the flags of a subject joined."""

import pandas as pd

from dtsen_pipeline.reports.worklists import _JOINED, one_row_per_subject


def rows(*records: dict) -> pd.DataFrame:
    base = {"PERSON_ID": None, "HOUSEHOLD_ID": "H1", "SUBJEK": "ART", "KODE_DESA": "18.06.01.2001",
            "kode_kecamatan": "18.06.01", "NAMA": "SITI", **{c: None for c in _JOINED}}
    return pd.DataFrame([{**base, **r} for r in records])


def test_a_subjects_flags_share_one_row_and_single_subjects_pass_unchanged():
    out = one_row_per_subject(rows(
        {"PERSON_ID": "P1", "FLAG": "DEAD_RECIPIENT", "ALASAN": "DUKCAPIL_MATI", "BUKTI": "a"},
        {"PERSON_ID": "P2", "FLAG": "MOVED_RECIPIENT", "ALASAN": "", "BUKTI": "b"},
        {"PERSON_ID": "P1", "FLAG": "DUPLICATE_RECORDS", "ALASAN": "DUKCAPIL_MATI", "BUKTI": "c"},
        {"SUBJEK": "KELUARGA", "FLAG": "INCLUSION_ERROR_CANDIDATE", "BUKTI": "d"},
        {"PERSON_ID": "P1", "FLAG": "DEAD_RECIPIENT", "KODE_DESA": "18.06.02.2001", "kode_kecamatan": "18.06.02"},
    ))
    assert list(out["PERSON_ID"].fillna("-")) == ["P1", "P2", "-", "P1"]  # order of first appearance
    first = out.iloc[0]
    assert first["FLAG"] == "DEAD_RECIPIENT, DUPLICATE_RECORDS"
    assert first["ALASAN"] == "DUKCAPIL_MATI"  # the same value once
    assert first["BUKTI"] == "a | c"
    assert pd.isna(out.iloc[1]["ALASAN"]) and out.iloc[1]["BUKTI"] == "b"  # empty text: nothing
    assert out.iloc[2]["SUBJEK"] == "KELUARGA" and out.iloc[2]["FLAG"] == "INCLUSION_ERROR_CANDIDATE"
    assert out.iloc[3]["KODE_DESA"] == "18.06.02.2001" and out.iloc[3]["FLAG"] == "DEAD_RECIPIENT"  # another place
    assert pd.isna(first["STATUS_VERVAL"])  # no value on any row
    assert list(out.columns) == list(rows({}).columns)
