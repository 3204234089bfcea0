"""Birth dates as delivered by agency feeds (rules DOB-01, DOB-02).

One feed may mix formats (CSV text, xlsx cells rendered as text, Excel serial numbers), so
the format is detected per value from its shape, never per file. Dates repeat a lot (about
44,000 distinct days in 120 years), so each distinct text is parsed once.

Readings accepted, and why (see also docs/data-dictionary.md, "Birth dates"):

- `YYYY-MM-DD` (an xlsx datetime's time part ignored), `YYYY/MM/DD` and `YYYYMMDD`: year
  first is never read day-first by anybody, so these are unambiguous.
- `DD-MM-YYYY`, `DD/MM/YYYY`: day first, the Indonesian order, is the only reading of an
  ambiguous value. Month first (`MM/DD/YYYY`, a US-configured spreadsheet) is used only when
  the day-first reading is impossible because the second field is 13-31 and the first a month;
  such a value is flagged (`DOB_MONTH_FIRST`), since the same source's ambiguous values may
  have been month-first too and cannot be told.
- Partial dates (only the year, or year and month, known): `1985`, `00-00-1985`,
  `--/--/1985`, `1985-00-00`, `1985-07-00`, `00-07-1985`, `07-1985`, `1985-07`. A day or
  month of `0`, `00`, `-`, `--`, `?` or `X` means unknown. A bare four-digit number from 1800
  to 2199 is a year, not an Excel serial (that serial would be a day in 1904-1906).
- Excel serials 1..80000 (whole days).

Rejected (`DATE_UNPARSEABLE`): two-digit years, words, dotted dates, `DDMMYYYY`, anything
else. Right shape but no such day (31-02, month 13, year 0): `DATE_IMPOSSIBLE`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._text import as_text, by_distinct, take_text

DATE_ISSUES: tuple[str, ...] = (
    "DATE_UNPARSEABLE",  # no accepted format, or an Excel serial outside 1..80000
    "DATE_IMPOSSIBLE",  # right shape but not a calendar date (31-02-1980, month 13, year 0)
    "DATE_PARTIAL",  # only the year, or the year and month, are known (no full date)
)
DOB_ISSUES: tuple[str, ...] = (
    "DOB_IN_FUTURE",  # after the snapshot date
    "DOB_TOO_OLD",  # older than MAX_AGE years on the snapshot date
)
PRECISIONS: tuple[str, ...] = ("day", "month", "year")
# Row codes of a birth date (W: the person is staged; the unusable part of the date is null).
DOB_FLAGS: tuple[str, ...] = (
    "DOB_PARTIAL",  # only the year, or year and month, known: tgl_lahir null, birth_year kept
    "DOB_MONTH_FIRST",  # read month first (the only possible reading); the date is kept
    "DOB_UNPARSEABLE",  # no accepted form: nothing kept
    "DOB_IMPOSSIBLE",  # no such day: the year kept when plausible
    "DOB_IN_FUTURE",  # nothing kept
    "DOB_TOO_OLD",  # nothing kept
)
MAX_AGE = 120
YEAR_RANGE = (1800, 2199)  # a bare 4-digit number in this range is a year
# Serial 1..80000 = 1899-12-31 .. 2119-01-11 on the 1899-12-30 epoch; serials below 61 come out a
# day early because Excel counts a fictitious 29 Feb 1900 (no birth date of a living person).
EXCEL_SERIAL_RANGE = (1, 80_000)
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")  # 1900 date system, after Lotus' 29 Feb 1900 bug

_F = r"[0-9]{1,2}|-{1,2}|\?{1,2}|[xX]{1,2}"  # a day or month, or a placeholder for an unknown one
_TIME = r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
# One alternative per layout (RE2 has no back-references); `<field><layout>` names the groups.
_LAYOUTS = {
    "a": rf"(?P<ya>[0-9]{{4}})-(?P<ma>{_F})-(?P<da>{_F}){_TIME}",  # YYYY-MM-DD (xlsx datetime)
    "b": rf"(?P<yb>[0-9]{{4}})/(?P<mb>{_F})/(?P<db>{_F})",  # YYYY/MM/DD
    "c": rf"(?P<dc>{_F})-(?P<mc>{_F})-(?P<yc>[0-9]{{4}})",  # DD-MM-YYYY
    "e": rf"(?P<de>{_F})/(?P<me>{_F})/(?P<ye>[0-9]{{4}})",  # DD/MM/YYYY
    "f": rf"(?P<mf>{_F})[-/](?P<yf>[0-9]{{4}})",  # MM-YYYY, MM/YYYY
    "g": rf"(?P<yg>[0-9]{{4}})[-/](?P<mg>{_F})",  # YYYY-MM, YYYY/MM
}
_PATTERN = "^(?:" + "|".join(_LAYOUTS.values()) + r"|(?P<num>[0-9]{1,8})(?:\.0+)?)$"
_DAY_FIRST = ("c", "e")
_DATE_DTYPE = "datetime64[us]"


def _group(parts: pa.StructArray, name: str) -> pa.Array:
    return pc.fill_null(pc.struct_field(parts, name), "")


def _number(text: pa.Array) -> np.ndarray:
    """Integer value of digit text; -1 for '' (group not matched), 0 for a placeholder."""
    digits = pc.match_substring_regex(text, r"^[0-9]+$")
    value = pc.if_else(digits, text, pa.scalar("0", pa.large_string()))
    out = pc.cast(value, pa.int64()).to_numpy(zero_copy_only=False)
    return np.where(pc.equal(text, "").to_numpy(zero_copy_only=False), -1, out)


def _month_start(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    """First day of each (year, month); callers pass valid years (1..9999) and months (1..12)."""
    return ((year - 1970) * 12 + (month - 1)).astype("datetime64[M]").astype("datetime64[D]")


def _parts(text: pd.Series) -> dict[str, np.ndarray]:
    """Year, month, day (0 = unknown, -1 = no value), whether matched, numeric text, reading."""
    parts = pc.extract_regex(pa.array(text.array, type=pa.large_string()), _PATTERN)  # RE2: fast
    n = len(text)
    year, month, day = (np.full(n, -1, np.int64) for _ in range(3))
    day_first = np.zeros(n, bool)
    for layout in _LAYOUTS:
        y = _number(_group(parts, "y" + layout))
        hit = y >= 0
        year[hit] = y[hit]
        month[hit] = _number(_group(parts, "m" + layout))[hit]
        if layout not in ("f", "g"):
            day[hit] = _number(_group(parts, "d" + layout))[hit]
        if layout in _DAY_FIRST:
            day_first |= hit
    num_text = _group(parts, "num")
    num = _number(num_text)
    width = pc.utf8_length(num_text).to_numpy(zero_copy_only=False)
    return {"year": year, "month": np.where(month < 0, 0, month), "day": np.where(day < 0, 0, day),
            "matched": parts.is_valid().to_numpy(zero_copy_only=False), "num": num, "width": width,
            "day_first": day_first}


def _parse_unique(text: pd.Series) -> pd.DataFrame:
    """Distinct date texts -> `earliest`/`latest` day the text allows, `precision`, `issue` index
    (0 ok, 1 unparseable, 2 impossible) and whether it was read month first."""
    p = _parts(text)
    year, month, day, num, width = p["year"], p["month"].copy(), p["day"].copy(), p["num"], p["width"]
    compact = (width == 8) & (num >= 0)
    year = np.where(compact, num // 10_000, year)
    month = np.where(compact, num // 100 % 100, month)
    day = np.where(compact, num % 100, day)
    bare_year = (width == 4) & (num >= YEAR_RANGE[0]) & (num <= YEAR_RANGE[1])
    year = np.where(bare_year, num, year)
    serial = (num >= 0) & ~compact & ~bare_year
    compact_ok = ~compact | ((year >= YEAR_RANGE[0]) & (year <= YEAR_RANGE[1]))

    # Month first only where day first cannot be right: second field 13-31, first a month.
    swap = p["day_first"] & (month > 12) & (month <= 31) & (day >= 1) & (day <= 12)
    month, day = np.where(swap, day, month), np.where(swap, month, day)

    dated = (year >= 0) & ~serial
    year_ok = dated & (year >= 1) & (year <= 9999)
    month_known = year_ok & (month >= 1) & (month <= 12)
    safe_year = np.where(year_ok, year, 1970)
    start = _month_start(safe_year, np.where(month_known, month, 1))
    length = ((start.astype("datetime64[M]") + np.timedelta64(1, "M")).astype("datetime64[D]") - start).astype(int)
    day_ok = month_known & (day >= 1) & (day <= length)
    precision = np.where(day_ok, 0, np.where(month_known & (day == 0), 1, np.where(year_ok & (month == 0), 2, -1)))
    impossible = dated & (precision < 0)

    serial_ok = serial & (num >= EXCEL_SERIAL_RANGE[0]) & (num <= EXCEL_SERIAL_RANGE[1])
    from_serial = _EXCEL_EPOCH + np.where(serial_ok, num, 0).astype("timedelta64[D]")
    year_start = _month_start(safe_year, np.ones_like(safe_year))
    earliest = np.select([serial_ok, precision == 0, precision == 1, year_ok],
                         [from_serial, start + (np.maximum(day, 1) - 1).astype("timedelta64[D]"), start, year_start],
                         np.datetime64("NaT"))
    year_end = _month_start(safe_year, np.full_like(safe_year, 12)) + np.timedelta64(30, "D")
    month_end = start + (length - 1).astype("timedelta64[D]")
    latest = np.select([serial_ok, precision == 0, precision == 1, year_ok],
                       [from_serial, earliest, month_end, year_end], np.datetime64("NaT"))
    precision = np.where(serial_ok, 0, precision)
    unparseable = ~p["matched"] | (serial & ~serial_ok) | ~compact_ok
    issue = np.where(unparseable, 1, np.where(impossible, 2, 0)).astype(np.int8)
    bad = issue != 0
    return pd.DataFrame({
        "earliest": np.where(bad, np.datetime64("NaT"), earliest).astype(_DATE_DTYPE),
        "latest": np.where(bad, np.datetime64("NaT"), latest).astype(_DATE_DTYPE),
        # an impossible day keeps its year (31-02-1980 is from 1980), for the caller to judge
        "year_only": np.where(impossible & year_ok, year, -1),
        "precision": np.where(bad, -1, precision),
        "issue": issue,
        "month_first": swap & ~bad,
    }, index=text.index)


def parse_dates(values: pd.Series) -> pd.DataFrame:
    """Parse raw date text: `date` (datetime64, NaT when missing, bad or partial) and `issue`.

    Accepts the forms in the module docstring. Missing is not an error here (NA issue); the
    caller decides. A partial date has no `date` and the issue `DATE_PARTIAL`.
    """
    text = as_text(values)
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    parsed = _parse_unique(pd.Series(uniques, dtype="str"))
    dates = np.append(parsed["earliest"].to_numpy(), np.datetime64("NaT")).astype(_DATE_DTYPE)
    precision = np.append(parsed["precision"].to_numpy(), 0)
    issue = np.append(parsed["issue"].to_numpy(), 0).astype(np.int64)
    issue = np.where((issue == 0) & (precision > 0), 3, issue)
    dates[precision > 0] = np.datetime64("NaT")
    return pd.DataFrame(
        {
            "date": pd.Series(dates[codes], index=values.index),
            "issue": take_text(list(DATE_ISSUES), issue[codes] - 1, values.index),
        }
    )


def _birth_unique(text: pd.Series, as_of: date) -> pd.DataFrame:
    """`parse_birth_dates` for distinct values (`by_distinct` aligns the result)."""
    text = as_text(text)
    parsed = _parse_unique(text.fillna(""))
    blank = text.isna().to_numpy()
    future = birth_date_issues(parsed["earliest"], as_of).eq(DOB_ISSUES[0]).to_numpy()
    too_old = birth_date_issues(parsed["latest"], as_of).eq(DOB_ISSUES[1]).to_numpy()
    issue = parsed["issue"].to_numpy()
    # An impossible day's year is kept when some day of that year is a plausible birth date.
    year_only = parsed["year_only"].to_numpy()
    year_plausible = (year_only >= as_of.year - MAX_AGE - 1) & (year_only <= as_of.year)
    precision = parsed["precision"].to_numpy()
    plausible = (issue == 0) & ~future & ~too_old & ~blank
    earliest = parsed["earliest"]
    year = np.where(plausible, earliest.dt.year.to_numpy(dtype=np.float64, na_value=np.nan),
                    np.where(year_plausible & ~blank, year_only, np.nan))
    precision_code = np.where(plausible, precision, np.where(year_plausible & ~blank, 2, -1))
    flag = np.select(
        [blank, issue == 1, issue == 2, future, too_old, plausible & (precision > 0),
         plausible & parsed["month_first"].to_numpy()],
        [-1, 2, 3, 4, 5, 0, 1], -1)
    return pd.DataFrame({
        "date": earliest.where(plausible & (precision == 0)).astype(_DATE_DTYPE),
        "birth_year": pd.Series(year, index=text.index).astype("Int64"),
        "precision": take_text(list(PRECISIONS), precision_code, text.index),
        "flag": take_text(list(DOB_FLAGS), flag, text.index),
    }, index=text.index)


def parse_birth_dates(values: pd.Series, as_of: date) -> pd.DataFrame:
    """Birth dates for staging, each distinct text parsed once.

    `date`: the full date, only when the day is known and the date plausible (DOB-01);
    `birth_year` (Int64): the year when credible (a plausible date, or the year of an impossible
    day when some day of that year is plausible); `precision`: `day` | `month` | `year`, NA when
    nothing is known; `flag`: one of DOB_FLAGS or NA. Codes only, never the value.
    """
    return by_distinct(values, lambda distinct: _birth_unique(distinct, as_of))


def _as_datetimes(dates: pd.Series) -> pd.Series:
    return pd.Series(pd.to_datetime(dates.to_numpy(), errors="coerce"), index=dates.index)


def birth_date_issues(dates: pd.Series, as_of: date) -> pd.Series:
    """DOB-01 plausibility: `DOB_IN_FUTURE` or `DOB_TOO_OLD` (age above MAX_AGE), else NA."""
    d = _as_datetimes(dates)
    year = d.dt.year.to_numpy(dtype=np.float64, na_value=np.nan)
    month_day = (d.dt.month * 100 + d.dt.day).to_numpy(dtype=np.float64, na_value=np.nan)
    as_of_md = as_of.month * 100 + as_of.day
    future = (year > as_of.year) | ((year == as_of.year) & (month_day > as_of_md))
    age = as_of.year - year - (month_day > as_of_md)
    too_old = age > MAX_AGE
    out = np.where(future, DOB_ISSUES[0], np.where(too_old, DOB_ISSUES[1], None))
    return pd.Series(out, index=dates.index, dtype="str", name="dob_issue")


def plausible_birth_year(years: pd.Series, as_of: date) -> pd.Series:
    """A birth year some day of which is a plausible birth date on `as_of` (missing passes)."""
    number = pd.to_numeric(years, errors="coerce")
    bad = (number < as_of.year - MAX_AGE - 1) | (number > as_of.year)
    return ~bad.fillna(False).astype(bool)


def is_imprecise_dob(dates: pd.Series) -> pd.Series:
    """DOB-02: registry default dates (1 Jan, 1 Jul, 31 Dec, or day 15); linkage then trusts the year only."""
    d = _as_datetimes(dates)
    month_day = (d.dt.month * 100 + d.dt.day).to_numpy(dtype=np.float64, na_value=np.nan)
    day = d.dt.day.to_numpy(dtype=np.float64, na_value=np.nan)
    imprecise = np.isin(month_day, [101, 701, 1231]) | (day == 15)
    return pd.Series(imprecise, index=dates.index, name="dob_imprecise")
