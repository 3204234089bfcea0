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
    "MOVED_RECIPIENT": ("Penerima pindah", "penerima bantuan yang menurut sumber data tidak lagi tinggal di desa "
                                           "yang tercantum di daftar bantuan"),
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

# The flag catalogue's subjects (golden.flags PERSON / HOUSEHOLD) as the worklists name them.
FLAG_SUBJECT = {"PERSON": "ART", "HOUSEHOLD": "KELUARGA"}

# build.flag.verval_status: where a flag stands after the decisions in force.
VERVAL_STATUS_LABELS: dict[str, str] = {
    "UNVERIFIED": "belum diverifikasi",
    "CONFIRMED": "dibenarkan di lapangan",
    "REJECTED": "tidak terbukti",
    "OTHER": "diputus, tanpa membenarkan atau menolak (mis. tidak ditemukan)",
}

# The agency feeds, as the kabupaten calls them.
FEED_LABELS: dict[str, str] = {
    "dtsen": "DTSEN (Kemensos)",
    "dukcapil": "Dukcapil (kependudukan)",
    "bansos": "penerima bansos (PKH, BPNT, PBI-JK)",
    "pekon": "data pekon/kelurahan",
    "verval": "hasil verifikasi dan validasi (verval)",
}

# The quality scorecard's shares (quality.scorecard), as the report's table heads them.
QUALITY_LABELS: dict[str, str] = {
    "valid_nik_share": "NIK sah",
    "padan_share": "padan Dukcapil",
    "damaged_id_share": "NIK/KK rusak (Excel, format)",
    "imprecise_dob_share": "tanggal lahir bawaan",
    "missing_name_share": "tanpa nama",
}

# Reason codes of the flags (golden.flags, build.flag.reason): what the officer reads beside them.
REASON_LABELS: dict[str, str] = {
    "DUPLICATE_IN_DTSEN": "tercatat lebih dari sekali di DTSEN",
    "DUPLICATE_IN_DUKCAPIL": "tercatat lebih dari sekali di Dukcapil",
    "DUPLICATE_IN_PEKON": "tercatat lebih dari sekali di data pekon",
    "KK_CONFLICT": "data orang ini memuat No. KK yang berbeda",
    "VERVAL_MENINGGAL": "hasil verval: meninggal",
    "DUKCAPIL_MATI": "Dukcapil: meninggal",
    "PEKON_MATI": "data pekon: meninggal",
    "VERVAL_PINDAH": "hasil verval: pindah",
    "PEKON_PINDAH": "data pekon desa di daftar: pindah",
    "DUKCAPIL_ELSEWHERE": "Dukcapil mencatatnya di desa lain",
    "PEKON_ELSEWHERE": "data pekon desa lain mencatatnya tinggal di sana",
    "IN_DUKCAPIL_NOT_IN_DTSEN": "ada di Dukcapil, tidak ada di DTSEN",
    "IN_PEKON_NOT_IN_DTSEN": "ada di data pekon, tidak ada di DTSEN",
    "PKH_ABOVE_CEILING": "penerima PKH dengan desil di atas batas PKH",
    "BPNT_ABOVE_CEILING": "penerima BPNT dengan desil di atas batas BPNT",
    "PBI_JK_ABOVE_CEILING": "penerima PBI-JK dengan desil di atas batas PBI-JK",
    "DESIL_1_2_NO_PROGRAMME": "desil 1 atau 2 tanpa PKH, BPNT atau PBI-JK",
}

# Why a pair of records is in the duplicate-review queue (linkage.review, clustering guards).
REVIEW_REASON_LABELS: dict[str, str] = {
    "UNCERTAIN": "model ragu: mungkin orang yang sama, mungkin bukan",
    "NIK_CONFLICT": "mirip, tetapi NIK berbeda: tidak digabung",
    "NIK_NEAR_MISS": "NIK beda 1 digit (mungkin salah ketik): tidak digabung",
    "SEX_CONFLICT": "mirip, tetapi jenis kelamin berbeda: tidak digabung",
    "BIRTH_YEAR_CONFLICT": "mirip, tetapi tahun lahir terpaut jauh: tidak digabung",
    "OVERSIZE": "kelompok data terlalu besar untuk digabung otomatis",
    "CANNOT_LINK": "ditetapkan sebagai orang berbeda oleh petugas sebelumnya",
    "THIN_EVIDENCE": "bukti tipis (hanya nama dan tahun lahir): tidak digabung",
}

# The sources a flag's evidence points into (`feed:file#row`).
SOURCE_LABELS = {"dtsen": "DTSEN", "dukcapil": "Dukcapil", "bansos": "daftar bansos", "pekon": "data pekon",
                 "verval": "hasil verval"}


def _records(value: str) -> str:
    """`dtsen:dtsen/DTSEN_1806_202611.csv#125,...` -> `DTSEN_1806_202611.csv baris 125, ...`."""
    out = []
    for ref in value.split(","):
        feed, _, rest = ref.partition(":")
        path, _, row = rest.partition("#")
        name = path.rsplit("/", 1)[-1] or feed
        out.append(f"{name} baris {row}" if row else name)
    return ", ".join(out)


# Evidence keys whose value is a list of records, and keys whose value is a number, in Indonesian.
_RECORD_WORDING = {"desil_record": "desil dari {}", "lists": "tercantum di {}", "reported_by": "dilaporkan oleh {}",
                   "found_in": "ditemukan di {}", "kept": "No. KK yang dipakai dari {}", "other_kk": "No. KK lain di {}",
                   "placed_by": "tempat tinggal sekarang menurut {}"}
_VALUE_WORDING = {"desil": "desil {}", "living_members": "{} anggota keluarga hidup", "list_period": "periode daftar {}"}
# A moved recipient's villages (`code name`) and whether the family or one member moved.
_VILLAGE_WORDING = {"from": "desa di daftar bantuan: {}", "to": "desa sekarang: {}"}
MOVE_LEVEL_LABELS = {"KELUARGA": "pindah sekeluarga", "PERORANGAN": "pindah sendiri (anggota keluarga lain tetap)"}


def _village(value: str) -> str:
    """`18.06.01.2001 Sukajaya` -> `Sukajaya (18.06.01.2001)`; a code without a name stays a code."""
    code, _, name = value.strip().partition(" ")
    return f"{name} ({code})" if name else code


def _evidence_part(part: str) -> str:
    key, _, value = part.partition("=")
    key = key.strip()
    if key.endswith(" ceiling"):
        return f"batas desil {key.removesuffix(' ceiling')}: {value}"
    if key == "programmes":
        return "tidak menerima program apa pun" if value == "none" else f"menerima {value.replace(',', ', ')}"
    if key in _RECORD_WORDING:
        return _RECORD_WORDING[key].format(_records(value))
    if key in _VALUE_WORDING:
        return _VALUE_WORDING[key].format(value)
    if key in _VILLAGE_WORDING:
        return _VILLAGE_WORDING[key].format(_village(value))
    if key == "moved" and value in MOVE_LEVEL_LABELS:
        return MOVE_LEVEL_LABELS[value]
    if key in SOURCE_LABELS:
        return f"data di {SOURCE_LABELS[key]}: {_records(value)}"
    return part  # a new evidence key, left as it is: the language test then finds its English


def flag_evidence(evidence: str | None) -> str | None:
    """A flag's evidence (`key=value; ...`, flags joined by ` | `) in Indonesian, for the BUKTI column."""
    if evidence is None or evidence != evidence or not str(evidence):
        return None
    return " | ".join("; ".join(_evidence_part(p) for p in group.split("; ") if p)
                      for group in str(evidence).split(" | "))
