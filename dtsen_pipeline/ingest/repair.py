"""Repair a record broken by one unquoted separator inside a free-text field (issue #10).

An address typed as `JL. MAWAR; NO 5` in a `;`-separated export without quotes splits into one
field too many: every field after the address moves one column to the right, and the record
would be quarantined as MALFORMED_ROW, losing a person over a comma. The repair joins a
free-text field (declared per feed, `free_text:` in the feed YAML) with its right neighbour when
that is the only placement under which every checkable column holds a value of its shape
(village codes, RT/RW numbers, dates, codes the feed declares, identifiers). With no such
placement, or more than one, the record stays as it came and is quarantined as before.

Runs while raw records are built (`raw_records.raw_frame`): only there is the file's own column order
known. The record keeps its delivered field count (`n_fields`) and gets the code
`ROW_REPAIRED_SEPARATOR` in the raw column `_repair`, which staging carries into `flags`.
Column-wise over the few records with exactly one surplus field.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dtsen_pipeline.ingest.feeds import FeedSpec, header_key

REPAIR_CODE = "ROW_REPAIRED_SEPARATOR"
_FIELD_SEPARATOR = "\x1f"  # as readers.FileRecords.overflow joins fields beyond the header

Check = Callable[[str], bool]  # on a trimmed, non-blank value


def _pattern(regex: str) -> Check:
    compiled = re.compile(regex, re.IGNORECASE)
    return lambda value: compiled.fullmatch(value) is not None


def _one_of(codes: set[str]) -> Check:
    return lambda value: re.sub(r"\s+", " ", value.upper()) in codes


_ID_NOISE = re.compile(r"^'|\.0+$|[ .\-]")
_ID_DIGITS = re.compile(r"[0-9]{14,17}")
_ID_SCIENTIFIC = re.compile(r"[0-9][.,][0-9]+E\+?[0-9]+", re.IGNORECASE)


def _identifier(value: str) -> bool:
    """A NIK or No. KK as agencies deliver one, damage included: 14-17 digits once spaces, dots
    and dashes are dropped (`.0` suffix, a lost digit), or scientific notation (`1.80601E+15`)."""
    return _ID_DIGITS.fullmatch(_ID_NOISE.sub("", value)) is not None or _ID_SCIENTIFIC.fullmatch(value) is not None


# The shape of any date form domain.dates reads (partial and placeholder ones included), or an
# Excel serial: enough to tell a date from an address fragment, a code or a name.
_date = _pattern(r"[0-9]{1,8}(?:\.0+)?|(?:[0-9]{1,4}|[-?X]{1,2})(?:[-/](?:[0-9]{1,4}|[-?X]{1,2})){1,2}"
                 r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?")
_IDENTIFIER = _identifier
_WORDS = _pattern(r"[A-Z][A-Z _\-]*")
_YES_NO = _pattern(r"Y|N|YA|T|TIDAK|1|0|TRUE|FALSE")
# Shape of each canonical column (blank always passes); a column without a shape is not checked.
_SHAPES: dict[str, Check] = {
    "nik": _IDENTIFIER, "no_kk": _IDENTIFIER, "nik_ganda": _IDENTIFIER,
    "tgl_lahir": _date, "tgl_mati": _date, "tanggal": _date,
    "rt": _pattern(r"[0-9]{1,3}|-"), "rw": _pattern(r"[0-9]{1,3}|-"),
    "desil": _pattern(r"(?:[0-9]|10)(?:\.0+)?"),
    "pkh": _YES_NO, "bpnt": _YES_NO, "pbi_jk": _YES_NO,
    "status_padan": _WORDS, "status_hidup": _WORDS, "status_dasar": _WORDS, "hasil": _WORDS, "tingkat": _WORDS,
    "program": _WORDS, "periode": _pattern(r"[0-9]{4}-(?:[0-9]{1,2}|T[1-4])"),
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


def _valid(values: list[str | None], check: Check) -> np.ndarray:
    out = np.ones(len(values), dtype=bool)
    for i, value in enumerate(values):
        text = (value or "").strip()
        if text and not check(text):
            out[i] = False
    return out


def placements(fields: list[list[str | None]], checks: list[Check | None], candidates: list[int]) -> np.ndarray:
    """For records of `len(checks) + 1` fields (`fields[j]`: the j-th field of each record), the
    column whose joining with its right neighbour makes every checked column valid, when exactly
    one does (-1 otherwise, also when no checked column follows it: nothing then shows where the
    surplus field came from). Each checked column is tested once as delivered and once shifted."""
    n = len(fields[0]) if fields else 0
    width = len(checks)
    checked = [j for j in range(width) if checks[j] is not None]
    as_is = {j: _valid(fields[j], checks[j]) for j in checked}
    shifted = {j: _valid(fields[j + 1], checks[j]) for j in checked}
    valid_count = np.zeros(n, dtype=np.int64)
    chosen = np.full(n, -1, dtype=np.int64)
    for k in candidates:
        if not any(j > k for j in checked):
            continue
        ok = np.ones(n, dtype=bool)
        for j in checked:
            if j != k:
                ok &= as_is[j] if j < k else shifted[j]
        valid_count += ok
        chosen = np.where(ok, k, chosen)
    return np.where(valid_count == 1, chosen, -1)


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
    fields = [column.take(take).to_pylist() for column in columns] + [overflow.take(take).to_pylist()]
    place = placements(fields, column_checks(header, spec), candidates)
    fixed = place >= 0
    if not fixed.any():
        return columns, overflow, none
    rows, place = rows[fixed], place[fixed].tolist()
    fields = [[v for v, keep in zip(f, fixed, strict=True) if keep] for f in fields]
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    arrow_mask = pa.array(mask)
    out = list(columns)
    for j in range(min(place), width):
        values = [f"{fields[j][i] or ''}{separator}{fields[j + 1][i] or ''}" if k == j
                  else fields[j + 1][i] if k < j else fields[j][i] for i, k in enumerate(place)]
        column = columns[j].combine_chunks() if isinstance(columns[j], pa.ChunkedArray) else columns[j]
        out[j] = pc.replace_with_mask(column, arrow_mask, pa.array(values, pa.string()))
    flat_overflow = overflow.combine_chunks() if isinstance(overflow, pa.ChunkedArray) else overflow
    new_overflow = pc.replace_with_mask(flat_overflow, arrow_mask, pa.nulls(len(rows), pa.string()))
    codes = pc.replace_with_mask(none, arrow_mask, pa.array([REPAIR_CODE] * len(rows), pa.string()))
    return out, new_overflow, codes
