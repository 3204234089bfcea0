"""A worklist filled in as an officer would, in the workbook Excel saves, and dropped into
`verval/` changes the golden flags it answers at the next run (#15 item 2), and only those."""

import datetime
import shutil

import openpyxl
import pytest
import sqlalchemy as sa

from dtsen_pipeline.golden.flags import FLAGS
from dtsen_pipeline.warehouse import read_table
from tests.support import run_nightly, sample_deployment

CONFIRMING = {f.code: next(h for h, outcome in f.verval.items() if outcome == "CONFIRMED") for f in FLAGS}


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roundtrip")
    landing, settings, instance = sample_deployment(tmp, persons=1500, seed=29)
    run_id, success = run_nightly(settings, instance)
    assert success
    worklists = settings.artifacts_dir / "worklists" / run_id
    answered = {}
    for path in sorted(worklists.glob("PEKON_*.xlsx"), key=lambda p: -p.stat().st_size):
        book = openpyxl.load_workbook(path)
        sheet = book["VERVAL"]
        header = [c.value for c in sheet[1]]
        column = {name: header.index(name) + 1 for name in header}
        filled = 0
        for r in range(2, sheet.max_row + 1):  # the officer answers a few rows only
            first_flag = sheet.cell(r, column["FLAG"]).value.split(", ")[0]
            if first_flag in ("DUPLICATE_RECORDS", "PERSON_IN_MULTIPLE_KK") or filled == 3:
                continue  # GANDA needs NIK_GANDA: not this test's
            subject = sheet.cell(r, column["PERSON_ID"]).value or sheet.cell(r, column["HOUSEHOLD_ID"]).value
            sheet.cell(r, column["HASIL"], CONFIRMING[first_flag])
            sheet.cell(r, column["TANGGAL"], datetime.datetime(2026, 11, 20))
            sheet.cell(r, column["PETUGAS"], "PS-180601-001")
            answered[subject] = first_flag
            filled += 1
        if filled:
            book.save(landing / "verval" / path.name)
        if len(answered) >= 6:
            break
    assert answered
    engine = sa.create_engine(settings.warehouse_url)
    before = read_table(engine, "golden", "flag")
    engine.dispose()
    run_id2, success = run_nightly(settings, instance)
    assert success
    engine = sa.create_engine(settings.warehouse_url)
    after = read_table(engine, "golden", "flag")
    engine.dispose()
    shutil.rmtree(tmp / "artifacts", ignore_errors=True)
    return before, after, answered


def test_the_answered_flags_are_confirmed_and_the_others_stay_open(two_nights):
    before, after, answered = two_nights
    status = after.set_index(["subject_id", "flag"])["verval_status"]
    for subject, flag in answered.items():
        assert status[(subject, flag)] == "CONFIRMED", (flag,)
    untouched = before[~before["subject_id"].isin(answered)]
    still = after.set_index(["subject_id", "flag"]).loc[list(zip(untouched["subject_id"], untouched["flag"],
                                                                 strict=True))]
    assert (still["verval_status"].to_numpy() == untouched["verval_status"].to_numpy()).all()
