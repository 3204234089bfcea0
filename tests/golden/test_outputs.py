"""What the nightly run hands the kabupaten: worklists, the summary report, golden flags, and
flag precision/recall against the generator's truth (the session's 3,000-person run)."""

import datetime
import re
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import openpyxl.utils
import pandas as pd
import pytest

from dtsen_pipeline.golden.flags import FLAG_CODES
from dtsen_pipeline.reports.worklists import WORKLIST_COLUMNS
from dtsen_pipeline.warehouse import read_table

pytestmark = pytest.mark.slow
SIXTEEN_DIGITS = re.compile(r"(?<![\d.])\d{16}(?!\d)")
FILE_NAME = re.compile(r"(PEKON_\d{10}|KECAMATAN_\d{6})_\d{4}-\d{2}\.(csv|xlsx)|INDEX_\d{4}-\d{2}\.csv")


@pytest.fixture(scope="module")
def worklist_dir(duckdb_run) -> Path:
    return duckdb_run.settings.artifacts_dir / "worklists" / duckdb_run.run_id


@pytest.fixture(scope="module")
def personal(engine) -> dict[str, set[str]]:
    persons = read_table(engine, "build", "person", ["nik", "no_kk", "nama", "tgl_lahir"])
    return {"nik": set(persons["nik"].dropna()), "kk": set(persons["no_kk"].dropna()),
            "names": {n for n in persons["nama"].dropna() if len(n) >= 8 and " " in n},
            "dates": {d.strftime(f) for d in persons["tgl_lahir"].dropna() for f in ("%Y-%m-%d", "%d-%m-%Y")}}


def test_golden_flag_and_id_tables_are_published(duckdb_run, engine):
    assert duckdb_run.success
    flags = read_table(engine, "golden", "flag")
    assert set(flags["flag"]) == set(FLAG_CODES)
    assert len(read_table(engine, "golden", "id_change")) == 0  # a first run changes no id
    registry = read_table(engine, "golden_state", "id_registry")
    persons = read_table(engine, "golden", "person", ["person_id"])
    assert set(persons["person_id"]) <= set(registry["id"]) and registry["id"].is_unique


def test_worklists_per_pekon_and_kecamatan_parse_back(duckdb_run, engine, worklist_dir):
    files = sorted(p.name for p in worklist_dir.iterdir())
    assert files and all(FILE_NAME.fullmatch(name) for name in files)
    flags = read_table(engine, "build", "flag")
    villages = set(read_table(engine, "reference", "village")["kode_desa"])
    todo = flags[(flags["verval_status"] == "UNVERIFIED") & flags["kode_desa"].isin(villages)]
    pekon = [p for p in worklist_dir.glob("PEKON_*.csv")]
    rows = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in pekon])
    assert list(rows.columns) == list(WORKLIST_COLUMNS)
    subjects = todo["subject_id"].where(todo["subject_type"] == "PERSON", todo["household_id"])
    assert len(rows) == subjects.nunique() < len(todo)  # one row per subject, with all its flags
    assert rows["FLAG"].str.split(", ").str.len().sum() == len(todo)
    assert (rows["TINGKAT"] == "PEKON").all() and (rows["HASIL"] == "").all()
    assert sorted(rows["KODE_DESA"].unique()) == sorted(todo["kode_desa"].unique())
    person_rows = rows[rows["SUBJEK"] == "ART"]
    assert person_rows["NIK"].str.fullmatch(r"\d{16}").mean() > 0.9  # text, never 1.806E+15
    kecamatan = list(worklist_dir.glob("KECAMATAN_*.csv"))
    assert kecamatan, "the sample has pekon decisions for the kecamatan to confirm"
    for path in kecamatan:
        part = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert (part["TINGKAT"] == "KECAMATAN").all() and (part["TINGKAT_SEBELUMNYA"] == "PEKON").all()


def test_xlsx_worklist_matches_its_csv_and_keeps_identifiers_as_text(worklist_dir):
    path = max(worklist_dir.glob("PEKON_*.xlsx"), key=lambda p: p.stat().st_size)
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    cells = list(sheet.iter_rows(values_only=True))
    csv = pd.read_csv(path.with_suffix(".csv"), dtype=str, keep_default_na=False)
    assert list(cells[0]) == list(WORKLIST_COLUMNS) and len(cells) - 1 == len(csv)
    nik_col = WORKLIST_COLUMNS.index("NIK")
    assert [c[nik_col] or "" for c in cells[1:]] == list(csv["NIK"])
    assert all(isinstance(c[nik_col], str) for c in cells[1:] if c[nik_col])


def test_a_returned_worklist_is_a_valid_verval_delivery(duckdb_run, worklist_dir, tmp_path):
    from dtsen_pipeline.ingest.feeds import load_feed_specs
    from tests.golden.verval_roundtrip import stage_verval_file

    path = max(worklist_dir.glob("PEKON_*.csv"), key=lambda p: p.stat().st_size)
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows["HASIL"] = "LAYAK"
    rows["TANGGAL"] = "2026-11-20"
    rows["PETUGAS"] = "PS-180601-001"
    landing = tmp_path / "landing"
    (landing / "verval").mkdir(parents=True)
    returned = landing / "verval" / path.name
    rows.to_csv(returned, index=False, encoding="utf-8-sig")
    staged, quarantined = stage_verval_file(landing, returned, load_feed_specs()["verval"])
    assert quarantined == 0 and len(staged) == len(rows)
    assert set(staged["hasil"]) == {"LAYAK"} and set(staged["tingkat"]) == {"PEKON"}
    assert (staged["nik"].fillna("") == rows["NIK"].to_numpy()).all()


def test_file_names_worklist_index_and_report_carry_no_personal_data(duckdb_run, worklist_dir, personal):
    names = [p.name for p in worklist_dir.iterdir()]
    report_dir = duckdb_run.settings.artifacts_dir / "reports" / duckdb_run.run_id
    (report,) = list(report_dir.glob("*.html"))
    assert re.fullmatch(r"RINGKASAN_1806_\d{4}-\d{2}\.html", report.name)
    index = next(worklist_dir.glob("INDEX_*.csv")).read_text(encoding="utf-8")
    for text in [" ".join(names), index, report.read_text(encoding="utf-8")]:
        assert not SIXTEEN_DIGITS.search(text)
        upper = text.upper()
        assert not [n for n in personal["names"] if n.upper() in upper]
        assert not [d for d in personal["dates"] if d in text]


def test_report_is_self_contained_with_charts(duckdb_run):
    report_dir = duckdb_run.settings.artifacts_dir / "reports" / duckdb_run.run_id
    html = next(report_dir.glob("*.html")).read_text(encoding="utf-8")
    assert html.count("<svg") == 4 and "<script" not in html.lower()
    assert not re.search(r"(src|href)\s*=|https?://|@import|url\(", html, re.IGNORECASE)
    for heading in ("Flag per kecamatan", "Sebaran desil", "Program dan kelayakan", "Kemajuan verifikasi"):
        assert heading in html
    assert len(re.findall(r"<rect ", html)) > 30
    for svg in re.findall(r"<svg .*?</svg>", html, re.DOTALL):  # each chart is well-formed and fits its box
        root = ElementTree.fromstring(svg)
        width, height = float(root.get("width")), float(root.get("height"))
        for element in root.iter():
            if element.get("x") is not None:
                assert 0 <= float(element.get("x")) + float(element.get("width", 0)) <= width
                assert 0 <= float(element.get("y")) <= height


def test_flags_score_well_against_the_generators_truth(duckdb_run, engine):
    scores = read_table(engine, "evaluation", "flag")
    scores = scores[scores["run_id"] == duckdb_run.run_id].set_index(["level", "flag"])
    assert len(scores) == 13
    for key in [("household", "flag_inclusion_candidate"), ("household", "flag_exclusion_candidate"),
                ("household", "flag_missing_from_dtsen")]:
        assert scores.loc[key, "precision"] >= 0.9 and scores.loc[key, "recall"] >= 0.9, key
    for key, row in scores.iterrows():
        if row["truth"] >= 5:
            assert row["precision"] >= 0.5 and row["recall"] >= 0.5, (key, row["precision"], row["recall"])


def test_the_workbook_is_hard_to_fill_in_wrong(worklist_dir):
    from dtsen_pipeline.reports.worklists import ANSWER_COLUMNS

    path = max(worklist_dir.glob("PEKON_*.xlsx"), key=lambda p: p.stat().st_size)
    book = openpyxl.load_workbook(path)
    sheet = book["VERVAL"]
    header = [c.value for c in sheet[1]]
    col = {name: openpyxl.utils.get_column_letter(i + 1) for i, name in enumerate(header)}
    row = 2
    for name in ("ID_KELUARGA", "NO_KK", "NIK", "NIK_GANDA", "KODE_DESA"):
        assert sheet[f"{col[name]}{row}"].number_format == "@", name  # identifiers are text
    assert sheet[f"{col['TANGGAL']}{row}"].number_format == "dd/mm/yyyy"
    for name in header:
        assert sheet[f"{col[name]}{row}"].protection.locked == (name not in ANSWER_COLUMNS), name
    assert sheet.protection.sheet and sheet.freeze_panes == "E2" and sheet.auto_filter.ref
    rules = {str(v.sqref).split(":")[0].rstrip("0123456789"): v for v in sheet.data_validations.dataValidation}
    assert rules[col["HASIL"]].type == "list" and "GANDA" in rules[col["HASIL"]].formula1
    assert rules[col["TINGKAT"]].type == "list" and rules[col["TANGGAL"]].type == "date"
    assert rules[col["NIK_GANDA"]].type == "textLength" and rules[col["NIK_GANDA"]].formula1 == "16"
    assert rules[col["HASIL"]].error and rules[col["TANGGAL"]].prompt  # Indonesian help on entry
    guide = " ".join(str(c.value) for r in book["PETUNJUK"].iter_rows() for c in r if c.value)
    for words in ("Isi hanya kolom", "hari/bulan/tahun", "kirim kembali", "ditolak", "Data ganda"):
        assert words in guide
    assert "the person" not in guide and "exclusion-error candidate" not in guide  # no English glossary left


def test_a_workbook_filled_in_as_excel_saves_it_is_a_valid_verval_delivery(worklist_dir, tmp_path):
    """The officer picks HASIL from the list and types a date: Excel stores a date cell."""
    from dtsen_pipeline.ingest.feeds import load_feed_specs
    from tests.golden.verval_roundtrip import stage_verval_file

    path = max(worklist_dir.glob("PEKON_*.xlsx"), key=lambda p: p.stat().st_size)
    book = openpyxl.load_workbook(path)
    sheet = book["VERVAL"]
    header = [c.value for c in sheet[1]]
    rows = sheet.max_row - 1
    for r in range(2, sheet.max_row + 1):
        sheet.cell(r, header.index("HASIL") + 1, "TIDAK_DITEMUKAN")
        sheet.cell(r, header.index("TANGGAL") + 1, datetime.datetime(2026, 11, 20))
        sheet.cell(r, header.index("PETUGAS") + 1, "PS-180601-001")
    landing = tmp_path / "landing"
    (landing / "verval").mkdir(parents=True)
    returned = landing / "verval" / path.name
    book.save(returned)
    staged, quarantined = stage_verval_file(landing, returned, load_feed_specs()["verval"])
    assert quarantined == 0 and len(staged) == rows
    assert set(staged["hasil"]) == {"TIDAK_DITEMUKAN"}
    assert set(pd.to_datetime(staged["tanggal"]).dt.date) == {datetime.date(2026, 11, 20)}


@pytest.fixture(scope="module")
def review_workbook(duckdb_run) -> Path:
    folder = duckdb_run.settings.artifacts_dir / "linkage" / duckdb_run.run_id / "review"
    return max(folder.glob("review_ganda_*.xlsx"), key=lambda p: p.stat().st_size)


def test_the_review_workbook_is_hard_to_fill_in_wrong(review_workbook):
    from dtsen_pipeline.linkage.review import ANSWER_COLUMNS

    book = openpyxl.load_workbook(review_workbook)
    assert book.sheetnames == ["PERIKSA_GANDA", "PETUNJUK"]
    sheet = book["PERIKSA_GANDA"]
    header = [c.value for c in sheet[1]]
    col = {name: openpyxl.utils.get_column_letter(i + 1) for i, name in enumerate(header)}
    for name in ("ID_PASANGAN", "KODE_KECAMATAN", "NIK_A_SAMAR", "NIK_B_SAMAR", "NIK_BEDA_DI_DIGIT"):
        assert sheet[f"{col[name]}2"].number_format == "@", name
    assert sheet[f"{col['TANGGAL']}2"].number_format == "dd/mm/yyyy"
    for name in header:
        assert sheet[f"{col[name]}2"].protection.locked == (name not in ANSWER_COLUMNS), name
    assert sheet.protection.sheet and sheet.freeze_panes == "C2" and sheet.auto_filter.ref
    rules = {str(v.sqref).split(":")[0].rstrip("0123456789"): v for v in sheet.data_validations.dataValidation}
    assert rules[col["HASIL"]].type == "list" and rules[col["HASIL"]].formula1 == '"GANDA,BUKAN_GANDA"'
    assert rules[col["TINGKAT"]].type == "list" and rules[col["TANGGAL"]].type == "date"
    guide = " ".join(str(c.value) for r in book["PETUNJUK"].iter_rows() for c in r if c.value)
    for words in ("PRIORITAS", "NIK_BEDA_DI_DIGIT", "hari/bulan/tahun", "kirim kembali", "BUKAN_GANDA",
                  "mirip, tetapi NIK berbeda"):
        assert words in guide


def test_a_filled_review_workbook_is_a_valid_verval_delivery(review_workbook, tmp_path):
    """Decided pairs come back through the verval feed with their pair id; undecided rows wait."""
    from dtsen_pipeline.ingest.feeds import load_feed_specs
    from tests.golden.verval_roundtrip import stage_verval_file

    book = openpyxl.load_workbook(review_workbook)
    sheet = book["PERIKSA_GANDA"]
    header = [c.value for c in sheet[1]]
    decided = []
    for r in range(2, min(sheet.max_row, 6) + 1):  # the first pairs decided, the rest left for later
        sheet.cell(r, header.index("HASIL") + 1, "BUKAN_GANDA")
        sheet.cell(r, header.index("TINGKAT") + 1, "KABUPATEN")
        sheet.cell(r, header.index("TANGGAL") + 1, datetime.datetime(2026, 11, 20))
        decided.append(sheet.cell(r, header.index("ID_PASANGAN") + 1).value)
    landing = tmp_path / "landing"
    (landing / "verval").mkdir(parents=True)
    returned = landing / "verval" / review_workbook.name
    book.save(returned)
    staged, _ = stage_verval_file(landing, returned, load_feed_specs()["verval"])
    assert sorted(staged["id_pasangan"]) == sorted(decided) and set(staged["hasil"]) == {"BUKAN_GANDA"}
