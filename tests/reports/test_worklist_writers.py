"""Worklist workbooks written on several processes are the workbooks one process writes."""

import openpyxl
import pandas as pd

from dtsen_pipeline.reports.worklists import _PARALLEL_FROM, WORKLIST_COLUMNS, _write_workbooks


def _jobs(folder, places: int):
    folder.mkdir()
    jobs = []
    for i in range(places):
        part = pd.DataFrame({c: [None] * (1 + i % 3) for c in WORKLIST_COLUMNS})
        part["NAMA"] = [f"=WARGA {i}-{k}" for k in range(len(part))]  # formula-looking text stays inert
        part["KODE_DESA"] = f"18.06.01.{2000 + i}"
        part["FLAG"] = "DEAD_RECIPIENT"
        jobs.append((part, folder / f"PEKON_{i}.xlsx"))
    return jobs


def _cells(path):
    sheet = openpyxl.load_workbook(path)["VERVAL"]
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_two_processes_write_the_files_one_process_writes(tmp_path):
    places = _PARALLEL_FROM + 1
    alone, side_by_side = _jobs(tmp_path / "one", places), _jobs(tmp_path / "two", places)
    _write_workbooks(alone, workers=1)
    _write_workbooks(side_by_side, workers=2)
    for (_, xlsx1), (_, xlsx2) in zip(alone, side_by_side, strict=True):
        assert _cells(xlsx1) == _cells(xlsx2)
    assert _cells(alone[0][1])[1][WORKLIST_COLUMNS.index("NAMA")] == "=WARGA 0-0"  # text, not a formula
