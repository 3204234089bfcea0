"""Repair a record broken by one unquoted separator inside a free-text field (issue #10).

An address typed as `JL. MAWAR; NO 5` in a `;`-separated export without quotes splits into one
field too many: every field after the address moves one column to the right, and the record
would be quarantined as MALFORMED_ROW, losing a person over a comma. The repair joins a
free-text field (declared per feed, `free_text:` in the feed YAML) with its right neighbour when
that is the only placement under which every checkable column holds a value of its shape
(village codes, RT/RW numbers, dates, codes the feed declares, identifiers). With no such
placement, or more than one, the record stays as it came and is quarantined as before.

Runs while raw records are built (`raw.raw_frame`): only there is the file's own column order
known. The record keeps its delivered field count (`n_fields`) and gets the code
`ROW_REPAIRED_SEPARATOR` in the raw column `_repair`, which staging carries into `flags`.
Column-wise over the few records with exactly one surplus field.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dtsen_pipeline.domain import dates
from dtsen_pipeline.ingest.feeds import FeedSpec, header_key

REPAIR_CODE = "ROW_REPAIRED_SEPARATOR"
_FIELD_SEPARATOR = "\x1f"  # as readers.FileRecords.overflow joins fields beyond the header

Check = Callable[[pd.Series], np.ndarray]


def _pattern(regex: str) -> Check:
    def check(values: pd.Series) -> np.ndarray:
        return values.str.fullmatch(regex, case=False).fillna(False).to_numpy(dtype=bool)
    return check


def _one_of(codes: set[str]) -> Check:
    def check(values: pd.Series) -> np.ndarray:
        upper = values.str.upper().str.replace(r"\s+", " ", regex=True)
        return upper.isin(codes).to_numpy(dtype=bool)
    return check


def _date(values: pd.Series) -> np.ndarray:
    return (dates.parse_dates(values)["issue"] != "DATE_UNPARSEABLE").fillna(True).to_numpy(dtype=bool)


def _identifier(values: pd.Series) -> np.ndarray:
    """A NIK or No. KK as agencies deliver one, damage included: 14-17 digits once spaces, dots
    and dashes are dropped (`.0` suffix, a lost digit), or scientific notation (`1.80601E+15`)."""
    digits = values.str.replace(r"^'|\.0+$|[ .\-]", "", regex=True)
    plain = digits.str.fullmatch(r"[0-9]{14,17}").fillna(False).to_numpy(dtype=bool)
    return plain | _pattern(r"[0-9][.,][0-9]+E\+?[0-9]+")(values)


_IDENTIFIER = _identifier
_WORDS = _pattern(r"[A-Z][A-Z _\-]*")
# Shape of each canonical column (blank always passes); a column without a shape is not checked.
_SHAPES: dict[str, Check] = {
    "nik": _IDENTIFIER, "no_kk": _IDENTIFIER, "nik_ganda": _IDENTIFIER,
    "tgl_lahir": _date, "tgl_mati": _date, "tanggal": _date,
    "rt": _pattern(r"[0-9]{1,3}|-"), "rw": _pattern(r"[0-9]{1,3}|-"),
    "desil": _pattern(r"(?:[0-9]|10)(?:\.0+)?"),
    "pkh": _pattern(r"Y|N|YA|T|TIDAK|1|0|TRUE|FALSE"), "bpnt": _pattern(r"Y|N|YA|T|TIDAK|1|0|TRUE|FALSE"),
    "pbi_jk": _pattern(r"Y|N|YA|T|TIDAK|1|0|TRUE|FALSE"),
    "status_padan": _WORDS, "status_hidup": _WORDS, "status_dasar": _WORDS, "hasil": _WORDS, "tingkat": _WORDS,
    "program": _pattern(r"[A-Z][A-Z _\-]*"), "periode": _pattern(r"[0-9]{4}-(?:[0-9]{1,2}|T[1-4])"),
    "nominal": _pattern(r"[0-9][0-9.,]*"),
    "id_keluarga": _pattern(r"[0-9A-Z./\-]+"), "id_art": _pattern(r"[0-9A-Z./\-]+"),
}
_VILLAGE = _pattern(r"[0-9]{2}\.?[0-9]{2}\.?[0-9]{2}\.?[0-9]{4}")
_PART = _pattern(r"[0-9]{1,4}(?:\.0+)?")


def is_free_text(header: str, spec: FeedSpec) -> bool:
    """Whether the feed declares the column as free text (`free_text:`, headers matched as usual)."""
    return header_key(header) in {header_key(h) for h in spec.free_text}


def column_checks(header: list[str], spec: FeedSpec) -> list[Check | None]:
    """The shape check of each delivered column (as `raw.canonical_headers` spells it), None for
    free text and columns the feed does not declare."""
    canonical = {h: name for name, h in spec.source_columns.items()}
    parts = set((spec.region.parts or {}).values())
    checks: list[Check | None] = []
    for name in header:
        if is_free_text(name, spec):
            checks.append(None)
        elif name == spec.region.village:
            checks.append(_VILLAGE)
        elif name in parts:
            checks.append(_PART)
        elif canonical.get(name) in ("jenis_kelamin", "hubungan") and spec.values.get(canonical[name]):
            codes = {k.upper() for k in spec.values[canonical[name]]}
            checks.append(_one_of(codes))
        else:
            checks.append(_SHAPES.get(canonical.get(name, "")))
    return checks


def _valid(values: pd.Series, check: Check | None) -> np.ndarray:
    if check is None:
        return np.ones(len(values), dtype=bool)
    text = values.str.strip()
    return text.isna().to_numpy() | (text == "").fillna(True).to_numpy(dtype=bool) | check(text)


def placements(fields: list[pd.Series], checks: list[Check | None], candidates: list[int]) -> np.ndarray:
    """For records of `len(checks) + 1` fields, the column whose joining with its right neighbour
    makes every checked column valid, when exactly one does (-1 otherwise, also when no checked
    column follows it, since nothing then shows where the surplus field came from)."""
    n = len(fields[0]) if fields else 0
    width = len(checks)
    valid_count = np.zeros(n, dtype=np.int64)
    chosen = np.full(n, -1, dtype=np.int64)
    for k in candidates:
        if not any(check is not None for check in checks[k + 1:]):
            continue
        ok = np.ones(n, dtype=bool)
        for j in range(width):
            if j == k or checks[j] is None:
                continue
            ok &= _valid(fields[j if j < k else j + 1], checks[j])
        valid_count += ok
        chosen = np.where(ok, k, chosen)
    return np.where(valid_count == 1, chosen, -1)


def _as_text(array: pa.Array | pa.ChunkedArray) -> pd.Series:
    return pd.Series(array.to_pylist(), dtype="str")


def repair_surplus_separator(header: list[str], columns: list[pa.Array | pa.ChunkedArray], n_fields: np.ndarray,
                             overflow: pa.Array | pa.ChunkedArray, separator: str | None, spec: FeedSpec
                             ) -> tuple[list[pa.Array | pa.ChunkedArray], pa.Array | pa.ChunkedArray, pa.Array]:
    """Columns and overflow with the unambiguous one-surplus-field records repaired, and the
    `_repair` code of each record (null where nothing was repaired)."""
    n = len(n_fields)
    none = pa.nulls(n, pa.string())
    width = len(header)
    candidates = [i for i, name in enumerate(header) if is_free_text(name, spec)]
    if not n or separator is None or not candidates:
        return columns, overflow, none
    one_more = n_fields == width + 1
    if not one_more.any():
        return columns, overflow, none
    no_more = pc.invert(pc.fill_null(pc.match_substring(overflow, _FIELD_SEPARATOR), True))
    rows = np.flatnonzero(one_more & no_more.to_numpy(zero_copy_only=False))
    if not len(rows):
        return columns, overflow, none
    take = pa.array(rows)
    fields = [_as_text(column.take(take)) for column in columns] + [_as_text(overflow.take(take))]
    place = placements(fields, column_checks(header, spec), candidates)
    fixed = place >= 0
    if not fixed.any():
        return columns, overflow, none
    rows, place = rows[fixed], place[fixed]
    fields = [f[fixed].reset_index(drop=True) for f in fields]
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    arrow_mask = pa.array(mask)
    out = list(columns)
    for j in range(int(place.min()), width):
        joined = fields[j].fillna("") + separator + fields[j + 1].fillna("")
        values = joined.where(place == j, fields[j + 1].where(place < j, fields[j]))
        values = values.astype(object).where(values.notna(), None)
        column = columns[j].combine_chunks() if isinstance(columns[j], pa.ChunkedArray) else columns[j]
        out[j] = pc.replace_with_mask(column, arrow_mask, pa.array(values.tolist(), pa.string()))
    flat_overflow = overflow.combine_chunks() if isinstance(overflow, pa.ChunkedArray) else overflow
    new_overflow = pc.replace_with_mask(flat_overflow, arrow_mask, pa.nulls(len(rows), pa.string()))
    codes = pc.replace_with_mask(none, arrow_mask, pa.array([REPAIR_CODE] * len(rows), pa.string()))
    return out, new_overflow, codes
