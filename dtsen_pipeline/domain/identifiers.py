"""NIK and No. KK checks (rules NIK-01..10, NIK-13, KK-01..03).

A NIK reads ``PP KK CC DD MM YY SSSS``: province, kabupaten/kota and kecamatan of *first*
registration, birth day (+40 for women), month, 2-digit year, then a serial from 0001.
Values are only ever checked, never repaired: a NIK that went through Excel has lost its
16th digit, and any "fix" would be a guess that could join two different people.

Everything stays text (NIK-13); the digit tests run on a uint8 matrix, so one call on a
million rows takes a fraction of a second.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ._text import WHITESPACE, as_text, digit_matrix, strip_text, take_text

NIK_ISSUES: tuple[str, ...] = (
    "MISSING",  # empty or NA
    "NIK_EXCEL_DAMAGED",  # scientific notation or a trailing .0: digit 16 is lost (NIK-02)
    "NIK_BAD_FORMAT",  # not 16 digits after removing spaces, '.', '-' and a leading ' (NIK-01)
    "NIK_PLACEHOLDER",  # temporary/dummy number: leading 0, DOB 000000, 1111.., 1234.., blacklist (NIK-08)
    "NIK_BAD_PROVINCE",  # digits 1-2 not one of the 38 provinces of Kepmendagri 2025 (NIK-03)
    "NIK_BAD_REGION",  # kabupaten or kecamatan part is 00 (NIK-04)
    "NIK_BAD_DATE",  # birth part is not a real DDMMYY date, women day+40 (NIK-06)
    "NIK_BAD_SERIAL",  # serial 0000 (NIK-07)
)
KK_ISSUES: tuple[str, ...] = (
    "MISSING",
    "KK_EXCEL_DAMAGED",  # as NIK-02 (KK-01)
    "KK_BAD_FORMAT",  # not 16 digits after the NIK-01 normalisation (KK-01)
    "KK_PLACEHOLDER",  # leading 0 (OpenSID temporary KK), all digits equal, consecutive run (KK-03)
)
NIK_WARNINGS: tuple[str, ...] = (
    "NIK_SEX_MISMATCH",  # sex encoded in the NIK differs from the recorded sex (NIK-09)
    "NIK_DOB_MISMATCH",  # DDMMYY encoded in the NIK differs from the recorded birth date (NIK-10)
)

# The 38 province codes of Kepmendagri 300.2.2-2138/2025.
PROVINCE_CODES: frozenset[str] = frozenset(
    f"{p:02d}"
    for p in (
        *range(11, 20),
        21,
        *range(31, 37),
        *range(51, 54),
        *range(61, 66),
        *range(71, 77),
        81,
        82,
        *range(91, 97),
    )
)

# Dummy numbers typed into forms. All-equal digits and consecutive runs are caught by rule,
# so this list is for the remaining well-known fillers; callers may pass their own.
NIK_BLACKLIST: frozenset[str] = frozenset(
    {
        "1234567890123456",
        "1234567812345678",
        "1212121212121212",
        "1234123412341234",
        "1122334455667788",
    }
)

_EXCEL_DAMAGE = r"'?(?:[0-9][.,][0-9]+[eE]\+?1[0-9]|[0-9]+[.,]0+)"
_REMOVABLE = "[" + WHITESPACE + r".\-]"
_EXCEL_DAMAGE_RE = re.compile(_EXCEL_DAMAGE)
_REMOVABLE_RE = re.compile(_REMOVABLE)
_DIGITS16_RE = re.compile(r"[0-9]{16}")

_PROVINCE_OK = np.zeros(100, dtype=bool)
_PROVINCE_OK[[int(p) for p in PROVINCE_CODES]] = True
# Longest day per month; February allows 29 only when 19yy or 20yy is a leap year (yy % 4 == 0).
_MONTH_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int16)


def _clean_ids(values: pd.Series, damaged: int, bad_format: int) -> tuple[pd.Series, np.ndarray]:
    """NIK-01/NIK-02 shared by NIK and KK: the 16-digit text (NA if not) and issue indices.

    Issue index 0 = no issue yet, 1 = MISSING, otherwise `damaged` / `bad_format`.
    """
    text = as_text(values)
    issue = np.zeros(len(text), dtype=np.int8)
    missing = text.isna().to_numpy()
    issue[missing] = 1
    clean = text.str.fullmatch(_DIGITS16_RE.pattern).to_numpy(dtype=bool, na_value=False)
    digits = text.where(clean)
    rest = np.flatnonzero(~clean & ~missing)
    if len(rest):
        # Rare path (formatted, damaged or junk values): full normalisation on the subset only.
        sub = text.iloc[rest]
        is_damaged = sub.str.fullmatch(_EXCEL_DAMAGE).to_numpy(dtype=bool)
        stripped = sub.str.removeprefix("'").str.replace(_REMOVABLE, "", regex=True)
        ok = stripped.str.fullmatch(_DIGITS16_RE.pattern).to_numpy(dtype=bool) & ~is_damaged
        issue[rest] = np.where(is_damaged, damaged, np.where(ok, 0, bad_format))
        if ok.any():
            digits.iloc[rest[ok]] = stripped.to_numpy()[ok]
    return digits, issue


# Excel stores an id typed as a number with 15 significant digits: "1806200107690001" comes back
# as "1806200107690000.0". Its first 15 digits are still the id's; only the 16th is lost.
_EXCEL_FULL_RE = re.compile(r"'?([0-9]{15})[0-9][.,]0+")


def id_prefix15(values: pd.Series, valid: pd.Series) -> pd.Series:
    """The first 15 digits of an id: of a valid one, or of one Excel stored as a number with all
    15 significant digits (NIK-02). Scientific notation ("1.80604E+15") keeps too few: NA, as is
    anything else. Linkage compares it where the whole id is lost."""
    prefix = valid.astype("str").str.slice(0, 15)
    lost = prefix.isna().to_numpy()
    if lost.any():  # the regex reads only the values whose whole id is lost (few), not every value
        damaged = as_text(values[lost]).str.extract(_EXCEL_FULL_RE, expand=False)
        prefix = prefix.fillna(damaged)
    return prefix


def _is_run(d: np.ndarray) -> np.ndarray:
    """Consecutive ascending or descending digits, wrapping 9->0 (1234567890123456)."""
    step = np.diff(d.astype(np.int8), axis=1) % 10
    return (step == 1).all(axis=1) | (step == 9).all(axis=1)


def _is_generic_placeholder(d: np.ndarray) -> np.ndarray:
    return (d[:, 0] == 0) | (d == d[:, :1]).all(axis=1) | _is_run(d)


def _bad_birth_part(d: np.ndarray) -> np.ndarray:
    """NIK-06: day 1..31 or 41..71, month 1..12, and a real calendar date in 19yy or 20yy."""
    day = d[:, 6].astype(np.int16) * 10 + d[:, 7]
    month = d[:, 8].astype(np.int16) * 10 + d[:, 9]
    yy = d[:, 10].astype(np.int16) * 10 + d[:, 11]
    day = np.where(day > 40, day - 40, day)
    month_ok = (month >= 1) & (month <= 12)
    max_day = _MONTH_DAYS[np.where(month_ok, month, 0)]
    max_day = np.where((month == 2) & (yy % 4 != 0), 28, max_day)
    return ~month_ok | (day < 1) | (day > max_day)


def _frame(digits: pd.Series, issue: np.ndarray, codes: tuple[str, ...], column: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            column: digits.where(issue == 0),
            "issue": take_text(list(codes), issue.astype(np.int64) - 1, digits.index),
        }
    )


def check_nik(values: pd.Series, blacklist: Iterable[str] = NIK_BLACKLIST) -> pd.DataFrame:
    """Validate raw NIK text: columns `nik` (16 digits, only when valid) and `issue` (first failing code).

    Rules apply in the order of `NIK_ISSUES`, so each row carries exactly one reason.
    """
    digits, issue = _clean_ids(values, damaged=2, bad_format=3)
    ok = np.flatnonzero(issue == 0)
    if len(ok):
        candidates = digits.iloc[ok]
        d = digit_matrix(candidates, 16)
        placeholder = (
            _is_generic_placeholder(d)
            | (d[:, 6:12] == 0).all(axis=1)
            | candidates.isin(list(blacklist)).to_numpy()
        )
        province = d[:, 0] * 10 + d[:, 1]
        checks = (
            (4, placeholder),
            (5, ~_PROVINCE_OK[province]),
            (6, ((d[:, 2] == 0) & (d[:, 3] == 0)) | ((d[:, 4] == 0) & (d[:, 5] == 0))),
            (7, _bad_birth_part(d)),
            (8, (d[:, 12:16] == 0).all(axis=1)),
        )
        sub = np.zeros(len(ok), dtype=np.int8)
        for code, failed in reversed(checks):  # highest priority written last
            sub[failed] = code
        issue[ok] = sub
    return _frame(digits, issue, NIK_ISSUES, "nik")


def check_kk(values: pd.Series) -> pd.DataFrame:
    """Validate raw No. KK text: columns `no_kk` (16 digits, only when valid) and `issue`."""
    digits, issue = _clean_ids(values, damaged=2, bad_format=3)
    ok = np.flatnonzero(issue == 0)
    if len(ok):
        d = digit_matrix(digits.iloc[ok], 16)
        issue[ok] = np.where(_is_generic_placeholder(d), 4, 0)
    return _frame(digits, issue, KK_ISSUES, "no_kk")


def nik_issue(value: object, blacklist: Iterable[str] = NIK_BLACKLIST) -> str | None:
    """Scalar twin of `check_nik` (pure Python): the issue code, or None when valid."""
    text = strip_text(value)
    if text is None:
        return "MISSING"
    if _EXCEL_DAMAGE_RE.fullmatch(text):
        return "NIK_EXCEL_DAMAGED"
    nik = _REMOVABLE_RE.sub("", text.removeprefix("'"))
    if not _DIGITS16_RE.fullmatch(nik):
        return "NIK_BAD_FORMAT"
    d = np.frombuffer(nik.encode("ascii"), dtype=np.uint8).reshape(1, 16) - ord("0")
    if _is_generic_placeholder(d)[0] or nik[6:12] == "000000" or nik in set(blacklist):
        return "NIK_PLACEHOLDER"
    if nik[0:2] not in PROVINCE_CODES:
        return "NIK_BAD_PROVINCE"
    if nik[2:4] == "00" or nik[4:6] == "00":
        return "NIK_BAD_REGION"
    if _bad_birth_part(d)[0]:
        return "NIK_BAD_DATE"
    if nik[12:16] == "0000":
        return "NIK_BAD_SERIAL"
    return None


def is_valid_nik(value: str) -> bool:
    """True when the value passes every E-level NIK rule (NIK-01..08)."""
    return nik_issue(value) is None


def _valid_digits(nik: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    text = as_text(nik)
    pos = np.flatnonzero(text.str.fullmatch(_DIGITS16_RE.pattern).to_numpy(dtype=bool, na_value=False))
    return pos, digit_matrix(text.iloc[pos], 16)


def nik_sex(nik: pd.Series) -> pd.Series:
    """Sex encoded in the NIK (NIK-09): 'P' when the birth day is above 40, else 'L'; NA if not 16 digits."""
    pos, d = _valid_digits(nik)
    out = np.full(len(nik), None, dtype=object)
    out[pos] = np.where(d[:, 6] * 10 + d[:, 7] > 40, "P", "L")
    return pd.Series(out, index=nik.index, dtype="str", name="nik_sex")


def nik_birth_parts(nik: pd.Series) -> pd.DataFrame:
    """Birth day (women's +40 removed), month and 2-digit year encoded in the NIK (NIK-10)."""
    pos, d = _valid_digits(nik)
    d = d.astype(np.int64)
    day = d[:, 6] * 10 + d[:, 7]
    parts = {
        "day": np.where(day > 40, day - 40, day),
        "month": d[:, 8] * 10 + d[:, 9],
        "yy": d[:, 10] * 10 + d[:, 11],
    }
    missing = np.ones(len(nik), dtype=bool)
    missing[pos] = False
    columns = {}
    for name, values in parts.items():
        full = np.zeros(len(nik), dtype=np.int64)
        full[pos] = values
        columns[name] = pd.arrays.IntegerArray(full, missing.copy())
    return pd.DataFrame(columns, index=nik.index)


def nik_warnings(nik: pd.Series, sex: pd.Series, dob: pd.Series) -> pd.Series:
    """';'-joined NIK-09/NIK-10 warnings per row ('' when none). Inputs share one row order.

    A mismatch is never an error: Dukcapil does not reissue a NIK after a correction.
    """
    if not len(nik) == len(sex) == len(dob):
        raise ValueError("nik, sex and dob must have the same length")
    pos, digits = _valid_digits(nik)  # rows whose NIK is 16 digits; the others cannot be judged
    digits = digits.astype(np.int64)
    day = digits[:, 6] * 10 + digits[:, 7]
    recorded = as_text(sex).str.upper()
    male = (recorded == "L").to_numpy(dtype=bool, na_value=False)[pos]
    female = (recorded == "P").to_numpy(dtype=bool, na_value=False)[pos]
    sex_bad = np.zeros(len(nik), dtype=bool)
    sex_bad[pos] = (male & (day > 40)) | (female & (day <= 40))

    dates = pd.to_datetime(pd.Series(dob.to_numpy(), index=nik.index), errors="coerce").iloc[pos]
    dated = dates.notna().to_numpy()
    encoded = (np.where(day > 40, day - 40, day), digits[:, 8] * 10 + digits[:, 9], digits[:, 10] * 10 + digits[:, 11])
    recorded_parts = (dates.dt.day, dates.dt.month, dates.dt.year % 100)
    differs = np.zeros(len(pos), dtype=bool)
    for from_nik, from_dob in zip(encoded, recorded_parts, strict=True):
        differs |= from_nik != from_dob.fillna(-1).to_numpy(dtype=np.int64)
    dob_bad = np.zeros(len(nik), dtype=bool)
    dob_bad[pos] = dated & differs

    labels = ["", NIK_WARNINGS[0], NIK_WARNINGS[1], ";".join(NIK_WARNINGS)]
    index = sex_bad.astype(np.int64) + 2 * dob_bad.astype(np.int64)
    return take_text(labels, index, nik.index).rename("nik_warnings")


def kk_issue_date(no_kk: pd.Series, as_of: dt.date) -> pd.Series:
    """The issue date a No. KK encodes in digits 7-12 (DDMMYY; a day above 40 loses 40, as the
    nomiden parser does), NaT where the number is not 16 digits or the date is not a real one.
    Two-digit years later than `as_of`'s are the 1900s. A soft fact (domain notes, No. KK): use it
    to order two cards of one person, never to reject a card."""
    text = as_text(no_kk)
    valid = text.str.fullmatch(_DIGITS16_RE.pattern).fillna(False).to_numpy(dtype=bool)
    part = text.where(valid).str.slice(6, 12)
    day = pd.to_numeric(part.str.slice(0, 2), errors="coerce")
    day = day.where(day <= 40, day - 40)
    yy = pd.to_numeric(part.str.slice(4, 6), errors="coerce")
    year = yy + np.where(yy > as_of.year % 100, 1900, 2000)
    frame = pd.DataFrame({"year": year, "month": pd.to_numeric(part.str.slice(2, 4), errors="coerce"), "day": day})
    return pd.to_datetime(frame, errors="coerce").rename(no_kk.name)
