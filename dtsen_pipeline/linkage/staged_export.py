"""The staged person records linkage reads, exported as parquet for Spark (`dtsen export-staged`).

A regency's nightly step reads its staged records into pandas. The national linkage
(`dtsen link-tables`) reads them as a Spark table instead: each regency's warehouse writes its
person feeds' staged columns here, one parquet file per feed, and Spark builds the linkage input
from them (`linkage.spark_input`). Only the columns linkage compares leave the warehouse (not the
name as written, which only the review files show); the files hold NIK, No. KK and birth dates:
keep them where staging is kept.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from dtsen_pipeline.linkage.prepare import STAGED_COLUMNS
from dtsen_pipeline.warehouse import column_names, export_parquet, literal, qualified, quote, table_exists

# Every feed's file has all of these, typed (a column a feed lacks is null).
STAGED_EXPORT_TYPES: dict[str, str] = {
    "record_id": "VARCHAR", "feed": "VARCHAR", "nik": "VARCHAR", "no_kk": "VARCHAR", "name_key": "VARCHAR",
    "nik_prefix15": "VARCHAR", "kk_prefix15": "VARCHAR", "tgl_lahir": "DATE", "birth_year": "BIGINT",
    "dob_imprecise": "BOOLEAN", "jenis_kelamin": "VARCHAR", "kode_desa": "VARCHAR", "kode_kecamatan": "VARCHAR",
    "alamat": "VARCHAR",
}
assert set(STAGED_EXPORT_TYPES) == set(STAGED_COLUMNS) - {"nama"}


def export_staged(engine: sa.Engine, feeds: tuple[str, ...], out: Path, id_prefix: str = "") -> dict[str, int]:
    """Write each person feed's staged linkage columns to `out`/<feed>.parquet; rows per feed (a
    feed without a staging table yet is left out). `id_prefix` goes before every record id: two
    regencies' landing folders may hold files of the same name, so their exports are read as one
    table only with the regency in the ids."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for feed in feeds:
        if not table_exists(engine, "staging", feed):
            continue
        present = set(column_names(engine, "staging", feed))
        columns = ", ".join(_exported(name, present, id_prefix) for name in STAGED_EXPORT_TYPES)
        written[feed] = export_parquet(engine, f"SELECT {columns} FROM {qualified('staging', feed)}",
                                       STAGED_EXPORT_TYPES, str(out / f"{feed}.parquet"))
    return written


def _exported(name: str, present: set[str], id_prefix: str) -> str:
    """The SELECT expression of one exported column."""
    if name not in present:
        return f"NULL AS {quote(name)}"
    if name == "record_id" and id_prefix:
        return f"{literal(id_prefix)} || {quote(name)} AS {quote(name)}"
    return quote(name)
