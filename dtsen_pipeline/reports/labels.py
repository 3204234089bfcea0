"""Indonesian wording for staff-facing files, in one place so it can be corrected in one place.

`EVIDENCE`: what the linkage model found when it compared two records, per comparison, keyed by
the model's own level label (`linkage.model`; `linkage.review.level_labels` reads them from the
saved model). A label missing here is a model change the wording has not caught up with: a
test compares this catalogue with the model's levels.
"""

from __future__ import annotations

MISSING = "missing on one side"  # linkage.review.level_labels: Splink's null level
ELSE = "All other comparisons"

EVIDENCE: dict[str, dict[str, str]] = {
    "nik": {
        "Exact match on nik": "NIK sama",
        "first 15 digits agree (Excel lost the 16th)": "15 digit pertama NIK sama (digit ke-16 hilang di Excel)",
        "one digit apart": "NIK beda 1 digit",
        "two adjacent digits swapped": "NIK: 2 digit berdampingan tertukar",
        ELSE: "NIK berbeda",
        MISSING: "NIK tidak ada di salah satu data",
    },
    "no_kk": {
        "Exact match on no_kk": "No. KK sama",
        "first 15 digits agree (Excel lost the 16th)": "15 digit pertama No. KK sama (digit ke-16 hilang di Excel)",
        "one digit apart": "No. KK beda 1 digit",
        "two adjacent digits swapped": "No. KK: 2 digit berdampingan tertukar",
        ELSE: "No. KK berbeda",
        MISSING: "No. KK tidak dibandingkan (kosong, atau KK lain di desa lain: pindah)",
    },
    "name_key": {
        "Exact match on name_key": "nama sama",
        "Jaro-Winkler distance of name_key >= 0.94": "nama hampir sama (salah ketik)",
        "one name contains the other": "nama yang satu memuat nama yang lain",
        "same informative token": "satu kata nama yang khas sama",
        "Jaro-Winkler distance of name_key >= 0.82": "nama mirip",
        ELSE: "nama berbeda",
        MISSING: "nama tidak ada di salah satu data",
    },
    "dob": {
        "exact date": "tanggal lahir sama",
        "exact default date": "tanggal lahir sama, tetapi tanggal bawaan (1 Januari / 31 Desember)",
        "day and month swapped": "tanggal dan bulan lahir tertukar",
        "one character apart": "tanggal lahir beda 1 angka",
        "same year": "tahun lahir sama, tanggal berbeda",
        "year +/- 1": "tahun lahir beda 1 tahun",
        ELSE: "tanggal lahir berbeda",
        MISSING: "tanggal lahir tidak ada di salah satu data",
    },
    "jenis_kelamin": {
        "Exact match on jenis_kelamin": "jenis kelamin sama",
        ELSE: "jenis kelamin berbeda",
        MISSING: "jenis kelamin tidak ada di salah satu data",
    },
    "kode_desa": {
        "Exact match on kode_desa": "desa sama",
        "same kecamatan": "desa lain di kecamatan yang sama",
        ELSE: "kecamatan berbeda",
        MISSING: "desa tidak ada di salah satu data",
    },
    "alamat_key": {
        "Exact match on alamat_key": "alamat sama",
        "Jaro-Winkler distance of alamat_key >= 0.9": "alamat mirip",
        ELSE: "alamat berbeda",
        MISSING: "alamat tidak dibandingkan (kosong, atau desa lain)",
    },
}

# Column headers of the evidence in the review files, per comparison.
EVIDENCE_COLUMN = {"nik": "BUKTI_NIK", "no_kk": "BUKTI_NO_KK", "name_key": "BUKTI_NAMA", "dob": "BUKTI_TGL_LAHIR",
                   "jenis_kelamin": "BUKTI_JENIS_KELAMIN", "kode_desa": "BUKTI_DESA", "alamat_key": "BUKTI_ALAMAT"}


def evidence(column: str, label: str) -> str:
    """The Indonesian wording of a model level; the label itself only if the catalogue lacks it
    (the catalogue test fails first)."""
    return EVIDENCE.get(column, {}).get(label, label)
