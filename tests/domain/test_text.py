"""The shared column helpers of `domain._text` give what the plain pandas expression gives."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dtsen_pipeline.domain._text import as_text, by_distinct

codes = st.lists(st.one_of(st.none(), st.sampled_from(["1", " 2", "2 ", "l", "P", "", "  ", "ya", "TIDAK", "7"])),
                 max_size=60)


def _upper_and_known(values: pd.Series) -> pd.DataFrame:
    text = as_text(values).str.upper()
    return pd.DataFrame({"value": text, "known": text.isin(["1", "2", "P", "YA"])}, index=values.index)


@settings(max_examples=200, deadline=None)
@given(codes, st.integers(min_value=0, max_value=5))
def test_by_distinct_equals_the_transform_of_every_row(values: list[str | None], shift: int) -> None:
    series = pd.Series(values, dtype="str", index=pd.RangeIndex(shift, shift + len(values)))
    pd.testing.assert_series_equal(by_distinct(series, as_text), as_text(series))
    pd.testing.assert_frame_equal(by_distinct(series, _upper_and_known), _upper_and_known(series))


def test_by_distinct_keeps_a_typed_result_and_the_index() -> None:
    series = pd.Series(["3", None, "11", "3", "x"], dtype="str", index=[10, 11, 12, 13, 14])
    decile = by_distinct(series, lambda v: pd.to_numeric(v, errors="coerce").where(lambda n: n <= 10).astype("Int64"))
    assert decile.dtype == "Int64"
    assert decile.index.tolist() == [10, 11, 12, 13, 14]
    assert decile.tolist() == [3, pd.NA, pd.NA, 3, pd.NA]
