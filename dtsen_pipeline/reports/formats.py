"""Indonesian number, date and time formats for staff-facing text (PUEBI / KBBI usage).

Thousands are grouped with a dot and decimals follow a comma (20.023; 12,5%); dates are written
day, month name, year (5 Desember 2026); times use a dot between hours and minutes and carry the
zone (23.10 WIB). The warehouse keeps UTC; staff read Western Indonesian Time.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

from dtsen_pipeline.clock import DEPLOYMENT_TIMEZONE

MONTHS: tuple[str, ...] = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
                           "September", "Oktober", "November", "Desember")
EMPTY = "–"  # a figure that does not exist (no previous report, a share of nothing)


def number(value: float | int | None, decimals: int = 0) -> str:
    """20023 -> '20.023'; 1234.5 with one decimal -> '1.234,5'; None/NaN -> '–'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return EMPTY
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def signed(value: float | int | None, decimals: int = 0) -> str:
    """A change: '+1.204', '−35' (a true minus sign), '0'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return EMPTY
    if value > 0:
        return "+" + number(value, decimals)
    if value < 0:
        return "−" + number(-value, decimals)
    return number(0, decimals)


def percent(share: float | None, decimals: int = 1) -> str:
    """0.1234 -> '12,3%'."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return EMPTY
    return number(100 * share, decimals) + "%"


def points(change: float | None, decimals: int = 1) -> str:
    """A change of a share in percentage points: 0.012 -> '+1,2 poin'."""
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return EMPTY
    return signed(100 * change, decimals) + " poin"


def date(day: dt.date | None) -> str:
    """2026-12-05 -> '5 Desember 2026'."""
    if day is None:
        return EMPTY
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def period(value: str) -> str:
    """'2026-12' -> 'Desember 2026'."""
    year, month = value.split("-")[:2]
    return f"{MONTHS[int(month) - 1]} {int(year)}"


def wib(moment: dt.datetime | None) -> str:
    """A UTC timestamp (naive = UTC, as the warehouse keeps it) as '6 Desember 2026 pukul 01.10 WIB'."""
    if moment is None:
        return EMPTY
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(ZoneInfo(DEPLOYMENT_TIMEZONE))
    return f"{date(local.date())} pukul {local:%H.%M} WIB"
