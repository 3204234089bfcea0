"""Junk records of a delivered file: empty rows, repeated headers, totals rows, malformed rows.

Classification needs the file's own column order (a totals row is told by its first filled
field), so intake classifies each delivery as it is read and keeps the reason in the raw column
`_junk`; staging quarantines those records with that reason. Reason codes: `schema.JUNK_REASONS`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dtsen_pipeline.ingest.feeds import FeedSpec
from dtsen_pipeline.ingest.raw_records import JUNK_COLUMN, NON_VALUE_COLUMNS, OVERFLOW_COLUMN, REPAIR_COLUMN
from dtsen_pipeline.schema import JUNK_REASONS

_SUMMARY_PATTERN = r"^\s*(?:JUMLAH|TOTAL|GRAND\s+TOTAL|SUB\s*TOTAL)\b"


def _arrow_chunks(values: pd.Series) -> pa.ChunkedArray:
    """A column as Arrow strings, as it is held (chunked, no copy) when it is already text."""
    if not isinstance(values.dtype, pd.StringDtype):
        values = values.astype("str")
    array = pa.array(values.array, pa.string())
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array], pa.string())


def _header_characters(header_keys: pa.Array) -> str:
    """A regular expression matched by every value whose header key (`_header_keys`) can be one
    of `header_keys`: made only of their characters (either case), separators and padding."""
    allowed = {" ", ".", "-", "_", "\t", "\r", "\n", "\ufeff"}
    for key in header_keys.to_pylist():
        allowed.update(key)
        allowed.update(ch.lower() for ch in key if "A" <= ch <= "Z")
    return "^[" + "".join(f"\\x{{{ord(ch):x}}}" for ch in sorted(allowed)) + "]+$"


def _header_keys(text: pa.Array) -> pa.Array:
    """Header keys of text values (as `feeds.header_key`: case, spaces, dots, dashes and
    underscores do not count), with cheap kernels: this runs on every record's first value."""
    key = pc.ascii_upper(pc.utf8_trim(text, " \t\r\n\ufeff"))
    for noise in (" ", ".", "-", "\t"):
        key = pc.replace_substring(key, noise, "_")
    for _ in range(3):
        key = pc.replace_substring(key, "__", "_")
    return pc.utf8_trim(key, "_")


def _blank(text: pa.Array) -> np.ndarray:
    """True where a value is missing, empty or only whitespace."""
    blank = pc.or_kleene(pc.equal(text, ""), pc.utf8_is_space(text))
    return pc.fill_null(blank, True).to_numpy(zero_copy_only=False)


def _header_counts(texts: list[pa.ChunkedArray], header_keys: pa.Array, rows: np.ndarray) -> np.ndarray:
    """How many fields of each of `rows` equal their own column's header (`texts[i]` is the
    column whose header key is `header_keys[i]`)."""
    count = np.zeros(len(rows), dtype=np.int64)
    for text, key in zip(texts, header_keys, strict=True):
        same = pc.equal(_header_keys(text.take(pa.array(rows))), key)
        count += pc.fill_null(same, False).to_numpy(zero_copy_only=False)
    return count


def classify_junk(raw: pd.DataFrame, spec: FeedSpec) -> pd.Series:
    """The junk reason of each record (NA for a record that looks like data).

    Column-wise with Arrow kernels (a Tanggamus delivery has about two million records): per
    record, how many fields are filled and which is the first. A record whose first value is
    a header name is a candidate repeated header (concatenated exports) and its fields are
    compared with their headers; a totals row starts with JUMLAH/TOTAL. "First" follows the
    frame's column order, which must be the file's: ingestion classifies each delivery as read
    and keeps the result in the raw column `_junk`, which this function then returns.
    """
    if JUNK_COLUMN in raw.columns:  # decided at ingestion, in the file's own column order
        return raw[JUNK_COLUMN].astype("str")
    value_cols = [c for c in raw.columns if c not in NON_VALUE_COLUMNS]
    n = len(raw)
    texts = [_arrow_chunks(raw[column]) for column in value_cols]
    # Each record's first filled column. Almost every record is settled by its first column,
    # so each further column is looked at only on the records still without a filled value.
    first_col = np.full(n, -1, dtype=np.int64)
    open_rows = np.arange(n)
    for i, text in enumerate(texts):
        if not len(open_rows):
            break
        filled = ~_blank(text if len(open_rows) == n else text.take(pa.array(open_rows)))
        first_col[open_rows[filled]] = i
        open_rows = open_rows[~filled]
    first = pa.nulls(n, pa.string())
    pieces = [(text, np.flatnonzero(first_col == i)) for i, text in enumerate(texts)]
    pieces = [(text, rows) for text, rows in pieces if len(rows)]
    if pieces:  # gather each record's first filled value from the column that holds it
        values = pa.concat_arrays([text.take(pa.array(rows)).combine_chunks() for text, rows in pieces])
        where = np.full(n, -1, dtype=np.int64)
        where[np.concatenate([rows for _, rows in pieces])] = np.arange(len(values))
        first = values.take(pa.array(where, mask=where < 0))

    header_names = _header_keys(pa.array(value_cols, pa.string())) if value_cols else pa.array([], pa.string())
    # Header keys are computed only for first values made of characters a header key can come
    # from (one cheap pass; a NIK or an ID never is), then compared with the feed's headers.
    maybe = np.flatnonzero(pc.fill_null(pc.match_substring_regex(first, _header_characters(header_names)),
                                        False).to_numpy(zero_copy_only=False))
    candidate = np.zeros(n, dtype=bool)
    if len(maybe):
        keys = _header_keys(first.take(pa.array(maybe)))
        candidate[maybe] = pc.fill_null(pc.is_in(keys, value_set=header_names), False).to_numpy(zero_copy_only=False)
    header_count = np.zeros(n, dtype=np.int64)
    filled_count = np.zeros(n, dtype=np.int64)  # needed only where a repeated header is possible
    rows = np.flatnonzero(candidate)
    if len(rows):
        header_count[rows] = _header_counts(texts, header_names, rows)
        filled_count[rows] = sum(~_blank(text.take(pa.array(rows))) for text in texts)

    overflow = raw[OVERFLOW_COLUMN].isna().to_numpy() if OVERFLOW_COLUMN in raw.columns else np.ones(n, bool)
    empty = (first_col < 0) & overflow  # no field filled
    repeated = candidate & (header_count >= np.maximum(2, (filled_count + 1) // 2))
    upper = pc.ascii_upper(pc.utf8_trim_whitespace(first))
    summary = pc.fill_null(pc.match_substring_regex(upper, _SUMMARY_PATTERN), False)
    malformed = (raw["n_fields"] != raw["header_fields"]).to_numpy(dtype=bool, na_value=True)
    if REPAIR_COLUMN in raw.columns:  # one surplus separator repaired at ingestion (ingest.repair)
        malformed = malformed & raw[REPAIR_COLUMN].isna().to_numpy()
    reason = np.select([empty, repeated, summary.to_numpy(zero_copy_only=False), malformed],
                       list(JUNK_REASONS), default=None)
    return pd.Series(reason, index=raw.index, dtype="str")
