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

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dtsen_pipeline.golden.flags import FLAGS, UNVERIFIED
from dtsen_pipeline.reports.staff_files import text_workbook, write_staff_csv
from dtsen_pipeline.schema import VERVAL_RESULTS

VERVAL_COLUMNS: tuple[str, ...] = (
    "ID_KELUARGA", "NO_KK", "NIK", "NAMA", "HASIL", "NIK_GANDA", "TINGKAT", "TANGGAL", "PETUGAS", "KODE_DESA",
    "CATATAN",
)
CONTEXT_COLUMNS: tuple[str, ...] = (
    "SUBJEK", "PERSON_ID", "HOUSEHOLD_ID", "FLAG", "ALASAN", "BUKTI", "DESIL", "PROGRAM", "STATUS_VERVAL",
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
        "ALASAN": todo["reason"],
        "BUKTI": todo["evidence"],
        "DESIL": family["desil"].astype("Int64"),
        "PROGRAM": hh_programmes.reindex(todo["household_id"]).set_axis(todo.index),
        "STATUS_VERVAL": todo["verval_status"],
        "HASIL_SEBELUMNYA": todo["verval_hasil"],
        "TINGKAT_SEBELUMNYA": todo["verval_tingkat"],
        "TANGGAL_SEBELUMNYA": pd.to_datetime(todo["verval_tanggal"]).dt.strftime("%Y-%m-%d"),
        "kode_kecamatan": todo["kode_kecamatan"],
    })
    return out.sort_values(["KODE_DESA", "HOUSEHOLD_ID", "SUBJEK", "PERSON_ID", "FLAG"], na_position="last",
                           ignore_index=True)


def file_stem(tier: str, code: str, period: str) -> str:
    """`PEKON_1806012001_2026-11`: codes and the period only, never a name or an identifier."""
    return f"{tier}_{code.replace('.', '')}_{period}"


def _write_xlsx(rows: pd.DataFrame, path: Path) -> None:
    workbook = text_workbook(path)
    text = workbook.add_format({"num_format": "@"})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    head = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    sheet = workbook.add_worksheet("VERVAL")
    columns = list(WORKLIST_COLUMNS)
    sheet.write_row(0, 0, columns, head)
    for c, name in enumerate(columns):
        fmt = date if name == "TANGGAL" else text if name in _TEXT_COLUMNS else None
        sheet.set_column(c, c, 18 if name not in ("BUKTI", "NAMA", "CATATAN") else 36, fmt)
    for r, values in enumerate(rows[columns].itertuples(index=False, name=None), start=1):
        for c, value in enumerate(values):
            if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
                continue
            if columns[c] in _TEXT_COLUMNS:
                sheet.write_string(r, c, str(value))  # 16-digit ids stay text (no Excel damage)
            else:
                sheet.write(r, c, value.item() if hasattr(value, "item") else value)
    last = max(len(rows), 1)
    hasil = columns.index("HASIL")
    sheet.data_validation(1, hasil, last, hasil, {"validate": "list", "source": list(VERVAL_RESULTS)})
    sheet.freeze_panes(1, 0)
    guide = workbook.add_worksheet("PETUNJUK")
    guide.write_row(0, 0, ["FLAG", "SUBJEK", "ARTI", "ALASAN", "HASIL YANG MENJAWAB"], head)
    for r, f in enumerate(FLAGS, start=1):
        guide.write_row(r, 0, [f.code, f.subject, f.meaning, "; ".join(x.code for x in f.reasons),
                               ", ".join(f"{k}={v}" for k, v in f.verval.items())])
    guide.set_column(0, 4, 40)
    workbook.close()


def write_worklists(flags: pd.DataFrame, persons: pd.DataFrame, households: pd.DataFrame, out_dir: Path,
                    period: str, villages: pd.DataFrame) -> list[WorklistFile]:
    """Write every non-empty pekon and kecamatan worklist of the period under out_dir, plus an
    index (INDEX_<period>.csv: tier, code, place name, rows). Only places in `villages` (the
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

    index = pd.DataFrame([{"tier": w.tier, "code": w.code, "name": place_name(w), "rows": w.rows,
                           "csv": w.csv.name, "xlsx": w.xlsx.name} for w in written],
                         columns=["tier", "code", "name", "rows", "csv", "xlsx"])
    write_staff_csv(index, out_dir / f"INDEX_{period}.csv", encoding="utf-8")
    return written
