"""Canonical column sets, record ids and quarantine reasons shared by ingest, quality, linkage
and the golden SQL models.

Every person-bearing feed is staged into the same person columns (plus its own extras), so
linkage and the golden models read one shape whatever the agency called its columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

PROVENANCE_COLUMNS: tuple[str, ...] = ("record_id", "feed", "source_file", "source_row")


def make_record_id(feed: pd.Series | str, source_file: pd.Series, source_row: pd.Series) -> pd.Series:
    """The stable id of a source record: `<feed>:<source file>#<row>` (provenance, no personal data)."""
    return feed + ":" + source_file.astype("str") + "#" + source_row.astype("str")


# Quarantine reasons of records that are no data (ingest.junk): not counted as records anywhere.
JUNK_REASONS: tuple[str, ...] = ("EMPTY_ROW", "REPEATED_HEADER", "SUMMARY_ROW", "MALFORMED_ROW")
# A row of a returned worklist the officer left unanswered (no HASIL, date, officer, note or NIK):
# not a bad decision, just none yet. Quarantined with this reason, never held against the file.
NOT_ANSWERED = "NOT_ANSWERED"
# Quarantined by design: not counted against QUAR-01 or in the scorecard's shares.
UNCOUNTED_REASONS: tuple[str, ...] = (*JUNK_REASONS, NOT_ANSWERED)
# Quarantine reasons of a person record without a usable village code (domain.regions).
REGION_REASONS: tuple[str, ...] = ("REGION_MISSING", "REGION_BAD_FORMAT", "REGION_UNKNOWN")

# Columns every person-bearing staging table carries, in this order.
PERSON_COLUMNS: tuple[str, ...] = (
    *PROVENANCE_COLUMNS,
    "nik",  # 16-digit string, only when it passed every NIK rule; otherwise null
    "nik_issue",  # why the NIK is not usable (MISSING, NIK_EXCEL_DAMAGED, NIK_PLACEHOLDER, ...)
    "no_kk",
    "kk_issue",
    "nik_prefix15",  # first 15 digits of a valid NIK, or of one Excel stored as a number (16th lost)
    "kk_prefix15",  # the same for No. KK
    "nama",  # the name as delivered (trimmed), never rewritten
    "nama_norm",  # uppercase, titles removed, punctuation removed
    "name_key",  # folded comparison key (Muhammad/Siti variants, old spelling)
    "gelar",  # titles and degrees moved out of the name
    "tgl_lahir",  # DATE
    "dob_imprecise",  # birth date is a registry default (1 Jan, 1 Jul, 31 Dec, day 15)
    "birth_year",  # Int: the birth year when credible (also of a year-only or year-month date)
    "dob_precision",  # day | month | year: how much of the birth date is known (null: nothing)
    "jenis_kelamin",  # L / P
    "hubungan",  # canonical relationship code (KEPALA_KELUARGA, PASANGAN, ANAK, ...)
    "kode_desa",  # canonical Kemendagri village code 18.06.01.2001
    "kode_kecamatan",  # 18.06.01
    "in_scope",  # village lies inside the configured scope (default Kabupaten Tanggamus 18.06)
    "alamat",
    "rt",
    "rw",
    "flags",  # warning codes for the row, ';'-separated (empty string when none)
)

# Canonical relationship-to-head codes (DTSEN numbering 1..8).
RELATIONSHIPS: tuple[str, ...] = (
    "KEPALA_KELUARGA",
    "PASANGAN",
    "ANAK",
    "MENANTU",
    "CUCU",
    "ORANG_TUA",
    "PEMBANTU",
    "LAINNYA",
)

SEXES: tuple[str, ...] = ("L", "P")

PROGRAMS: tuple[str, ...] = ("PKH", "BPNT", "PBI-JK")

VERVAL_RESULTS: tuple[str, ...] = (
    "LAYAK",
    "TIDAK_LAYAK",
    "MENINGGAL",
    "PINDAH",
    "TIDAK_DITEMUKAN",
    "GANDA",
    "BUKAN_GANDA",
    "USULAN_BARU",
)

VERVAL_TIERS: tuple[str, ...] = ("PEKON", "KECAMATAN", "KABUPATEN")

QUARANTINE_COLUMNS: tuple[str, ...] = ("feed", "source_file", "source_row", "reason", "detail")
