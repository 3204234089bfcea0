"""Shared helpers for raw text columns: one trimming rule and a fast digit matrix."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa

# Characters treated as blank padding. Explicit (not "any Unicode space") so that the
# vectorised and the scalar code paths trim exactly the same way; BOM and NBSP do occur
# in CSV and spreadsheet exports.
_STR_TYPES = {pa.large_string(): pd.StringDtype("pyarrow", na_value=np.nan)}
WHITESPACE = " \t\r\n\u00a0\u2007\u202f\ufeff"
Result = TypeVar("Result", pd.Series, pd.DataFrame)


def as_text(values: pd.Series) -> pd.Series:
    """Raw values as trimmed `str` with NA for missing or blank, index preserved."""
    text = values.astype("str").str.strip(WHITESPACE)
    return text.mask(text == "")


def strip_text(value: object) -> str | None:
    """Scalar twin of `as_text`: None for missing or blank."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    text = str(value).strip(WHITESPACE)
    return text or None


def digit_matrix(values: pd.Series, width: int) -> np.ndarray:
    """(n, width) uint8 digits of strings that are exactly `width` ASCII digits each.

    Reads the Arrow buffer directly: about 100x faster than a per-string loop.
    """
    if len(values) == 0:
        return np.zeros((0, width), dtype=np.uint8)
    arr = pa.array(values.astype("str").array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_binary())
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    if data.size != len(arr) * width:
        raise ValueError(f"digit_matrix needs strings of exactly {width} ASCII digits")
    return data.reshape(-1, width) - ord("0")


def take_text(table: list[str | None], codes: np.ndarray, index: pd.Index) -> pd.Series:
    """`table[codes]` as a `str` Series (code -1 gives NA).

    Built in Arrow: converting a million-row object array to `str` is ~15x slower.
    """
    return take_array(pa.array(table, type=pa.large_string()), codes, index)


def take_array(values: pa.Array, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """`values[codes]` (an Arrow string array) as a `str` Series; code -1 gives NA."""
    values = pa.concat_arrays([values.cast(pa.large_string()), pa.nulls(1, pa.large_string())])
    taken = values.take(pa.array(np.where(codes < 0, len(values) - 1, codes)))
    return taken.to_pandas(types_mapper=_STR_TYPES.get).set_axis(index)


def join_columns(columns: list[pd.Series], index: pd.Index, sep: str) -> pd.Series:
    """Element-wise join of text columns with `sep`, missing as '', in Arrow (no per-row Python)."""
    import pyarrow.compute as pc

    if not columns or not len(index):
        return pd.Series("", index=index, dtype="str")
    arrays = []
    for column in columns:
        values = column.reindex(index).astype("str").fillna("")
        array = pa.array(values.array, pa.string())
        arrays.append(array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array)
    joined = pc.binary_join_element_wise(*arrays, sep)
    return pd.Series(pd.array(joined.to_pandas(), dtype="str"), index=index)


def _code_labels(column: pd.Series, index: pd.Index) -> tuple[np.ndarray, list[str]]:
    """A code column as small integers aligned with `index` (0 = no code) and their labels."""
    if pd.api.types.is_bool_dtype(column.dtype):
        codes = column.to_numpy(dtype=bool, na_value=False).astype(np.int64)
        labels = ["", str(column.name)]
    else:
        found, uniques = pd.factorize(column, use_na_sentinel=True)
        codes, labels = found.astype(np.int64) + 1, ["", *(str(u) for u in uniques)]
    if not column.index.equals(index):
        codes = pd.Series(codes, index=column.index).reindex(index, fill_value=0).to_numpy()
    return codes, labels


def join_codes(columns: list[pd.Series], index: pd.Index, sep: str = ";") -> pd.Series:
    """Per row, the non-empty codes of `columns` joined with `sep` ('' when none).

    A column is either boolean (True = the row carries the code named by the column's name)
    or text (the row's code, '' or missing for none). Rows share few distinct combinations
    of codes, so each row gets an integer key for its combination and each distinct
    combination is joined once: no per-row Python, no string building per row.
    """
    if not len(index):
        return pd.Series([], index=index, dtype="str")
    key = np.zeros(len(index), dtype=np.int64)
    combos: list[tuple[str, ...]] = [()]  # the labels behind each value of `key`
    for column in columns:
        codes, labels = _code_labels(column, index)
        key, uniques = pd.factorize(key * len(labels) + codes)
        combos = [(*combos[k // len(labels)], labels[k % len(labels)]) for k in uniques.tolist()]
    texts = [sep.join(x for label in combo for x in label.split(sep) if x) for combo in combos]
    return take_text(texts, key, index)


def rows_where(frame: pd.DataFrame, keep: pd.Series) -> pd.DataFrame:
    """`frame.loc[keep]` (NA = drop), without copying every column when every row is kept (the
    usual case: a clean delivery)."""
    mask = keep.to_numpy(dtype=bool, na_value=False)
    return frame if mask.all() else frame.loc[mask]


def constant_text(value: str, index: pd.Index) -> pd.Series:
    """A `str` column holding one value (feed name, code system): Arrow repeats it ~100x faster
    than pandas converts a broadcast object array."""
    array = pa.repeat(pa.scalar(value, pa.large_string()), len(index))
    return array.to_pandas(types_mapper=_STR_TYPES.get).set_axis(index)


def by_distinct(values: pd.Series, transform: Callable[[pd.Series], Result]) -> Result:
    """`transform(values)` for an element-wise `transform`, computed once per distinct value.

    Agency codes (sex, relationship, programme, yes/no, decile) repeat on every row: hashing the
    column once and converting its few distinct values is ~5x faster than converting every row.
    `transform` returns a Series or a DataFrame aligned with its input; the result is aligned
    with `values` (missing values are transformed as one missing value).
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = pd.Series(uniques, dtype=values.dtype).reindex(range(len(uniques) + 1))  # last: missing
    result = transform(distinct)
    positions = np.where(codes < 0, len(uniques), codes)
    return result.take(positions).set_axis(values.index)
