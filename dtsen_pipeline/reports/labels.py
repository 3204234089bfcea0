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


# Flags: a short Indonesian name and what the officer checks (worklists, PETUNJUK, report).
FLAG_LABELS: dict[str, tuple[str, str]] = {
    "DUPLICATE_RECORDS": ("Data ganda", "orang yang sama tercatat lebih dari sekali dalam satu sumber data"),
    "PERSON_IN_MULTIPLE_KK": ("Tercatat di lebih dari satu KK",
                              "data orang ini memuat lebih dari satu No. KK yang sah"),
    "DEAD_RECIPIENT": ("Penerima meninggal", "penerima bantuan yang menurut salah satu sumber sudah meninggal"),
    "MOVED_RECIPIENT": ("Penerima pindah", "penerima bantuan yang menurut salah satu sumber sudah pindah"),
    "PERSON_MISSING_FROM_DTSEN": ("Belum masuk DTSEN",
                                  "warga yang hidup menurut Dukcapil atau data pekon, tetapi tidak ada di DTSEN"),
    "INCLUSION_CANDIDATE": ("Kemungkinan tidak layak menerima (inclusion error)",
                            "keluarga penerima bantuan dengan desil di atas batas program"),
    "EXCLUSION_CANDIDATE": ("Kemungkinan layak tetapi belum menerima (exclusion error)",
                            "keluarga desil 1-2 yang tidak menerima program apa pun"),
    "FAMILY_MISSING_FROM_DTSEN": ("Keluarga belum masuk DTSEN",
                                  "keluarga yang anggotanya hidup menurut Dukcapil atau data pekon, tanpa "
                                  "registrasi DTSEN"),
}

# Answers an officer may give (column HASIL), with what each means.
HASIL_LABELS: dict[str, str] = {
    "LAYAK": "layak menerima bantuan / data benar",
    "TIDAK_LAYAK": "tidak layak menerima bantuan",
    "MENINGGAL": "orang ini sudah meninggal",
    "PINDAH": "orang atau keluarga ini sudah pindah",
    "TIDAK_DITEMUKAN": "tidak ditemukan di lapangan",
    "GANDA": "data ganda: dua data ini orang yang sama (isi NIK_GANDA)",
    "BUKAN_GANDA": "bukan data ganda: dua orang yang berbeda",
    "USULAN_BARU": "diusulkan masuk DTSEN",
}

SUBJECT_LABELS = {"ART": "anggota rumah tangga (orang)", "KELUARGA": "keluarga"}
TIER_LABELS = {"PEKON": "pekon/kelurahan", "KECAMATAN": "kecamatan", "KABUPATEN": "kabupaten"}
