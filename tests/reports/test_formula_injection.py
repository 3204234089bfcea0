"""No staff file runs what an agency feed planted (#15 item 6): names and addresses such as
`=HYPERLINK(...)`, `+cmd|' /C calc'!A0` or `@SUM(1+1)` go through a whole nightly run and every
worklist, review file and index is read back: no workbook cell is a formula or a link, and no
CSV cell starts with a formula character."""

import csv
from pathlib import Path

import openpyxl
import pytest

from dtsen_pipeline.reports.staff_files import FORMULA_LEADERS, escape_cell, inert_text
from tests.support import run_nightly, sample_deployment

PAYLOADS = ('=HYPERLINK("http://evil.example/x", "KLIK")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3+cmd|x")


def _plant(landing: Path) -> int:
    """Every third well-formed pekon row gets a payload as its name and its address; returns rows planted."""
    planted = 0
    for path in sorted((landing / "pekon").glob("*.csv")):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            continue  # a sample file in another encoding stays as it is
        header = text.splitlines()[0] if text.strip() else ""
        delimiter = ";" if header.count(";") > header.count(",") else ","
        rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
        if not rows or not {"nama", "alamat"} <= set(rows[0]):
            continue  # the sample's damaged files (empty, other headers) stay as they are
        name, address = rows[0].index("nama"), rows[0].index("alamat")
        for i, row in enumerate(rows[1:]):
            if i % 3 == 0 and len(row) == len(rows[0]):
                row[name] = row[address] = PAYLOADS[planted % len(PAYLOADS)]
                planted += 1
        with path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, delimiter=delimiter).writerows(rows)
    return planted


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("planted")
    landing, settings, instance = sample_deployment(tmp, persons=1500, seed=23)
    assert _plant(landing) > 50
    run_id, success = run_nightly(settings, instance)
    assert success
    return settings.artifacts_dir


def _staff_files(artifacts: Path, suffix: str) -> list[Path]:
    """Worklists, their index and the duplicate-review files of every run."""
    return sorted(p for folder in ("worklists", "linkage") for p in (artifacts / folder).rglob(f"*{suffix}")
                  if folder == "worklists" or p.parent.name == "review")


def test_no_workbook_cell_is_a_formula_or_a_link(planted_run):
    workbooks = _staff_files(planted_run, ".xlsx")
    assert any("review_ganda" in p.name for p in workbooks) and any(p.name.startswith("PEKON_") for p in workbooks)
    reached = 0
    for path in workbooks:
        book = openpyxl.load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, cell.coordinate)
                    assert cell.hyperlink is None, (path.name, cell.coordinate)
                    reached += isinstance(cell.value, str) and any(p in cell.value for p in PAYLOADS)
    assert reached > 0  # the planted values did reach the staff workbooks, as text


def test_no_csv_cell_starts_with_a_formula_character(planted_run):
    files = _staff_files(planted_run, ".csv")
    assert files
    reached = 0
    for path in files:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            for row in csv.reader(fh):
                for value in row:
                    assert not value.startswith(FORMULA_LEADERS), (path.name, value[:1])
                    reached += any(value == "'" + p for p in PAYLOADS)
    assert reached > 0  # escaped with an apostrophe, as OWASP recommends


def test_escaping_leaves_ordinary_values_alone():
    assert escape_cell("=1+1") == "'=1+1" and escape_cell("\tx") == "'\tx"
    assert escape_cell("SITI AMINAH") == "SITI AMINAH" and escape_cell(-1.5) == -1.5 and escape_cell(None) is None
    import pandas as pd

    frame = pd.DataFrame({"nama": ["@X", "BUDI", None], "n": [-1, 2, 3]})
    escaped = inert_text(frame)
    assert escaped["nama"].tolist()[:2] == ["'@X", "BUDI"] and pd.isna(escaped["nama"].iloc[2])
    assert escaped["n"].tolist() == [-1, 2, 3]
