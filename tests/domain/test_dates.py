"""Birth-date parsing and plausibility (DOB-01, DOB-02)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from dtsen_pipeline.domain.dates import (
    DATE_ISSUES,
    DOB_ISSUES,
    birth_date_issues,
    is_imprecise_dob,
    parse_birth_dates,
    parse_dates,
    plausible_birth_year,
)

AS_OF = date(2025, 6, 30)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1985-07-01", "1985-07-01"),
        ("1985-7-1", "1985-07-01"),
        ("1985-07-01 00:00:00", "1985-07-01"),  # xlsx datetime cell rendered as text
        ("1985-07-01 13:45:10", "1985-07-01"),
        ("01-07-1985", "1985-07-01"),
        ("1-7-1985", "1985-07-01"),
        ("01/07/1985", "1985-07-01"),
        ("1/7/1985", "1985-07-01"),
        ("31/12/1970", "1970-12-31"),
        (" 05-02-1990 ", "1990-02-05"),
        ("29-02-2000", "2000-02-29"),
        ("1980-02-29", "1980-02-29"),
        ("31229", "1985-07-01"),  # Excel serial
        ("31229.0", "1985-07-01"),
        ("1", "1899-12-31"),
        ("25569", "1970-01-01"),
        ("80000", "2119-01-11"),
        ("1985/07/01", "1985-07-01"),  # year first with slashes: never read day first
        ("19850701", "1985-07-01"),  # YYYYMMDD
        ("07/25/1985", "1985-07-25"),  # month first, the only possible reading (25 is no month)
        ("12-13-1985", "1985-12-13"),
    ],
)
def test_accepted_formats(raw: str, expected: str) -> None:
    result = parse_dates(pd.Series([raw]))
    assert result["date"].iloc[0] == pd.Timestamp(expected)
    assert pd.isna(result["issue"].iloc[0])


@pytest.mark.parametrize(
    ("raw", "issue"),
    [
        ("31-02-1980", "DATE_IMPOSSIBLE"),
        ("29-02-1981", "DATE_IMPOSSIBLE"),
        ("1900-02-29", "DATE_IMPOSSIBLE"),
        ("1980-13-01", "DATE_IMPOSSIBLE"),
        ("31/04/1980", "DATE_IMPOSSIBLE"),
        ("13/13/1980", "DATE_IMPOSSIBLE"),  # neither order gives a date
        ("02/30/1980", "DATE_IMPOSSIBLE"),  # month first would be 30 Feb
        ("0000-01-01", "DATE_IMPOSSIBLE"),
        ("0", "DATE_UNPARSEABLE"),  # serial out of range
        ("80001", "DATE_UNPARSEABLE"),
        ("31229.5", "DATE_UNPARSEABLE"),  # serials are whole days
        ("07-01-85", "DATE_UNPARSEABLE"),  # 2-digit year
        ("01.07.1985", "DATE_UNPARSEABLE"),
        ("01-07/1985", "DATE_UNPARSEABLE"),
        ("01071985", "DATE_UNPARSEABLE"),  # DDMMYYYY is not accepted (YYYYMMDD only)
        ("17000101", "DATE_UNPARSEABLE"),  # an 8-digit number is a date only for years 1800-2199
        ("1234567", "DATE_UNPARSEABLE"),
        ("1985-07-01-02", "DATE_UNPARSEABLE"),
        ("1 Juli 1985", "DATE_UNPARSEABLE"),
        ("TIDAK TAHU", "DATE_UNPARSEABLE"),
    ],
)
def test_bad_dates(raw: str, issue: str) -> None:
    result = parse_dates(pd.Series([raw]))
    assert pd.isna(result["date"].iloc[0])
    assert result["issue"].iloc[0] == issue
    assert issue in DATE_ISSUES


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_missing_is_not_an_error(raw: str | None) -> None:
    result = parse_dates(pd.Series([raw], dtype="str"))
    assert pd.isna(result["date"].iloc[0])
    assert pd.isna(result["issue"].iloc[0])


def test_mixed_feed_keeps_index_and_types() -> None:
    values = pd.Series(
        ["1985-07-01", "01/07/1985", "31229", "31-02-1980", None, "01-07-1985"], index=list("fedcba")
    )
    result = parse_dates(values)
    assert list(result.index) == list("fedcba")
    assert str(result["date"].dtype).startswith("datetime64")
    assert result["issue"].dtype == "str"
    assert result["date"].iloc[[0, 1, 2, 5]].eq(pd.Timestamp("1985-07-01")).all()
    assert result["issue"].tolist()[3] == "DATE_IMPOSSIBLE"


def test_empty_series() -> None:
    assert len(parse_dates(pd.Series([], dtype="str"))) == 0


def test_birth_date_issues() -> None:
    dates = pd.Series(
        pd.to_datetime(
            [
                "1985-07-01",
                "2025-06-30",
                "2025-07-01",
                "2030-01-01",
                "1904-07-01",
                "1904-06-30",
                "1850-01-01",
                None,
            ]
        ),
        index=range(10, 18),
    )
    result = birth_date_issues(dates, AS_OF)
    assert list(result.index) == list(range(10, 18))
    assert result.dtype == "str"
    expected = [None, None, "DOB_IN_FUTURE", "DOB_IN_FUTURE", None, "DOB_TOO_OLD", "DOB_TOO_OLD", None]
    assert [None if pd.isna(v) else v for v in result] == expected  # 1904-07-01 is 120, 1904-06-30 is 121
    assert set(result.dropna()) <= set(DOB_ISSUES)


def test_imprecise_dob() -> None:
    dates = pd.Series(
        pd.to_datetime(
            ["1970-12-31", "1985-07-01", "1990-01-01", "1977-03-15", "1980-02-29", "1985-07-02", None]
        )
    )
    assert is_imprecise_dob(dates).tolist() == [True, True, True, True, False, False, False]
    assert is_imprecise_dob(dates).dtype == bool


def test_ambiguous_day_first_stays_day_first() -> None:
    result = parse_dates(pd.Series(["05/07/1985", "05-07-1985", "12/11/1985"]))
    assert result["date"].tolist() == [pd.Timestamp("1985-07-05"), pd.Timestamp("1985-07-05"),
                                       pd.Timestamp("1985-11-12")]


@pytest.mark.parametrize(
    ("raw", "year", "precision"),
    [
        ("1985", 1985, "year"),
        ("1985.0", 1985, "year"),  # a number cell of a workbook
        ("00-00-1985", 1985, "year"),
        ("1985-00-00", 1985, "year"),
        ("--/--/1985", 1985, "year"),
        ("00/00/1985", 1985, "year"),
        ("0-0-1985", 1985, "year"),
        ("xx-xx-1985", 1985, "year"),
        ("??/??/1985", 1985, "year"),
        ("1985-00-15", 1985, "year"),  # a day without its month says nothing more
        ("07/00/1985", 1985, "year"),  # day first: month unknown
        ("1985-07-00", 1985, "month"),
        ("00-07-1985", 1985, "month"),
        ("--/07/1985", 1985, "month"),
        ("07-1985", 1985, "month"),
        ("07/1985", 1985, "month"),
        ("1985-07", 1985, "month"),
        ("1985/07", 1985, "month"),
        ("19850700", 1985, "month"),
    ],
)
def test_partial_birth_dates_keep_the_year(raw: str, year: int, precision: str) -> None:
    plain = parse_dates(pd.Series([raw]))
    assert pd.isna(plain["date"].iloc[0]) and plain["issue"].iloc[0] == "DATE_PARTIAL"
    born = parse_birth_dates(pd.Series([raw]), AS_OF)
    assert pd.isna(born["date"].iloc[0])
    assert born["birth_year"].iloc[0] == year
    assert born["precision"].iloc[0] == precision
    assert born["flag"].iloc[0] == "DOB_PARTIAL"


@pytest.mark.parametrize(
    ("raw", "date_", "flag"),
    [
        ("1985-07-01", "1985-07-01", None),
        ("01/07/1985", "1985-07-01", None),
        ("31229", "1985-07-01", None),
        ("1985/07/25", "1985-07-25", None),
        ("19850725", "1985-07-25", None),
        ("07/25/1985", "1985-07-25", "DOB_MONTH_FIRST"),
        ("07-25-1985", "1985-07-25", "DOB_MONTH_FIRST"),
    ],
)
def test_full_birth_dates(raw: str, date_: str, flag: str | None) -> None:
    born = parse_birth_dates(pd.Series([raw]), AS_OF)
    assert born["date"].iloc[0] == pd.Timestamp(date_)
    assert born["birth_year"].iloc[0] == int(date_[:4])
    assert born["precision"].iloc[0] == "day"
    assert (None if pd.isna(born["flag"].iloc[0]) else born["flag"].iloc[0]) == flag


@pytest.mark.parametrize(
    ("raw", "year", "flag"),
    [
        ("2025-07-01", None, "DOB_IN_FUTURE"),  # the day after AS_OF
        ("2030", None, "DOB_IN_FUTURE"),
        ("2025-08", None, "DOB_IN_FUTURE"),
        ("1890-01-01", None, "DOB_TOO_OLD"),
        ("1904-06-30", None, "DOB_TOO_OLD"),  # 121 years old on AS_OF
        ("1903", None, "DOB_TOO_OLD"),  # every day of 1903 is over 120 years back
        ("1", None, "DOB_TOO_OLD"),  # Excel serial 1 = 1899-12-31
        ("0000-01-01", None, "DOB_IMPOSSIBLE"),  # year 0
        ("31-02-1980", 1980, "DOB_IMPOSSIBLE"),  # no such day; the year is credible
        ("1980-13-01", 1980, "DOB_IMPOSSIBLE"),
        ("31-02-1850", None, "DOB_IMPOSSIBLE"),  # no such day, and the year is not credible
        ("TIDAK TAHU", None, "DOB_UNPARSEABLE"),
        ("07-01-85", None, "DOB_UNPARSEABLE"),
    ],
)
def test_unusable_birth_dates_are_nulled_and_flagged(raw: str, year: int | None, flag: str) -> None:
    born = parse_birth_dates(pd.Series([raw]), AS_OF)
    assert pd.isna(born["date"].iloc[0])
    assert born["flag"].iloc[0] == flag
    if year is None:
        assert pd.isna(born["birth_year"].iloc[0]) and pd.isna(born["precision"].iloc[0])
    else:
        assert born["birth_year"].iloc[0] == year and born["precision"].iloc[0] == "year"


def test_year_only_at_the_edges_of_plausibility() -> None:
    born = parse_birth_dates(pd.Series(["1904", "1905", "2025", "2026"]), AS_OF)
    # 31 Dec 1904 is 120 years old on 30 Jun 2025: some day of 1904 is plausible
    assert born["birth_year"].tolist() == [1904, 1905, 2025, pd.NA]
    assert plausible_birth_year(pd.Series([1903, 1904, 2025, 2026, None]), AS_OF).tolist() == [
        False, True, True, False, True]


def test_birth_dates_missing_keep_index_and_types() -> None:
    values = pd.Series([None, "", "1985", "01/07/1985", "1985", None], index=list("fedcba"), dtype="str")
    born = parse_birth_dates(values, AS_OF)
    assert list(born.index) == list("fedcba")
    assert str(born["birth_year"].dtype) == "Int64"
    assert str(born["date"].dtype).startswith("datetime64")
    assert born["precision"].isna().tolist() == [True, True, False, False, False, True]
    assert born["flag"].isna().tolist() == [True, True, False, True, False, True]
