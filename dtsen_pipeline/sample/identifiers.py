"""NIK and No. KK construction (structure in docs/rules.md, NIK and KK rules) and identifier damage.

NIK = PP KK CC (kecamatan of first registration) + DDMMYY (day + 40 for women) + serial.
The serial counts up from 0001 per (6-digit prefix + DDMMYY), so two people born the same
day in the same kecamatan get NIKs differing only in the last digits: the near-miss trap
linkage must not fall into. No. KK = issuing kecamatan + issue date DDMMYY + serial.
"""

from __future__ import annotations

import numpy as np


def sequential_serial(keys: np.ndarray) -> np.ndarray:
    """1-based running number of each element within its key group, in input order."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    idx = np.arange(n)
    group_start = np.maximum.accumulate(np.where(starts, idx, 0))
    serial = np.empty(n, dtype=np.int64)
    serial[order] = idx - group_start + 1
    return serial


def kecamatan_int(dotted: np.ndarray) -> np.ndarray:
    """'18.06.01' -> 180601 for an array of dotted kecamatan codes."""
    return np.array([int(c.replace(".", "")) for c in dotted], dtype=np.int64)


def build_nik(
    kec6: np.ndarray, day: np.ndarray, month: np.ndarray, year: np.ndarray, female: np.ndarray
) -> np.ndarray:
    """NIKs as int64 (16 digits, no leading zero for Lampung) with sequential serials."""
    dd = day.astype(np.int64) + np.where(female, 40, 0)
    prefix12 = (
        kec6.astype(np.int64) * 1_000_000
        + dd * 10_000
        + month.astype(np.int64) * 100
        + (year.astype(np.int64) % 100)
    )
    serial = np.minimum(sequential_serial(prefix12), 9999)
    return prefix12 * 10_000 + serial


def build_kk(
    kec6: np.ndarray, issue_day: np.ndarray, issue_month: np.ndarray, issue_year: np.ndarray
) -> np.ndarray:
    """No. KK as int64: issuing kecamatan + DDMMYY issue date + serial, unique by construction."""
    prefix12 = (
        kec6.astype(np.int64) * 1_000_000
        + issue_day.astype(np.int64) * 10_000
        + issue_month.astype(np.int64) * 100
        + (issue_year.astype(np.int64) % 100)
    )
    serial = sequential_serial(prefix12)
    if serial.max(initial=0) > 9999:
        raise ValueError("too many KK issued on one day in one kecamatan")
    return prefix12 * 10_000 + serial


def as_str16(values: np.ndarray) -> np.ndarray:
    """int64 identifiers -> zero-padded 16-character strings (object array)."""
    return np.char.zfill(values.astype(np.int64).astype("U16"), 16).astype(object)


def digit_typo(value: str, u1: float, u2: float) -> str:
    """Change one digit (never the first two, which would leave the province)."""
    if len(value) < 4:
        return value
    pos = 2 + int(u1 * (len(value) - 2))
    old = value[pos]
    new = str((int(old) + 1 + int(u2 * 9)) % 10) if old.isdigit() else "0"
    return value[:pos] + new + value[pos + 1 :]


def excel_16th_digit_zero(value: str) -> float:
    """What Excel stores for a 16-digit number: 15 significant digits, the 16th becomes 0."""
    return float(value[:15] + "0")


def excel_scientific(value: str) -> str:
    """The text Excel shows for a 16-digit number in General format: '1.80601E+15'."""
    mantissa, exponent = f"{float(value):.5E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E+{int(exponent)}"


def temporary_nik(village_undotted: str, counter: int) -> str:
    """OpenSID-style NIK sementara: a leading 0, then the village code, then a counter."""
    return ("0" + village_undotted[1:] + f"{counter:06d}")[:16].ljust(16, "0")
