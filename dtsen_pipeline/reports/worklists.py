"""Monthly worklists for the tiered verification: what each pekon and kecamatan checks.

- A pekon's list holds the flags raised in that village that no decision answers yet
  (verval_status UNVERIFIED): the facilitators' ground checks.
- A kecamatan's list holds the flags whose decision in force was taken at pekon tier: the
  kecamatan confirms or overturns them (its decision then takes precedence).
- Flags of persons whose village is not known (a record kept without a usable village code,
  issue #10) go to a pekon-tier list per kecamatan, "desa tidak diketahui"
  (`PEKON_<kecamatan>_<period>`, placed by the No. KK's or NIK's kecamatan): the kecamatan's
  facilitators find the village. Without a kecamatan either, they are in no list (the flag is
  still in golden.flag).

Each file is a valid `verval` delivery: the feed's columns first (ID_KELUARGA, NO_KK, NIK,
NAMA, HASIL, NIK_GANDA, TINGKAT, TANGGAL, PETUGAS, KODE_DESA, CATATAN), with TINGKAT filled in
and HASIL, TANGGAL, PETUGAS, CATATAN left for the facilitator, so a returned file goes into
`landing/verval/` as it is. Context columns follow (flag, reason, evidence, desil, programmes,
the stable ids). The lists hold personal data by necessity (NIK and name to find the person);
their file names carry codes and the period only.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dtsen_pipeline.domain._text import by_distinct
from dtsen_pipeline.golden.flags import FLAGS, UNVERIFIED
from dtsen_pipeline.reports.answer_workbook import AnswerSheet, Choice, GuideTable, write_answer_workbook
from dtsen_pipeline.reports.labels import (
    FLAG_LABELS,
    FLAG_SUBJECT,
    HASIL_LABELS,
    REASON_LABELS,
    SUBJECT_LABELS,
    VERVAL_STATUS_LABELS,
    flag_evidence,
)
from dtsen_pipeline.reports.staff_files import inert_text, write_staff_csv
from dtsen_pipeline.reports.worklist_reuse import EarlierLists, copy_workbook, place_digest, workbook_salt
from dtsen_pipeline.schema import VERVAL_RESULTS, VERVAL_TIERS

VERVAL_COLUMNS: tuple[str, ...] = (
    "ID_KELUARGA", "NO_KK", "NIK", "NAMA", "HASIL", "NIK_GANDA", "TINGKAT", "TANGGAL", "PETUGAS", "KODE_DESA",
    "CATATAN",
)
CONTEXT_COLUMNS: tuple[str, ...] = (
    "SUBJEK", "PERSON_ID", "HOUSEHOLD_ID", "FLAG", "KETERANGAN_FLAG", "ALASAN", "KETERANGAN_ALASAN",
    "BUKTI", "DESIL", "PROGRAM", "STATUS_VERVAL",
    "HASIL_SEBELUMNYA", "TINGKAT_SEBELUMNYA", "TANGGAL_SEBELUMNYA",
)
WORKLIST_COLUMNS = VERVAL_COLUMNS + CONTEXT_COLUMNS
# The golden columns the lists are made of (read only these: build.person has 48 columns).
PERSON_COLUMNS = ("person_id", "nik", "no_kk", "nama")
HOUSEHOLD_COLUMNS = ("household_id", "id_keluarga", "no_kk", "head_nama", "desil", "pkh", "bpnt", "pbi_jk")
PEKON, KECAMATAN = "PEKON", "KECAMATAN"
_TEXT_COLUMNS = ("ID_KELUARGA", "NO_KK", "NIK", "NIK_GANDA", "KODE_DESA")


@dataclass(frozen=True)
class WorklistFile:
    tier: str
    code: str  # kode desa (pekon) or kode kecamatan, dotted
    rows: int
    csv: Path
    xlsx: Path
    digest: str  # of the list and its workbook's making (`worklist_reuse.place_digest`)
    reused: bool = False  # the workbook was copied from an earlier run's identical list


def _programmes(frame: pd.DataFrame) -> pd.Series:
    parts = [frame[c].fillna(False).astype(bool).map({True: name, False: ""})
             for c, name in (("pkh", "PKH"), ("bpnt", "BPNT"), ("pbi_jk", "PBI-JK"))]
    joined = parts[0].str.cat(parts[1:], sep=",")
    return joined.str.replace(r",+", ",", regex=True).str.strip(",")


def reason_text(reasons: str | None) -> str | None:
    """`DUKCAPIL_MATI;PEKON_MATI` -> `Dukcapil: meninggal; data pekon: meninggal`."""
    if reasons is None or reasons != reasons or not str(reasons):
        return None
    return "; ".join(REASON_LABELS.get(code, code) for code in str(reasons).split(";") if code)


def _with_other_villages(flags: pd.DataFrame) -> pd.DataFrame:
    """Each flag that concerns a second village (kode_desa_lain: where a moved recipient lives now)
    once more, placed there: the officer of the list's village and the officer of the new one each
    check it in their own pekon worklist."""
    other = flags[flags["kode_desa_lain"].notna()].copy()
    other["kode_desa"] = other["kode_desa_lain"]
    other["kode_kecamatan"] = other["kode_desa_lain"].str.slice(0, 8)
    return pd.concat([flags, other], ignore_index=True) if len(other) else flags


_FLAG_RANK = {flag.code: rank for rank, flag in enumerate(FLAGS)}
_ORDER = ("subject_type", "subject_id", "household_id", "kode_desa", "reason", "evidence")


def _in_flag_order(flags: pd.DataFrame) -> pd.DataFrame:
    """The flags in one order whatever order the warehouse returned them in: by the flag's place in
    FLAGS, then subject, village, reason and evidence. A subject's flags are joined in this order,
    so the same flags always give the same list, byte for byte (`worklist_reuse` compares bytes)."""
    rank = flags["flag"].map(_FLAG_RANK).rename("_rank")
    return (flags.assign(_rank=rank).sort_values(["_rank", *_ORDER], na_position="last", kind="stable")
            .drop(columns="_rank"))


def worklist_rows(flags: pd.DataFrame, persons: pd.DataFrame, households: pd.DataFrame, tier: str) -> pd.DataFrame:
    """The worklist rows of one tier, for every place (KODE_DESA / kode_kecamatan kept for grouping)."""
    if tier == PEKON:
        todo = _with_other_villages(flags[flags["verval_status"] == UNVERIFIED])
    elif tier == KECAMATAN:
        todo = flags[flags["verval_tingkat"] == PEKON]
    else:
        raise ValueError(f"worklists are for tier PEKON or KECAMATAN, not {tier!r}")
    todo = _in_flag_order(todo)
    hh = households.set_index("household_id")
    hh_programmes = _programmes(households).set_axis(households["household_id"])
    pp = persons.set_index("person_id")
    is_person = todo["subject_type"] == "PERSON"
    person = pp.reindex(todo["subject_id"].where(is_person)).set_axis(todo.index)
    family = hh.reindex(todo["household_id"]).set_axis(todo.index)
    out = pd.DataFrame({
        "ID_KELUARGA": family["id_keluarga"],
        "NO_KK": family["no_kk"].where(family["no_kk"].notna(), person["no_kk"]),
        "NIK": person["nik"].where(is_person),
        "NAMA": person["nama"].where(is_person, family["head_nama"]),
        "HASIL": None,
        "NIK_GANDA": None,
        "TINGKAT": tier,
        "TANGGAL": None,
        "PETUGAS": None,
        "KODE_DESA": todo["kode_desa"],
        "CATATAN": None,
        "SUBJEK": is_person.map({True: "ART", False: "KELUARGA"}),
        "PERSON_ID": todo["subject_id"].where(is_person),
        "HOUSEHOLD_ID": todo["household_id"],
        "FLAG": todo["flag"],
        "KETERANGAN_FLAG": todo["flag"].map(lambda code: FLAG_LABELS.get(code, ("", ""))[0]),
        "ALASAN": todo["reason"],
        "KETERANGAN_ALASAN": todo["reason"].map(reason_text),
        "BUKTI": todo["evidence"].map(flag_evidence),
        "DESIL": family["desil"].astype("Int64"),
        "PROGRAM": hh_programmes.reindex(todo["household_id"]).set_axis(todo.index),
        "STATUS_VERVAL": todo["verval_status"].map(lambda s: VERVAL_STATUS_LABELS.get(s, s)),
        "HASIL_SEBELUMNYA": todo["verval_hasil"],
        "TINGKAT_SEBELUMNYA": todo["verval_tingkat"],
        "TANGGAL_SEBELUMNYA": pd.to_datetime(todo["verval_tanggal"]).dt.strftime("%d/%m/%Y"),  # as officers write it
        "kode_kecamatan": todo["kode_kecamatan"],
    })
    return one_row_per_subject(out).sort_values(["KODE_DESA", "HOUSEHOLD_ID", "SUBJEK", "PERSON_ID", "FLAG"],
                                                na_position="last", ignore_index=True)


# How a subject's several flags share one row: the codes and their words listed, evidence kept apart.
_JOINED = {"FLAG": ", ", "KETERANGAN_FLAG": "; ", "ALASAN": ", ", "KETERANGAN_ALASAN": "; ", "BUKTI": " | ",
           "STATUS_VERVAL": ", ",
           "HASIL_SEBELUMNYA": ", ", "TINGKAT_SEBELUMNYA": ", ", "TANGGAL_SEBELUMNYA": ", "}


def _text_or_none(value: object) -> str | None:
    return None if value is None or pd.isna(value) or not str(value) else str(value)


def _texts(values: pd.Series) -> pd.Series:
    """Each value as text (None for a missing or empty one), each distinct value converted once."""
    return by_distinct(values, lambda distinct: distinct.map(_text_or_none)).astype(object)


def _joined(texts: pd.Series, keys: pd.Series, sep: str) -> pd.Series:
    """Per subject (`keys`), its texts of one column, distinct, in row order, joined; a subject
    without any text is left out. One join per subject, no Python per value."""
    frame = pd.DataFrame({"key": keys.to_numpy(), "text": texts.to_numpy(dtype=object)}).dropna()
    return frame.drop_duplicates().groupby("key", sort=False)["text"].agg(sep.join)


def one_row_per_subject(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per person (ART) or family (KELUARGA) and place, with all its flags: an officer
    visits a person once and gives one HASIL, which answers each flag it concerns (a MENINGGAL
    confirms DEAD_RECIPIENT and leaves a DUPLICATE_RECORDS flag open).

    Most subjects carry one flag: only those with several are joined value by value (joining every
    subject in Python took 12 s of the worklists' 38 at 640,000 persons)."""
    if rows.empty:
        return rows
    subject = rows["PERSON_ID"].where(rows["SUBJEK"] == "ART", rows["HOUSEHOLD_ID"])
    key = (subject.fillna("").astype(str) + "|" + rows["SUBJEK"].astype(str) + "|"
           + rows["KODE_DESA"].fillna("").astype(str) + "|" + rows["kode_kecamatan"].fillna("").astype(str))
    key = key.rename("_subject")
    out = rows.groupby(key, sort=False).first()
    several = key.duplicated(keep=False).to_numpy()
    for column, sep in _JOINED.items():
        texts = _texts(rows[column])
        single = texts[~several].set_axis(key[~several])
        joined = _joined(texts[several], key[several], sep)
        texts = pd.concat([single, joined.astype(object)]).reindex(out.index).to_numpy(dtype=object)
        out[column] = pd.Series(texts, index=out.index)  # typed as the values say (text: pandas strings)
    return out.reset_index(drop=True)[list(rows.columns)]


def file_stem(tier: str, code: str, period: str) -> str:
    """`PEKON_1806012001_2026-11`: codes and the period only, never a name or an identifier."""
    return f"{tier}_{code.replace('.', '')}_{period}"


# Columns the officer fills in; every other column is locked context.
ANSWER_COLUMNS = ("HASIL", "NIK_GANDA", "TANGGAL", "PETUGAS", "CATATAN")
IDENTITY_COLUMNS = 4  # ID_KELUARGA, NO_KK, NIK, NAMA stay in view (frozen) while scrolling

PETUNJUK_STEPS = (
    "PETUNJUK PENGISIAN DAFTAR VERIFIKASI DAN VALIDASI (VERVAL)",
    "",
    "1. Setiap baris adalah satu orang (ART) atau satu keluarga (KELUARGA) yang perlu diperiksa. "
    "Kolom FLAG dan KETERANGAN_FLAG menjelaskan apa yang perlu diperiksa, ALASAN dan KETERANGAN_ALASAN "
    "mengapa; BUKTI menunjukkan sumber datanya (nama berkas dan nomor baris).",
    "2. Isi hanya kolom berwarna kuning: HASIL, NIK_GANDA (hanya untuk HASIL = GANDA), TANGGAL, PETUGAS, CATATAN. "
    "Kolom lain terkunci.",
    "3. HASIL: pilih dari daftar pilihan (lihat tabel di bawah). Baris yang dikembalikan tanpa HASIL ditolak "
    "dan tetap muncul di daftar bulan berikutnya.",
    "4. TANGGAL: tanggal pemeriksaan lapangan, format hari/bulan/tahun (contoh 15/11/2026).",
    "5. NIK_GANDA: 16 digit NIK dari data lain milik orang yang sama. Kolom ini berformat teks: "
    "ketik semua 16 digit, jangan diubah menjadi angka.",
    "6. PETUGAS: nama pendamping atau petugas yang memeriksa.",
    "7. Simpan berkas dengan nama yang sama (format .xlsx) dan kirim kembali ke operator data Dinas Sosial, "
    "yang menaruhnya di folder verval. Keputusan berlaku pada pemrosesan malam berikutnya.",
    "",
)


def worklist_sheet() -> AnswerSheet:
    """The worklist workbook: the verval columns to fill, the context locked, the PETUNJUK sheet."""
    return AnswerSheet(
        sheet_name="VERVAL", columns=WORKLIST_COLUMNS, answer_columns=ANSWER_COLUMNS, text_columns=_TEXT_COLUMNS,
        date_columns=("TANGGAL",), frozen_columns=IDENTITY_COLUMNS,
        wide_columns=("BUKTI", "NAMA", "CATATAN", "KETERANGAN_FLAG", "KETERANGAN_ALASAN"),
        choices={"HASIL": Choice(tuple(VERVAL_RESULTS), "Pilih hasil pemeriksaan dari daftar (lihat lembar PETUNJUK).",
                                 "Pilih salah satu HASIL dari daftar."),
                 "TINGKAT": Choice(tuple(VERVAL_TIERS))},
        exact_lengths={"NIK_GANDA": (16, "16 digit NIK data lain milik orang yang sama (hanya untuk GANDA).")},
        guide_steps=PETUNJUK_STEPS,
        guide_tables=(
            GuideTable(("HASIL", "ARTI"), tuple((code, HASIL_LABELS[code]) for code in VERVAL_RESULTS)),
            GuideTable(("FLAG", "NAMA", "YANG DIPERIKSA", "SUBJEK", "HASIL YANG MENJAWAB"),
                       tuple((flag.code, *FLAG_LABELS[flag.code], SUBJECT_LABELS[FLAG_SUBJECT[flag.subject]],
                              ", ".join(flag.verval)) for flag in FLAGS)),
        ),
    )


# Fewer files than this are written in turn: starting a process (Python, pandas) costs about 2 s.
_PARALLEL_FROM = 40
INDEX_COLUMNS = ("TINGKAT", "KODE_WILAYAH", "NAMA_WILAYAH", "JUMLAH_BARIS", "BERKAS_CSV", "BERKAS_XLSX")


def _write_workbook(part: pd.DataFrame, xlsx_path: Path) -> None:
    """One place's answer workbook."""
    write_answer_workbook(part, xlsx_path, worklist_sheet())


def _write_workbooks(jobs: list[tuple[pd.DataFrame, Path]], workers: int) -> None:
    """Every place's workbook, on `workers` processes when there are enough files to repay starting
    them (workbooks are written in Python: threads would take turns). Spawned, not forked: the
    pipeline's process holds threads and database connections a fork would copy mid-use."""
    if workers <= 1 or len(jobs) < _PARALLEL_FROM:
        for job in jobs:
            _write_workbook(*job)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        # Biggest places first, so no process is left alone with a big one at the end.
        ordered = sorted(jobs, key=lambda job: -len(job[0]))
        list(pool.map(_write_workbook, *zip(*ordered, strict=True), chunksize=4))


def write_worklists(flags: pd.DataFrame, persons: pd.DataFrame, households: pd.DataFrame, out_dir: Path,
                    period: str, villages: pd.DataFrame, workers: int = 1,
                    earlier: EarlierLists | None = None) -> list[WorklistFile]:
    """Write every non-empty pekon and kecamatan worklist of the period under out_dir, plus an
    index (INDEX_<period>.csv: tier, place code and name, rows, file names). Only places in
    `villages` (the deployment's scope) get a list. `workers`: processes writing workbooks side by
    side. `earlier`: the last run's lists (`worklist_reuse`): a place whose list is the same gets
    that run's workbook copied instead of written. Each file's `digest` is what the next run compares."""
    out_dir.mkdir(parents=True, exist_ok=True)
    salt = workbook_salt()
    written: list[WorklistFile] = []
    to_write: list[tuple[pd.DataFrame, Path]] = []
    in_scope_desa = set(villages["kode_desa"])
    in_scope_kec = set(villages["kode_kecamatan"])
    unknown_desa: set[str] = set()
    for tier, key, scope in ((PEKON, "KODE_DESA", in_scope_desa), (KECAMATAN, "kode_kecamatan", in_scope_kec)):
        rows = worklist_rows(flags, persons, households, tier)
        place = rows[key]
        if tier == PEKON:  # village unknown: the kecamatan's "desa tidak diketahui" list (KODE_DESA empty)
            placeless = rows["KODE_DESA"].isna() & rows["kode_kecamatan"].isin(in_scope_kec)
            place = place.where(~placeless, rows["kode_kecamatan"])
            unknown_desa = set(place[placeless])
            scope = scope | unknown_desa
        listed = rows[place.isin(scope)]
        inert = inert_text(listed[list(WORKLIST_COLUMNS)])  # escaped once, cut into places below
        for code, index in sorted(listed.groupby(place[place.isin(scope)]).groups.items()):
            stem = file_stem(tier, str(code), period)
            part = listed.loc[index, list(WORKLIST_COLUMNS)].reset_index(drop=True)
            csv_path, xlsx_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.xlsx"
            write_staff_csv(inert.loc[index], csv_path, inert=True)
            digest = place_digest(csv_path, salt)
            same = earlier.workbook_for(stem, digest) if earlier is not None else None
            if same is not None:
                copy_workbook(same, xlsx_path)
            else:
                to_write.append((part, xlsx_path))
            written.append(WorklistFile(tier, str(code), len(part), csv_path, xlsx_path, digest, reused=same is not None))
    _write_workbooks(to_write, workers)
    names = {**dict(zip(villages["kode_desa"], villages["village_name"], strict=True)),
             **dict(zip(villages["kode_kecamatan"], villages["kecamatan_name"], strict=False))}
    def place_name(w: WorklistFile) -> str:
        if w.tier == PEKON and w.code in unknown_desa:
            return f"{names.get(w.code, w.code)} (desa tidak diketahui)"
        return names.get(w.code, "")

    index = pd.DataFrame([{"TINGKAT": w.tier, "KODE_WILAYAH": w.code, "NAMA_WILAYAH": place_name(w),
                           "JUMLAH_BARIS": w.rows, "BERKAS_CSV": w.csv.name, "BERKAS_XLSX": w.xlsx.name}
                          for w in written], columns=list(INDEX_COLUMNS))
    write_staff_csv(index, out_dir / f"INDEX_{period}.csv", encoding="utf-8")
    return written
