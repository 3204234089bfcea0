"""Birth dates as delivered by agency feeds (rules DOB-01, DOB-02).

One feed may mix formats (CSV text, xlsx cells rendered as text, Excel serial numbers), so
the format is detected per value from its shape, never per file. Day-first is the only
reading of `DD-MM-YYYY`/`DD/MM/YYYY`; month-first is not used in Indonesia. Dates repeat a
lot (about 44,000 distinct days in 120 years), so each distinct text is parsed once.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._text import as_text, take_text

DATE_ISSUES: tuple[str, ...] = (
    "DATE_UNPARSEABLE",  # no accepted format, or an Excel serial outside 1..80000
    "DATE_IMPOSSIBLE",  # right shape but not a calendar date (31-02-1980, month 13, year 0)
)
DOB_ISSUES: tuple[str, ...] = (
    "DOB_IN_FUTURE",  # after the snapshot date
    "DOB_TOO_OLD",  # older than MAX_AGE years on the snapshot date
)
MAX_AGE = 120
# Serial 1..80000 = 1899-12-31 .. 2119-01-11 on the 1899-12-30 epoch; serials below 61 come out a
# day early because Excel counts a fictitious 29 Feb 1900 (no birth date of a living person).
EXCEL_SERIAL_RANGE = (1, 80_000)
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")  # 1900 date system, after Lotus' 29 Feb 1900 bug

_PATTERN = (
    r"^(?:"
    r"(?P<iy>[0-9]{4})-(?P<im>[0-9]{1,2})-(?P<id>[0-9]{1,2})(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"  # ISO, xlsx datetime
    r"|(?P<dd>[0-9]{1,2})-(?P<dm>[0-9]{1,2})-(?P<dy>[0-9]{4})"  # DD-MM-YYYY
    r"|(?P<sd>[0-9]{1,2})/(?P<sm>[0-9]{1,2})/(?P<sy>[0-9]{4})"  # DD/MM/YYYY
    r"|(?P<serial>[0-9]{1,6})(?:\.0+)?"  # Excel serial
    r")$"
)
_DATE_DTYPE = "datetime64[us]"


def _field(parts: pa.StructArray, *names: str) -> np.ndarray:
    """Integer value of whichever named group matched (groups that did not match are '')."""
    empty, zero = pa.scalar("", pa.large_string()), pa.scalar("0", pa.large_string())
    text = pc.binary_join_element_wise(*(pc.struct_field(parts, name) for name in names), empty)
    text = pc.fill_null(text, empty)
    text = pc.if_else(pc.equal(text, empty), zero, text)
    return pc.cast(text, pa.int64()).to_numpy(zero_copy_only=False)


def _parse_unique(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Dates (datetime64[D], NaT when bad) and issue indices (0 ok, 1 unparseable, 2 impossible)."""
    parts = pc.extract_regex(pa.array(text.array, type=pa.large_string()), _PATTERN)  # RE2: fast
    matched = parts.is_valid().to_numpy(zero_copy_only=False)
    year = _field(parts, "iy", "dy", "sy")
    month = _field(parts, "im", "dm", "sm")
    day = _field(parts, "id", "dd", "sd")
    serial = _field(parts, "serial")
    is_serial = matched & pc.fill_null(pc.not_equal(pc.struct_field(parts, "serial"), ""), False).to_numpy(
        zero_copy_only=False
    )

    month_ok = (month >= 1) & (month <= 12) & (year >= 1)
    safe_year = np.where(month_ok, year, 1970) - 1970
    safe_month = np.where(month_ok, month, 1) - 1
    start = (safe_year.astype("datetime64[Y]") + safe_month.astype("timedelta64[M]")).astype("datetime64[D]")
    next_start = (start.astype("datetime64[M]") + np.timedelta64(1, "M")).astype("datetime64[D]")
    length = (next_start - start).astype(np.int64)
    calendar_ok = month_ok & (day >= 1) & (day <= length)
    calendar = start + (np.where(calendar_ok, day, 1) - 1).astype("timedelta64[D]")

    serial_ok = (serial >= EXCEL_SERIAL_RANGE[0]) & (serial <= EXCEL_SERIAL_RANGE[1])
    from_serial = _EXCEL_EPOCH + np.where(serial_ok, serial, 0).astype("timedelta64[D]")

    issue = np.where(
        ~matched | (is_serial & ~serial_ok), 1, np.where(~is_serial & ~calendar_ok, 2, 0)
    ).astype(np.int8)
    dates = np.where(is_serial, from_serial, calendar)
    dates[issue != 0] = np.datetime64("NaT")
    return dates, issue


def parse_dates(values: pd.Series) -> pd.DataFrame:
    """Parse raw date text: `date` (datetime64, NaT when missing or bad) and `issue`.

    Accepts per value YYYY-MM-DD[ HH:MM:SS], DD-MM-YYYY, DD/MM/YYYY (1- or 2-digit day and
    month) and Excel serials. Missing is not an error here (NA issue); the caller decides.
    """
    text = as_text(values)
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    dates, issue = _parse_unique(pd.Series(uniques, dtype="str"))
    dates = np.append(dates, np.datetime64("NaT")).astype(_DATE_DTYPE)
    issue = np.append(issue, 0)
    return pd.DataFrame(
        {
            "date": pd.Series(dates[codes], index=values.index),
            "issue": take_text(list(DATE_ISSUES), issue[codes].astype(np.int64) - 1, values.index),
        }
    )


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


def is_imprecise_dob(dates: pd.Series) -> pd.Series:
    """DOB-02: registry default dates (1 Jan, 1 Jul, 31 Dec, or day 15); linkage then trusts the year only."""
    d = _as_datetimes(dates)
    month_day = (d.dt.month * 100 + d.dt.day).to_numpy(dtype=np.float64, na_value=np.nan)
    day = d.dt.day.to_numpy(dtype=np.float64, na_value=np.nan)
    imprecise = np.isin(month_day, [101, 701, 1231]) | (day == 15)
    return pd.Series(imprecise, index=dates.index, name="dob_imprecise")
