"""Every staff-facing file a run writes is in Bahasa Indonesia (#15): the worklists and their
index, the duplicate-review files and the summary report, read back cell by cell and text node by
text node. No English word; a code (DUPLICATE_RECORDS, UNCERTAIN, ...) only in a row that also
carries its Indonesian label from the catalogue."""

import re
from pathlib import Path

import pytest

from dtsen_pipeline.golden.flags import FLAGS, VERVAL_STATUSES
from dtsen_pipeline.reports.labels import (
    FLAG_LABELS,
    REASON_LABELS,
    REVIEW_REASON_LABELS,
    VERVAL_STATUS_LABELS,
)
from tests.reports.staff_text import csv_units, english_words, html_units, xlsx_units

pytestmark = pytest.mark.slow

# Each code staff may meet, with the Indonesian label that must stand beside it.
CODE_LABELS = {**{code: label for code, (label, _) in FLAG_LABELS.items()}, **REASON_LABELS,
               **REVIEW_REASON_LABELS, **VERVAL_STATUS_LABELS}
UPPER_TOKEN = re.compile(r"\b[A-Z][A-Z0-9_]+\b")


def test_the_catalogue_covers_every_code():
    assert {f.code for f in FLAGS} <= set(FLAG_LABELS)
    assert {r.code for f in FLAGS for r in f.reasons} <= set(REASON_LABELS)
    assert set(VERVAL_STATUSES) <= set(VERVAL_STATUS_LABELS)
    assert all(not english_words(label) for label in CODE_LABELS.values())


def test_the_scanner_finds_english():
    """The check can fail: an English sentence, and a code without its label, are caught."""
    assert english_words("Flag per kecamatan: persons listed twice in DTSEN") == ["persons", "listed", "twice", "in"]
    assert english_words("desil=7; desil_record=dtsen:...; BPNT ceiling=5") == ["record", "ceiling"]
    assert english_words("Data ganda DUPLICATE_RECORDS; R2BE83C760152; No. KK") == []
    assert _unlabelled("DUPLICATE_RECORDS | UNVERIFIED") == ["DUPLICATE_RECORDS", "UNVERIFIED"]
    assert _unlabelled("DUPLICATE_RECORDS Data ganda") == []


def test_every_kind_of_flag_evidence_reads_in_indonesian():
    from dtsen_pipeline.reports.labels import flag_evidence

    evidence = ("desil=7; desil_record=dtsen:dtsen/DTSEN_1806_202611.csv#6548; BPNT ceiling=5; "
                "lists=bansos:bansos/BPNT_2026-11.csv#581; programmes=BPNT,PKH; reported_by=pekon:pekon/p.csv#60 | "
                "living_members=3; found_in=dukcapil:dukcapil/D.csv#6740,pekon:pekon/p.csv#2 | "
                "kept=dukcapil:dukcapil/D.csv#6756; other_kk=dtsen:dtsen/DTSEN_1806_202611.csv#10225 | "
                "dtsen=dtsen:dtsen/DTSEN_1806_202611.csv#102,dtsen:dtsen/DTSEN_1806_202611.csv#5 | programmes=none")
    text = flag_evidence(evidence)
    assert english_words(text) == [] and "=" not in text and "#" not in text
    assert "desil 7; desil dari DTSEN_1806_202611.csv baris 6548; batas desil BPNT: 5" in text
    assert "tidak menerima program apa pun" in text and "3 anggota keluarga hidup" in text
    assert english_words(flag_evidence("found_in=dukcapil:d/D.csv#1") or "") == []
    assert english_words(flag_evidence("unheard_of=dukcapil:d/D.csv#1") or "")  # a new key shows up


def _unlabelled(row_text: str) -> list[str]:
    return [c for c in UPPER_TOKEN.findall(row_text) if c in CODE_LABELS and CODE_LABELS[c] not in row_text]


def _staff_files(duckdb_run) -> list[Path]:
    artifacts, run = duckdb_run.settings.artifacts_dir, duckdb_run.run_id
    files = [*sorted((artifacts / "worklists" / run).glob("*")), *sorted((artifacts / "linkage" / run / "review").glob("*")),
             *sorted((artifacts / "reports" / run).glob("*.html"))]
    kinds = {p.suffix for p in files}
    assert {".csv", ".xlsx", ".html"} <= kinds, kinds
    assert any(p.name.startswith("review_ganda_") for p in files) and any(p.name.startswith("INDEX_") for p in files)
    return files


def _rows(path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """Text units and row texts (a row: every unit of one sheet row, CSV line or table row)."""
    if path.suffix == ".html":
        return html_units(path)
    units = xlsx_units(path) if path.suffix == ".xlsx" else csv_units(path)
    rows: dict[str, list[str]] = {}
    for where, text in units:
        if path.suffix == ".xlsx":
            sheet_and_cell = where.split("!")
            key = sheet_and_cell[1] + "!" + re.sub(r"^[A-Z]+", "", sheet_and_cell[2])
        else:
            key = where.rsplit(":", 1)[0]
        rows.setdefault(key, []).append(text)
    return units, [" ".join(parts) for parts in rows.values()]


def test_no_english_in_any_staff_file(duckdb_run):
    english, unlabelled = [], []
    for path in _staff_files(duckdb_run):
        units, rows = _rows(path)
        english += [(where, words) for where, text in units if (words := english_words(text))]
        unlabelled += [(path.name, codes) for row in rows if (codes := _unlabelled(row))]
    assert not english, english[:10]
    assert not unlabelled, unlabelled[:10]
