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
    parse_dates,
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
        ("00/01/1980", "DATE_IMPOSSIBLE"),
        ("31/04/1980", "DATE_IMPOSSIBLE"),
        ("0000-01-01", "DATE_IMPOSSIBLE"),
        ("0", "DATE_UNPARSEABLE"),  # serial out of range
        ("80001", "DATE_UNPARSEABLE"),
        ("31229.5", "DATE_UNPARSEABLE"),  # serials are whole days
        ("1985/07/01", "DATE_UNPARSEABLE"),
        ("07-01-85", "DATE_UNPARSEABLE"),  # 2-digit year
        ("01.07.1985", "DATE_UNPARSEABLE"),
        ("01-07/1985", "DATE_UNPARSEABLE"),
        ("19850701", "DATE_UNPARSEABLE"),
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
