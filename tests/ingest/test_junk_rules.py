"""`junk.classify_junk` (column-wise, Arrow kernels, shortcuts for speed) against the junk
rules written record by record in plain Python."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dtsen_pipeline.ingest.feeds import header_key
from dtsen_pipeline.ingest.junk import classify_junk
from dtsen_pipeline.ingest.raw_records import OVERFLOW_COLUMN, STR_DTYPE
from tests.ingest.helpers import SPECS

HEADERS = ["NIK", "NAMA_KPM", "Kode Desa", "RT", "ALAMAT", "NOMINAL"]  # a repeated header: half of them
_SUMMARY = re.compile(r"^\s*(?:JUMLAH|TOTAL|GRAND\s+TOTAL|SUB\s*TOTAL)\b")
# Values near the traps: each column's own header however spelled, totals labels, blanks,
# identifiers, other columns' headers.
_SPELLINGS = {"NIK": ["NIK", " nik ", "N.I.K"], "NAMA_KPM": ["Nama-Kpm", "NAMA KPM", "nama_kpm"],
              "Kode Desa": ["kode.desa", "KODE__DESA", "\ufeffKode Desa"], "RT": ["rt", "R T", "RT."],
              "ALAMAT": ["alamat", "ALAMAT"], "NOMINAL": ["Nominal", "-NOMINAL-"]}
_OTHER = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "\t", "JUMLAH", "Jumlah total", "TOTAL", "SUB TOTAL", "GRAND  TOTAL", "TOTALITAS",
                     "1806014107850001", "SITI", "K", "_", "NIK", "rt"]),
    st.text(alphabet="NIKAMaRT _.-\t1JUMLH", max_size=6),
)
_ROW = st.tuples(*[st.one_of(st.sampled_from(_SPELLINGS[h]), _OTHER) for h in HEADERS]).map(list)


def _key(value: str) -> str:
    """A value compared with headers: as `feeds.header_key`, a byte-order mark also ignored
    (a repeated header copied from the top of another export carries one)."""
    return header_key(value.strip(" \t\r\n\ufeff"))


def _reason(values: list[str | None], n_fields: int, overflow: str | None) -> str | None:
    """The junk rules for one record, as the data dictionary states them."""
    filled = [v for v in values if v is not None and v.strip(" \t\r\n\ufeff") != ""]
    first = filled[0] if filled else None
    keys = {header_key(h) for h in HEADERS}
    header_count = 0
    if first is not None and _key(first) in keys:
        header_count = sum(v is not None and _key(v) == header_key(h) for v, h in zip(values, HEADERS, strict=True))
    if not filled and overflow is None:
        return "EMPTY_ROW"
    if header_count >= max(2, (len(filled) + 1) // 2):
        return "REPEATED_HEADER"
    if first is not None and _SUMMARY.match(first.strip().upper()):
        return "SUMMARY_ROW"
    if n_fields != len(HEADERS):
        return "MALFORMED_ROW"
    return None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_ROW, st.integers(min_value=4, max_value=7),
                          st.sampled_from([None, "x"])), min_size=1, max_size=30))
def test_classify_junk_follows_the_rules_record_by_record(records):
    frame = pd.DataFrame({h: pd.Series([r[0][i] for r in records], dtype=STR_DTYPE) for i, h in enumerate(HEADERS)})
    frame["n_fields"] = np.array([r[1] for r in records], dtype=np.int64)
    frame["header_fields"] = len(HEADERS)
    frame[OVERFLOW_COLUMN] = pd.Series([r[2] for r in records], dtype=STR_DTYPE)
    got = classify_junk(frame, SPECS["bansos"]).tolist()
    expected = [_reason(values, n, overflow) for values, n, overflow in records]
    assert [None if isinstance(g, float) else g for g in got] == expected
