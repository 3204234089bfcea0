"""The linkage input built in Spark: `prepare.linkage_input` as Spark SQL expressions.

Beyond one process the staged records are a Spark table (parquet each warehouse exported,
`linkage.staged_export`) and so must be the records Splink compares:
building them in pandas would pull every record into one process. Each expression below is the
pandas transformation of the same column in `linkage.prepare`, value for value (a test compares
the two on the sample), so a model trained on pandas records scores these.
"""

from __future__ import annotations

from typing import Any

from dtsen_pipeline.domain.names import LOW_INFORMATION_TOKENS
from dtsen_pipeline.linkage.prepare import LINKAGE_COLUMNS
from dtsen_pipeline.linkage.staged_export import STAGED_EXPORT_TYPES
from dtsen_pipeline.warehouse import literal

_LOW_INFORMATION = "array(" + ", ".join(literal(t) for t in sorted(LOW_INFORMATION_TOKENS)) + ")"

# First pass: the name's tokens (Python's str.split(): runs of whitespace, no empty token).
_TOKENS = [
    "*",
    "split(nullif(regexp_replace(name_key, '^\\\\s+|\\\\s+$', ''), ''), '\\\\s+') AS _tokens",
    "replace(name_key, ' ', '') AS _joined",
]

_DIGITS16 = "nik RLIKE '^[0-9]{16}$'"

# Second pass: one expression per linkage column, in LINKAGE_COLUMNS order.
_COLUMNS: dict[str, str] = {
    "unique_id": "CAST(record_id AS STRING)",
    "feed": "CAST(feed AS STRING)",
    "nik": "nik",
    "nik_prefix15": "nik_prefix15",
    "nik_region": "substring(nik, 1, 6)",
    "nik_birth": "substring(nik, 7, 6)",
    "nik_sequence": "substring(nik, 13)",
    "nik_head8": "substring(nik, 1, 8)",
    "nik_tail8": "substring(nik, 9)",
    "nik_head7": "substring(nik, 1, 7)",
    "nik_tail7": "substring(nik, 10)",
    "nik_number": f"CASE WHEN {_DIGITS16} THEN CAST(nik AS BIGINT) END",
    "no_kk": "no_kk",
    "kk_prefix15": "kk_prefix15",
    "kk_number": "CASE WHEN no_kk RLIKE '^[0-9]{16}$' THEN CAST(no_kk AS BIGINT) END",
    "name_key": "name_key",
    "name_prefix": "substring(_joined, 1, 2)",
    "name_prefix4": "substring(_joined, 1, 4)",
    "first_token": "element_at(_tokens, 1)",
    "last_token": "element_at(_tokens, -1)",
    # The longest token that is not a low-information name part, the first of equals (Python's
    # max); without one, the last token.
    "informative_token": (
        "coalesce(aggregate(filter(_tokens, t -> NOT array_contains(" + _LOW_INFORMATION + ", t)), "
        "CAST(NULL AS STRING), (best, t) -> CASE WHEN best IS NULL OR length(t) > length(best) THEN t ELSE best END), "
        "element_at(_tokens, -1))"
    ),
    "dob": "date_format(tgl_lahir, 'yyyy-MM-dd')",
    "dob_year": "coalesce(CAST(birth_year AS BIGINT), CAST(year(tgl_lahir) AS BIGINT))",
    "dob_day_month": "date_format(tgl_lahir, 'MM-dd')",
    "dob_imprecise": "coalesce(CAST(dob_imprecise AS BOOLEAN), false)",
    "jenis_kelamin": "CAST(jenis_kelamin AS STRING)",
    "kode_desa": "CAST(kode_desa AS STRING)",
    "kode_kecamatan": "CAST(kode_kecamatan AS STRING)",
    # prepare.address_key: upper case, every run of other characters one space, trimmed, '' -> null.
    "alamat_key": "nullif(trim(regexp_replace(upper(alamat), '[^0-9A-Z]+', ' ')), '')",
}
assert tuple(_COLUMNS) == LINKAGE_COLUMNS


def linkage_input_on_spark(staged: Any) -> Any:
    """The linkage input records (`LINKAGE_COLUMNS`) of `staged`, a Spark DataFrame of the staged
    export's columns, without leaving Spark."""
    return staged.selectExpr(*_TOKENS).selectExpr(*[f"{sql} AS {name}" for name, sql in _COLUMNS.items()])


def is_staged_export(columns: list[str]) -> bool:
    """Whether a table with `columns` is a staged export (to be built into records) rather than
    linkage input records already."""
    return "unique_id" not in columns and set(STAGED_EXPORT_TYPES) <= set(columns)
