"""NIK and No. KK rules (NIK-01..10, KK-01..03). All identifiers here are synthetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dtsen_pipeline.domain.identifiers import (
    KK_ISSUES,
    NIK_ISSUES,
    NIK_WARNINGS,
    PROVINCE_CODES,
    check_kk,
    check_nik,
    id_prefix15,
    is_valid_nik,
    nik_birth_parts,
    nik_issue,
    nik_sex,
    nik_warnings,
)

VALID = "1806010107850001"  # Tanggamus, Kota Agung, male born 01-07-(19)85, serial 0001


def issue_of(value: object) -> object:
    result = check_nik(pd.Series([value], dtype=object))
    return result["issue"].iloc[0]


@pytest.mark.parametrize(
    "value",
    [
        VALID,
        "1806014107850001",  # female: day + 40
        "1806017112990001",  # female born 31-12-99
        "  1806010107850001 ",
        "\ufeff1806010107850001",
        "1806 0101 0785 0001",
        "18.06.01.010785.0001",
        "1806-0101-0785-0001",
        "'1806010107850001",
        "1806\u00a00101\u00a007850001",
        "1806012902000001",  # 29 Feb 2000
        "1806016902040001",  # 29 Feb (19)04/(20)04, female
        "1806012902800001",  # 29 Feb 1980
        "9406013112790001",  # newest provinces (Papua split, 2022) are in the 2025 list
        "1171013101019999",
    ],
)
def test_valid_nik_passes(value: str) -> None:
    result = check_nik(pd.Series([value]))
    assert pd.isna(result["issue"].iloc[0])
    digits = "".join(ch for ch in value if ch.isdigit())
    assert result["nik"].iloc[0] == digits
    assert is_valid_nik(value)


@pytest.mark.parametrize(
    ("value", "issue"),
    [
        (None, "MISSING"),
        (np.nan, "MISSING"),
        (pd.NA, "MISSING"),
        ("", "MISSING"),
        ("   ", "MISSING"),
        ("1.80601E+15", "NIK_EXCEL_DAMAGED"),
        ("1.80601e15", "NIK_EXCEL_DAMAGED"),
        ("1,80601E+15", "NIK_EXCEL_DAMAGED"),
        ("1.806010107850001E+15", "NIK_EXCEL_DAMAGED"),
        ("1806014107850001.0", "NIK_EXCEL_DAMAGED"),
        ("1806014107850001.00", "NIK_EXCEL_DAMAGED"),
        (" 1806014107850000.0 ", "NIK_EXCEL_DAMAGED"),
        ("180601010785001", "NIK_BAD_FORMAT"),  # 15 digits
        ("18060101078500011", "NIK_BAD_FORMAT"),  # 17 digits
        ("1806O10107850001", "NIK_BAD_FORMAT"),  # letter O
        ("NIK 1806010107850001", "NIK_BAD_FORMAT"),
        ("1806010107850001'", "NIK_BAD_FORMAT"),
        ("0520304200900002", "NIK_PLACEHOLDER"),  # OpenSID temporary NIK (leading 0)
        ("0000000000000000", "NIK_PLACEHOLDER"),
        ("5201070000000004", "NIK_PLACEHOLDER"),  # DOB segment 000000
        ("1806010000000001", "NIK_PLACEHOLDER"),
        ("1111111111111111", "NIK_PLACEHOLDER"),
        ("9999999999999999", "NIK_PLACEHOLDER"),
        ("1234567890123456", "NIK_PLACEHOLDER"),
        ("9876543210987654", "NIK_PLACEHOLDER"),
        ("3456789012345678", "NIK_PLACEHOLDER"),
        ("1234567812345678", "NIK_PLACEHOLDER"),  # blacklist
        ("1006010107850001", "NIK_BAD_PROVINCE"),
        ("2006010107850001", "NIK_BAD_PROVINCE"),
        ("3706010107850001", "NIK_BAD_PROVINCE"),
        ("9706010107850001", "NIK_BAD_PROVINCE"),
        ("1800010107850001", "NIK_BAD_REGION"),  # kabupaten 00
        ("1806000107850001", "NIK_BAD_REGION"),  # kecamatan 00
        ("1806010007850001", "NIK_BAD_DATE"),  # day 00
        ("1806013207850001", "NIK_BAD_DATE"),  # day 32
        ("1806014007850001", "NIK_BAD_DATE"),  # day 40
        ("1806017207850001", "NIK_BAD_DATE"),  # day 72
        ("1806010100850001", "NIK_BAD_DATE"),  # month 00
        ("1806010113850001", "NIK_BAD_DATE"),  # month 13
        ("1806013104850001", "NIK_BAD_DATE"),  # 31 April
        ("1806017104850001", "NIK_BAD_DATE"),  # 31 April, female
        ("1806013002800001", "NIK_BAD_DATE"),  # 30 Feb
        ("1806012902010001", "NIK_BAD_DATE"),  # 29 Feb 1901/2001: no leap year
        ("1806016902990001", "NIK_BAD_DATE"),  # 29 Feb 1999/2099, female
        ("1806010107850000", "NIK_BAD_SERIAL"),
    ],
)
def test_nik_issues(value: object, issue: str) -> None:
    assert issue_of(value) == issue
    assert nik_issue(value) == issue
    assert not is_valid_nik(value)  # type: ignore[arg-type]
    assert pd.isna(check_nik(pd.Series([value], dtype=object))["nik"].iloc[0])


def test_first_failing_rule_wins() -> None:
    # Placeholder beats province/date/serial; damage is detected before dots are stripped.
    assert issue_of("0000000000000000") == "NIK_PLACEHOLDER"
    assert issue_of("1.8060101078500E+15") == "NIK_EXCEL_DAMAGED"
    # Bad province and bad date: province is reported.
    assert issue_of("9906019907850001") == "NIK_BAD_PROVINCE"
    # Bad region and bad serial: region is reported.
    assert issue_of("1800010107850000") == "NIK_BAD_REGION"


def test_numbers_from_a_float_column_are_damaged_not_repaired() -> None:
    raw = pd.Series([1806010107850001.0, 1.806e15], dtype=object)
    result = check_nik(raw)
    assert result["issue"].tolist() == ["NIK_EXCEL_DAMAGED", "NIK_EXCEL_DAMAGED"]
    assert result["nik"].isna().all()


def test_blacklist_is_configurable() -> None:
    values = pd.Series([VALID, "1234567812345678"])
    assert check_nik(values, blacklist={VALID})["issue"].tolist()[0] == "NIK_PLACEHOLDER"
    assert check_nik(values, blacklist=())["issue"].iloc[1] == "NIK_BAD_DATE"  # day 78
    assert nik_issue(VALID, blacklist={VALID}) == "NIK_PLACEHOLDER"


def test_all_38_provinces_accepted() -> None:
    assert len(PROVINCE_CODES) == 38
    values = pd.Series([f"{p}06010107850001" for p in sorted(PROVINCE_CODES)])
    assert check_nik(values)["issue"].isna().all()
    others = [f"{p:02d}06010107850001" for p in range(10, 100) if f"{p:02d}" not in PROVINCE_CODES]
    assert set(check_nik(pd.Series(others))["issue"]) == {"NIK_BAD_PROVINCE"}


def test_check_nik_shape_index_and_dtypes() -> None:
    values = pd.Series([VALID, None, "1.80601E+15"], index=[10, 5, 7])
    result = check_nik(values)
    assert list(result.columns) == ["nik", "issue"]
    assert list(result.index) == [10, 5, 7]
    assert result["nik"].dtype == "str" and result["issue"].dtype == "str"
    assert result["nik"].tolist()[0] == VALID
    assert set(result["issue"].dropna()) <= set(NIK_ISSUES)


def test_empty_series() -> None:
    result = check_nik(pd.Series([], dtype="str"))
    assert len(result) == 0 and list(result.columns) == ["nik", "issue"]
    assert len(check_kk(pd.Series([], dtype="str"))) == 0


@pytest.mark.parametrize(
    ("value", "issue"),
    [
        ("1806012003150007", None),
        ("1806010000000004", None),  # KK issue date part is only an I-level check
        (" 1806-0120-0315-0007 ", None),
        (None, "MISSING"),
        ("", "MISSING"),
        ("1.80601E+15", "KK_EXCEL_DAMAGED"),
        ("1806012003150007.0", "KK_EXCEL_DAMAGED"),
        ("180601200315000", "KK_BAD_FORMAT"),
        ("KK1806012003150007", "KK_BAD_FORMAT"),
        ("0806012003150007", "KK_PLACEHOLDER"),  # OpenSID temporary KK
        ("7777777777777777", "KK_PLACEHOLDER"),
        ("1234567890123456", "KK_PLACEHOLDER"),
        ("6543210987654321", "KK_PLACEHOLDER"),
    ],
)
def test_kk_rules(value: object, issue: str | None) -> None:
    result = check_kk(pd.Series([value], dtype=object))
    assert list(result.columns) == ["no_kk", "issue"]
    if issue is None:
        assert pd.isna(result["issue"].iloc[0])
        assert result["no_kk"].iloc[0] == "".join(ch for ch in value if ch.isdigit())  # type: ignore[union-attr]
    else:
        assert result["issue"].iloc[0] == issue
        assert pd.isna(result["no_kk"].iloc[0])
        assert issue in KK_ISSUES


def test_nik_sex_and_birth_parts() -> None:
    nik = pd.Series([VALID, "1806015102000001", None, "junk"], index=list("abcd"))
    assert nik_sex(nik).tolist()[:2] == ["L", "P"]
    assert nik_sex(nik).iloc[2:].isna().all()
    parts = nik_birth_parts(nik)
    assert list(parts.index) == list("abcd")
    assert parts.loc["a"].tolist() == [1, 7, 85]
    assert parts.loc["b"].tolist() == [11, 2, 0]  # 51 - 40
    assert parts.loc[["c", "d"]].isna().all().all()
    assert all(str(t) == "Int64" for t in parts.dtypes)


def test_nik_warnings() -> None:
    nik = pd.Series([VALID, VALID, VALID, "1806015102000001", None, VALID])
    sex = pd.Series(["L", "P", "P", "P", "L", None])
    dob = pd.Series(
        pd.to_datetime(["1985-07-01", "1985-07-01", "1986-07-01", "2000-02-11", "1990-01-01", None])
    )
    result = nik_warnings(nik, sex, dob)
    assert result.tolist() == [
        "",
        "NIK_SEX_MISMATCH",
        "NIK_SEX_MISMATCH;NIK_DOB_MISMATCH",
        "",
        "",  # no NIK: nothing to compare
        "",  # missing sex and DOB: nothing to compare
    ]
    assert set(NIK_WARNINGS) == {"NIK_SEX_MISMATCH", "NIK_DOB_MISMATCH"}


def test_nik_warnings_dob_century_is_ignored() -> None:
    nik = pd.Series([VALID])
    assert nik_warnings(nik, pd.Series(["L"]), pd.Series(pd.to_datetime(["2085-07-01"]))).tolist() == [""]
    with pytest.raises(ValueError):
        nik_warnings(nik, pd.Series(["L", "P"]), pd.Series(pd.to_datetime(["2085-07-01"])))


def test_id_prefix15_of_valid_ids_and_of_excel_numbers_with_15_digits() -> None:
    """NIK-02: a valid id gives its first 15 digits; an id Excel stored as a number keeps its
    first 15 only when all 15 significant digits survived; anything else gives none."""
    raw = pd.Series([VALID, "1806010107850001.0", "'1806010107850001,00", "1.80601E+15",
                     "180601010785000", None, "   ", "x1806010107850001.0"], index=range(10, 18))
    got = id_prefix15(raw, check_nik(raw)["nik"])
    assert got.index.equals(raw.index)
    assert got.tolist()[:3] == ["180601010785000"] * 3
    assert got.iloc[3:7].isna().all()
    assert got.iloc[7] == "180601010785000"  # the digits are found inside other text, as before
