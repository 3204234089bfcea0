"""Which golden columns a downstream (masked) view may show, decided by column name.

The masked layer is for analysis and joins, not for finding a person: NIK and No. KK are
replaced by their HMAC tokens, names, addresses, mothers' names, contact and account numbers
and free-text notes are left out, and a birth date becomes a birth year. Everything else
(codes, flags, deciles, provenance ids) passes. The rules are name patterns so that a column a
later model adds gets the same treatment as its siblings (`head_nama` like `nama`,
`anggota_nik` like `nik`); the masked-view tests scan the views for every identifier, name and
birth date of the input, so a new column that leaks fails them.
"""

from __future__ import annotations

import re
from enum import Enum

from dtsen_pipeline.warehouse import qualified, quote

TOKEN_SUFFIX = "_token"


class Treatment(Enum):
    KEEP = "keep"
    TOKEN = "token"  # the raw column is hidden; its `<column>_token` is shown
    YEAR = "year"  # a date of birth, shown as its year
    DROP = "drop"


_NIK = re.compile(r"^(nik|nik_ganda)$|_nik$")
_KK = re.compile(r"^no_kk$|_no_kk$")
_BIRTH_DATE = re.compile(r"(^|_)tgl_lahir$")
_DROP = re.compile(
    r"(^|_)(nama|nama_norm|name_key|gelar|alamat|rt|rw|tempat_lahir|dusun|telepon|no_hp|hp|email"
    r"|no_rekening|rekening|catatan|petugas)$"
    r"|(^|_)(nama_)?ibu(_kandung)?$|^nama_ibu"
)


def identifier_kind(column: str) -> str | None:
    """`nik` or `kk` for a column holding a raw identifier, else None."""
    if _NIK.search(column):
        return "nik"
    if _KK.search(column):
        return "kk"
    return None


def treatment(column: str) -> Treatment:
    if column.endswith(TOKEN_SUFFIX):
        return Treatment.KEEP
    if identifier_kind(column):
        return Treatment.TOKEN
    if _BIRTH_DATE.search(column):
        return Treatment.YEAR
    if _DROP.search(column):
        return Treatment.DROP
    return Treatment.KEEP


def token_column(column: str) -> str:
    return column + TOKEN_SUFFIX


def year_column(column: str) -> str:
    return re.sub(r"tgl_lahir$", "tahun_lahir", column)


def masked_select(schema: str, table: str, columns: list[str]) -> str:
    """The SELECT of `golden_masked.<table>` over `<schema>.<table>` with these columns."""
    items = []
    for column in columns:
        kind = treatment(column)
        if kind is Treatment.KEEP:
            items.append(quote(column))
        elif kind is Treatment.YEAR:
            items.append(f"CAST(EXTRACT(YEAR FROM {quote(column)}) AS INTEGER) AS {quote(year_column(column))}")
        elif kind is Treatment.TOKEN and token_column(column) not in columns:
            raise ValueError(f"{schema}.{table}: identifier column {column} has no token column")
    return f"SELECT {', '.join(items)} FROM {qualified(schema, table)}"
