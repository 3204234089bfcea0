"""Each comparison's levels, as the Splink model computes them for hand-made record pairs."""

import pandas as pd
import pytest

from dtsen_pipeline.linkage.model import new_linker, settings
from dtsen_pipeline.linkage.prepare import linkage_input

BASE = {
    "record_id": "dtsen:a.csv#1", "feed": "dtsen", "nik": "1806014107850001", "no_kk": "1806010101100001",
    "name_key": "SITI AMINAH", "tgl_lahir": pd.Timestamp("1985-07-21"), "dob_imprecise": False,
    "jenis_kelamin": "P", "kode_desa": "18.06.01.2016", "kode_kecamatan": "18.06.01", "alamat": "Dusun I",
}


def _record(**changes) -> dict:
    row = linkage_input(pd.DataFrame([{**BASE, **changes}])).iloc[0].to_dict()
    return {k: (None if pd.isna(v) else v) for k, v in row.items()}


@pytest.fixture(scope="module")
def linker():
    frame = linkage_input(pd.DataFrame([BASE, {**BASE, "record_id": "dtsen:a.csv#2"}]))
    return new_linker(frame, settings())


def _gammas(linker, left: dict, right: dict) -> dict[str, int]:
    scored = linker.inference.score_pair(left, {**right, "unique_id": "other"}).as_pandas_dataframe()
    return {c.removeprefix("gamma_"): int(scored[c].iloc[0]) for c in scored.columns if c.startswith("gamma_")}


def test_identical_records_agree_on_every_comparison(linker):
    gammas = _gammas(linker, _record(), _record())
    assert gammas == {"nik": 4, "name_key": 5, "dob": 6, "jenis_kelamin": 1, "no_kk": 4, "kode_desa": 2,
                      "alamat_key": 2}


@pytest.mark.parametrize("column", ["nik", "no_kk"])
@pytest.mark.parametrize(("edit", "level"), [
    (lambda v: None, -1),  # a damaged or placeholder id is null: never agreement
    (lambda v: v, 4),
    (lambda v: v[:-1] + ("2" if v[-1] != "2" else "3"), 2),  # one digit mistyped (at the end)
    (lambda v: v[:3] + "9" + v[4:], 2),  # one digit mistyped (in the region code)
    (lambda v: v[:10] + v[11] + v[10] + v[12:], 1),  # two adjacent digits swapped
    (lambda v: v[:7] + v[8] + v[7] + v[9:], 1),  # swapped across the middle of the id
    (lambda v: v[:2] + v[3] + v[2] + v[4:10] + v[11] + v[10] + v[12:], 0),  # two swaps: another id
    (lambda v: "1806025203900002", 0),
])
def test_identifier_levels(linker, column, edit, level):
    value = BASE[column]
    other = edit(value)
    assert other is None or other == value or len(other) == 16
    assert _gammas(linker, _record(), _record(**{column: other}))[column] == level


@pytest.mark.parametrize(("name", "level"), [
    ("SITI AMINAH", 5),
    ("SITI AMINAA", 4),  # Jaro-Winkler >= 0.94
    ("AMINAH", 3),  # one name contains the other (a dropped token)
    ("NUR AMINAH", 2),  # the informative token agrees (NUR carries little information)
    ("SITI AMINI", 4),
    ("SRI WAHYUNI", 0),
])
def test_name_levels(linker, name, level):
    assert _gammas(linker, _record(), _record(name_key=name))["name_key"] == level


@pytest.mark.parametrize(("left", "right", "imprecise", "level"), [
    ("1985-07-21", "1985-07-21", False, 6),  # exact
    ("1985-07-01", "1985-07-01", True, 5),  # exact, but a registry default date
    ("1985-07-11", "1985-11-07", False, 4),  # day and month swapped
    ("1985-07-21", "1985-07-24", False, 3),  # one character apart
    ("1985-07-21", "1985-03-02", False, 2),  # same year
    ("1985-07-21", "1986-03-02", False, 1),  # year +/- 1
    ("1985-07-21", "1990-03-02", False, 0),
])
def test_birth_date_levels(linker, left, right, imprecise, level):
    a = _record(tgl_lahir=pd.Timestamp(left), dob_imprecise=imprecise)
    b = _record(tgl_lahir=pd.Timestamp(right), dob_imprecise=imprecise)
    assert _gammas(linker, a, b)["dob"] == level


def test_sex_kk_village_and_address_levels(linker):
    other = _record(jenis_kelamin="L", no_kk="1806020303100702", alamat="Dusun IX")
    gammas = _gammas(linker, _record(), other)
    assert gammas["jenis_kelamin"] == 0 and gammas["no_kk"] == 0
    assert gammas["kode_desa"] == 2
    assert gammas["alamat_key"] == 1  # Jaro-Winkler >= 0.9
    assert _gammas(linker, _record(), _record(alamat="Jl. Raya Pugung"))["alamat_key"] == 0
    neighbour = _gammas(linker, _record(), _record(kode_desa="18.06.01.2019"))
    assert neighbour["kode_desa"] == 1  # same kecamatan
    far = _gammas(linker, _record(), _record(kode_desa="18.06.02.2012", kode_kecamatan="18.06.02"))
    assert far["kode_desa"] == 0


def test_a_move_is_counted_once_by_the_village(linker):
    """In another village a new card and another address are what a move means: they score as
    null there (no second and third disagreement), while the village itself disagrees."""
    moved = _record(no_kk="1806020303100702", kode_desa="18.06.02.2012", kode_kecamatan="18.06.02",
                    alamat="Jl. Raya Pugung")
    gammas = _gammas(linker, _record(), moved)
    assert gammas["kode_desa"] == 0
    assert gammas["no_kk"] == -1 and gammas["alamat_key"] == -1
    same_card = _gammas(linker, _record(), _record(kode_desa="18.06.02.2012", kode_kecamatan="18.06.02"))
    assert same_card["no_kk"] == 4  # a card that agrees still counts everywhere


@pytest.mark.parametrize(("column", "prefix"), [("nik", "nik_prefix15"), ("no_kk", "kk_prefix15")])
def test_an_id_excel_stored_as_a_number_compares_on_its_first_15_digits(linker, column, prefix):
    """'1806014107850000.0': the 16th digit is lost, the id is null, the first 15 digits remain.
    The same 15 digits agree; 15 other digits are another person's id, not "unknown"."""
    damaged = {column: None, prefix: BASE[column][:15]}
    assert _gammas(linker, _record(), _record(**damaged))[column] == 3
    other = {column: None, prefix: "180602520390000"}
    assert _gammas(linker, _record(), _record(**other))[column] == 0  # another id
    assert _gammas(linker, _record(), _record(**{column: None, prefix: None}))[column] == -1  # nothing left
    twin = {column: BASE[column][:15] + "9"}  # both valid: the 16th digit differs: one digit apart
    assert _gammas(linker, _record(), _record(**twin))[column] == 2


@pytest.mark.parametrize(("year", "level"), [(1985, 2), (1986, 1), (1990, 0), (None, -1)])
def test_a_year_only_record_compares_on_its_year(linker, year, level):
    """Issue #10: a partial birth date (only the year known) is staged with `birth_year` and a null
    `tgl_lahir`; linkage takes `dob_year` from `birth_year`, so the record still links on year."""
    partial = _record(tgl_lahir=pd.NaT, birth_year=year, dob_precision=None if year is None else "year")
    assert partial["dob"] is None
    assert partial["dob_year"] == year
    assert _gammas(linker, _record(), partial)["dob"] == level

