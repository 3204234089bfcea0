"""A place whose list has not changed since the last run gets that run's workbook copied; a place
whose list changed, and every place after a code change, gets a workbook written."""

import datetime as dt

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from dtsen_pipeline.reports import worklists
from dtsen_pipeline.reports.worklist_reuse import (
    STATE_TABLE,
    EarlierLists,
    earlier_lists,
    remember_lists,
    workbook_salt,
)
from dtsen_pipeline.reports.worklists import WORKLIST_COLUMNS, write_worklists
from dtsen_pipeline.warehouse import qualified, read_sql

VILLAGES = pd.DataFrame({"kode_desa": ["18.06.01.2016", "18.06.01.2017", "18.06.02.2001"],
                         "kode_kecamatan": ["18.06.01", "18.06.01", "18.06.02"],
                         "village_name": ["KOTA AGUNG", "KUTA DALOM", "PARDASUKA"],
                         "kecamatan_name": ["KOTA AGUNG", "KOTA AGUNG", "PULAU PANGGUNG"]})
PERIOD = "2026-12"


def _flags() -> pd.DataFrame:
    rows = []
    for i, desa in enumerate(["18.06.01.2016"] * 3 + ["18.06.01.2017"] * 2 + ["18.06.02.2001"] * 4):
        rows.append({"subject_type": "PERSON", "subject_id": f"P{i:03d}", "household_id": f"H{i // 2:03d}",
                     "flag": "DEAD_RECIPIENT", "reason": "DUKCAPIL_MATI", "evidence": f"dukcapil=dukcapil:D.csv#{i + 2}",
                     "kode_desa": desa, "kode_kecamatan": desa[:8], "kode_desa_lain": None,
                     "verval_status": "UNVERIFIED", "verval_hasil": None, "verval_tingkat": None,
                     "verval_tanggal": None})
    rows.append({**rows[0], "flag": "DUPLICATE_RECORDS", "reason": "DUPLICATE_IN_DTSEN", "evidence": "dtsen=D.csv#9"})
    return pd.DataFrame(rows)


PERSONS = pd.DataFrame({"person_id": [f"P{i:03d}" for i in range(9)],
                        "nik": [f"18060150019{i:05d}" for i in range(9)],
                        "no_kk": [f"18060120020{i // 2:05d}" for i in range(9)],
                        "nama": [f"WARGA {i}" for i in range(9)]})
HOUSEHOLDS = pd.DataFrame({"household_id": [f"H{i:03d}" for i in range(5)],
                           "id_keluarga": [f"K{i}" for i in range(5)],
                           "no_kk": [f"18060120020{i:05d}" for i in range(5)],
                           "head_nama": [f"KEPALA {i}" for i in range(5)], "desil": [1, 2, 3, 1, 2],
                           "pkh": [True, False, True, False, True], "bpnt": [False] * 5, "pbi_jk": [True] * 5})


def _write(folder, flags, earlier=None):
    return {f.csv.stem: f for f in write_worklists(flags, PERSONS, HOUSEHOLDS, folder, PERIOD, VILLAGES,
                                                   earlier=earlier)}


def _cells(path):
    sheet = openpyxl.load_workbook(path)["VERVAL"]
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_unchanged_lists_are_copied_and_a_changed_one_is_written(tmp_path):
    first = _write(tmp_path / "run1", _flags())
    assert not any(f.reused for f in first.values())
    flags = _flags()
    flags.loc[flags["subject_id"] == "P004", "verval_status"] = "CONFIRMED"  # answered in KUTA DALOM
    flags.loc[flags["subject_id"] == "P004", "verval_tingkat"] = "PEKON"
    second = _write(tmp_path / "run2", flags, EarlierLists(tmp_path / "run1", {s: f.digest for s, f in first.items()}))

    changed = {"PEKON_1806012017_2026-12", "KECAMATAN_180601_2026-12"}  # the pekon answer goes up a tier
    assert set(second) == set(first) | {"KECAMATAN_180601_2026-12"}
    assert {s for s, f in second.items() if not f.reused} == changed
    for stem in set(second) - changed:
        assert second[stem].xlsx.read_bytes() == first[stem].xlsx.read_bytes()
    kuta_dalom = _cells(second["PEKON_1806012017_2026-12"].xlsx)
    assert [row[WORKLIST_COLUMNS.index("PERSON_ID")] for row in kuta_dalom[1:]] == ["P003"]
    assert not list((tmp_path / "run2").glob("*.part"))


def test_nothing_is_copied_after_a_code_change_or_from_a_missing_file(tmp_path, monkeypatch):
    first = _write(tmp_path / "run1", _flags())
    digests = {s: f.digest for s, f in first.items()}
    first["PEKON_1806022001_2026-12"].xlsx.unlink()  # the earlier folder lost a file: written again
    second = _write(tmp_path / "run2", _flags(), EarlierLists(tmp_path / "run1", digests))
    assert {s for s, f in second.items() if not f.reused} == {"PEKON_1806022001_2026-12"}
    assert len(_cells(second["PEKON_1806022001_2026-12"].xlsx)) == 1 + 4  # header and PARDASUKA's four

    monkeypatch.setattr(worklists, "workbook_salt", lambda: "other code")
    third = _write(tmp_path / "run3", _flags(), EarlierLists(tmp_path / "run2", {s: f.digest for s, f in second.items()}))
    assert not any(f.reused for f in third.values())
    assert {f.digest for f in third.values()}.isdisjoint(digests.values())


def test_the_digest_covers_the_workbook_year():
    assert workbook_salt(dt.date(2026, 12, 31)) != workbook_salt(dt.date(2027, 1, 1))
    assert workbook_salt(dt.date(2026, 1, 1)) == workbook_salt(dt.date(2026, 12, 31))


@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    yield engine
    engine.dispose()


def test_the_last_recorded_run_is_what_the_next_compares_with(tmp_path, engine):
    worklists_dir = tmp_path / "worklists"
    assert earlier_lists(engine, worklists_dir) is None  # first night: nothing recorded yet
    first = _write(worklists_dir / "run-a", _flags())
    remember_lists(engine, "run-a", {s: f.digest for s, f in first.items()})
    earlier = earlier_lists(engine, worklists_dir)
    assert earlier is not None and earlier.folder == worklists_dir / "run-a"
    second = _write(worklists_dir / "run-b", _flags(), earlier)
    assert all(f.reused for f in second.values())
    remember_lists(engine, "run-b", {s: f.digest for s, f in second.items()})
    recorded = read_sql(engine, f"SELECT * FROM {qualified(*STATE_TABLE)}")
    assert set(recorded["run_id"]) == {"run-b"} and sorted(recorded["stem"]) == sorted(second)
    text = recorded.to_csv()
    assert "WARGA" not in text and not any(nik in text for nik in PERSONS["nik"])  # codes and digests only


def test_the_same_flags_in_another_order_give_the_same_files(tmp_path):
    """The warehouse returns rows in any order: a subject's joined flags must not follow it."""
    first = _write(tmp_path / "run1", _flags())
    shuffled = _flags().iloc[::-1].reset_index(drop=True)
    second = _write(tmp_path / "run2", shuffled, EarlierLists(tmp_path / "run1", {s: f.digest for s, f in first.items()}))
    assert all(f.reused for f in second.values())
    kota_agung = pd.read_csv(second["PEKON_1806012016_2026-12"].csv, dtype=str)
    assert kota_agung.loc[kota_agung["PERSON_ID"] == "P000", "FLAG"].tolist() == ["DUPLICATE_RECORDS, DEAD_RECIPIENT"]
