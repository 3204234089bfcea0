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

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dtsen_pipeline.golden.flags import FLAGS, UNVERIFIED
from dtsen_pipeline.reports.labels import (
    FLAG_LABELS,
    HASIL_LABELS,
    REASON_LABELS,
    SUBJECT_LABELS,
    VERVAL_STATUS_LABELS,
    flag_evidence,
)
from dtsen_pipeline.reports.staff_files import text_workbook, write_staff_csv
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
PEKON, KECAMATAN = "PEKON", "KECAMATAN"
_TEXT_COLUMNS = ("ID_KELUARGA", "NO_KK", "NIK", "NIK_GANDA", "KODE_DESA")


@dataclass(frozen=True)
class WorklistFile:
    tier: str
    code: str  # kode desa (pekon) or kode kecamatan, dotted
    rows: int
    csv: Path
    xlsx: Path


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


def worklist_rows(flags: pd.DataFrame, persons: pd.DataFrame, households: pd.DataFrame, tier: str) -> pd.DataFrame:
    """The worklist rows of one tier, for every place (KODE_DESA / kode_kecamatan kept for grouping)."""
    if tier == PEKON:
        todo = flags[flags["verval_status"] == UNVERIFIED]
    elif tier == KECAMATAN:
        todo = flags[flags["verval_tingkat"] == PEKON]
    else:
        raise ValueError(f"worklists are for tier PEKON or KECAMATAN, not {tier!r}")
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
        "TANGGAL_SEBELUMNYA": pd.to_datetime(todo["verval_tanggal"]).dt.strftime("%Y-%m-%d"),
        "kode_kecamatan": todo["kode_kecamatan"],
    })
    return one_row_per_subject(out).sort_values(["KODE_DESA", "HOUSEHOLD_ID", "SUBJEK", "PERSON_ID", "FLAG"],
                                                na_position="last", ignore_index=True)


# How a subject's several flags share one row: the codes and their words listed, evidence kept apart.
_JOINED = {"FLAG": ", ", "KETERANGAN_FLAG": "; ", "ALASAN": ", ", "KETERANGAN_ALASAN": "; ", "BUKTI": " | ",
           "STATUS_VERVAL": ", ",
           "HASIL_SEBELUMNYA": ", ", "TINGKAT_SEBELUMNYA": ", ", "TANGGAL_SEBELUMNYA": ", "}


def one_row_per_subject(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per person (ART) or family (KELUARGA) and place, with all its flags: an officer
    visits a person once and gives one HASIL, which answers each flag it concerns (a MENINGGAL
    confirms DEAD_RECIPIENT and leaves a DUPLICATE_RECORDS flag open)."""
    if rows.empty:
        return rows
    subject = rows["PERSON_ID"].where(rows["SUBJEK"] == "ART", rows["HOUSEHOLD_ID"])
    key = (subject.fillna("").astype(str) + "|" + rows["SUBJEK"].astype(str) + "|"
           + rows["KODE_DESA"].fillna("").astype(str) + "|" + rows["kode_kecamatan"].fillna("").astype(str))
    grouped = rows.groupby(key.rename("_subject"), sort=False)

    def joined(values: pd.Series, sep: str) -> str | None:
        parts = list(dict.fromkeys(str(v) for v in values if v is not None and not pd.isna(v) and str(v)))
        return sep.join(parts) or None

    out = grouped.first()
    for column, sep in _JOINED.items():
        out[column] = grouped[column].agg(lambda values, sep=sep: joined(values, sep))
    return out.reset_index(drop=True)[list(rows.columns)]


def file_stem(tier: str, code: str, period: str) -> str:
    """`PEKON_1806012001_2026-11`: codes and the period only, never a name or an identifier."""
    return f"{tier}_{code.replace('.', '')}_{period}"


# Columns the officer fills in; every other column is locked context.
ANSWER_COLUMNS = ("HASIL", "NIK_GANDA", "TANGGAL", "PETUGAS", "CATATAN")
IDENTITY_COLUMNS = 4  # ID_KELUARGA, NO_KK, NIK, NAMA stay in view (frozen) while scrolling
DATE_FORMAT = "dd/mm/yyyy"
EARLIEST_DATE = dt.date(2020, 1, 1)

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


def _write_xlsx(rows: pd.DataFrame, path: Path) -> None:
    """A workbook that is hard to fill in wrong: identifiers stored and shown as text, dates as
    dates with a check, drop-downs for every coded answer, the context locked, header and
    identity columns frozen, filters, and a PETUNJUK sheet in Bahasa Indonesia."""
    workbook = text_workbook(path)
    head = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "locked": True})
    answer_head = workbook.add_format({"bold": True, "bg_color": "#FFE699", "border": 1, "locked": True})
    answer = {"locked": False, "bg_color": "#FFF2CC"}
    text, answer_text = workbook.add_format({"num_format": "@"}), workbook.add_format({"num_format": "@", **answer})
    answer_date, answer_other = workbook.add_format({"num_format": DATE_FORMAT, **answer}), workbook.add_format(answer)

    def column_format(name: str):
        """The format of a column and of each of its cells, empty ones included (they keep it when typed into)."""
        if name == "TANGGAL":
            return answer_date
        if name == "NIK_GANDA":
            return answer_text
        if name in ANSWER_COLUMNS:
            return answer_other
        return text if name in _TEXT_COLUMNS else None

    sheet = workbook.add_worksheet("VERVAL")
    columns = list(WORKLIST_COLUMNS)
    formats = [column_format(name) for name in columns]
    for c, name in enumerate(columns):
        sheet.write_string(0, c, name, answer_head if name in ANSWER_COLUMNS else head)
        width = 40 if name in ("BUKTI", "NAMA", "CATATAN", "KETERANGAN_FLAG") else 18
        sheet.set_column(c, c, width, formats[c])
    last = max(len(rows), 1)
    for r, values in enumerate(rows[columns].itertuples(index=False, name=None), start=1):
        for c, value in enumerate(values):
            if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
                if formats[c] is not None:
                    sheet.write_blank(r, c, None, formats[c])
            elif columns[c] in _TEXT_COLUMNS or isinstance(value, str):
                sheet.write_string(r, c, str(value), formats[c])  # 16-digit ids stay text
            else:
                sheet.write(r, c, value.item() if hasattr(value, "item") else value, formats[c])
    _validations(sheet, columns, last)
    sheet.freeze_panes(1, IDENTITY_COLUMNS)
    sheet.autofilter(0, 0, last, len(columns) - 1)
    sheet.protect("", {"autofilter": True, "sort": True, "format_columns": True, "format_rows": True})
    _petunjuk(workbook, head)
    workbook.close()


def _validations(sheet, columns: list[str], last: int) -> None:
    def column(name: str) -> int:
        return columns.index(name)

    hasil = column("HASIL")
    sheet.data_validation(1, hasil, last, hasil, {
        "validate": "list", "source": list(VERVAL_RESULTS),
        "input_title": "HASIL", "input_message": "Pilih hasil pemeriksaan dari daftar (lihat lembar PETUNJUK).",
        "error_title": "HASIL tidak dikenal", "error_message": "Pilih salah satu HASIL dari daftar."})
    tingkat = column("TINGKAT")
    sheet.data_validation(1, tingkat, last, tingkat, {"validate": "list", "source": list(VERVAL_TIERS)})
    tanggal = column("TANGGAL")
    sheet.data_validation(1, tanggal, last, tanggal, {
        "validate": "date", "criteria": "between", "minimum": EARLIEST_DATE,
        "maximum": dt.date(dt.date.today().year + 1, 12, 31),
        "input_title": "TANGGAL", "input_message": "Tanggal pemeriksaan, hari/bulan/tahun (contoh 15/11/2026).",
        "error_title": "Tanggal tidak sah", "error_message": "Isi tanggal pemeriksaan, hari/bulan/tahun."})
    nik = column("NIK_GANDA")
    sheet.data_validation(1, nik, last, nik, {
        "validate": "length", "criteria": "==", "value": 16,
        "input_title": "NIK_GANDA", "input_message": "16 digit NIK data lain milik orang yang sama (hanya untuk GANDA).",
        "error_title": "NIK harus 16 digit", "error_message": "NIK terdiri dari 16 digit angka."})


def _petunjuk(workbook, head) -> None:
    guide = workbook.add_worksheet("PETUNJUK")
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    bold = workbook.add_format({"bold": True, "font_size": 13})
    row = 0
    for line in PETUNJUK_STEPS:
        guide.write_string(row, 0, line, bold if row == 0 else wrap)
        row += 1
    guide.write_row(row, 0, ["HASIL", "ARTI"], head)
    for code in VERVAL_RESULTS:
        row += 1
        guide.write_row(row, 0, [code, HASIL_LABELS[code]], wrap)
    row += 2
    guide.write_row(row, 0, ["FLAG", "NAMA", "YANG DIPERIKSA", "SUBJEK", "HASIL YANG MENJAWAB"], head)
    for flag in FLAGS:
        row += 1
        label, explanation = FLAG_LABELS[flag.code]
        subject = "ART" if flag.subject == "PERSON" else "KELUARGA"
        guide.write_row(row, 0, [flag.code, label, explanation, SUBJECT_LABELS[subject],
                                 ", ".join(flag.verval)], wrap)
    guide.set_column(0, 0, 28)
    guide.set_column(1, 1, 45)
    guide.set_column(2, 2, 60)
    guide.set_column(3, 4, 30)


INDEX_COLUMNS = ("TINGKAT", "KODE_WILAYAH", "NAMA_WILAYAH", "JUMLAH_BARIS", "BERKAS_CSV", "BERKAS_XLSX")


def write_worklists(flags: pd.DataFrame, persons: pd.DataFrame, households: pd.DataFrame, out_dir: Path,
                    period: str, villages: pd.DataFrame) -> list[WorklistFile]:
    """Write every non-empty pekon and kecamatan worklist of the period under out_dir, plus an
    index (INDEX_<period>.csv: tier, place code and name, rows, file names). Only places in `villages` (the
    deployment's scope) get a list."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[WorklistFile] = []
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
        for code, part in rows[place.isin(scope)].groupby(place[place.isin(scope)], sort=True):
            stem = file_stem(tier, str(code), period)
            part = part[list(WORKLIST_COLUMNS)].reset_index(drop=True)
            csv_path, xlsx_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.xlsx"
            write_staff_csv(part, csv_path)
            _write_xlsx(part, xlsx_path)
            written.append(WorklistFile(tier, str(code), len(part), csv_path, xlsx_path))
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
