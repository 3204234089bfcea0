"""Odd files a hostile tester sent (issue #11): each one ends in the registry with a status and a
reason naming the file, never a value, and the feed's other files are loaded in the same run."""

import codecs
import os

import pytest
import xlsxwriter

from dtsen_pipeline.ingest import guards, raw_records
from dtsen_pipeline.ingest.landing import unknown_landing_entries
from dtsen_pipeline.ingest.raw_records import canonical_headers, extra_column_name
from dtsen_pipeline.ingest.raw_store import load_registry
from dtsen_pipeline.warehouse import read_sql
from tests.ingest.helpers import (
    OTHER_VILLAGE,
    SPECS,
    csv_bytes,
    feed_csv,
    man_nik,
    record,
    run_feed,
    write,
    write_xlsx,
)


def _good_pekon(landing, name="pekon_baik.csv"):
    write(landing, "pekon", name, feed_csv("pekon", [record("pekon", nik=man_nik(i), nama=f"WARGA {i}")
                                                      for i in range(1, 4)]))


def _status(result, name):
    (report,) = [r for r in result.intake.reports if r.source_file.endswith(name)]
    return report


def test_a_workbook_with_a_stray_cell_at_xfd1048576_is_refused_before_it_is_built(landing, engine):
    path = landing / "bansos" / "PKH_2026-11.xlsx"
    path.parent.mkdir(parents=True)
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("KPM")
    sheet.write_row(0, 0, list(record("bansos")))
    sheet.write_row(1, 0, list(record("bansos").values()))
    sheet.write(1048575, 16383, "x")  # the only cell of the last column and row
    workbook.close()
    good = record("bansos", program="BPNT", nik=man_nik(5), nama="KPM LAIN")
    write_xlsx(landing, "bansos", "BPNT_2026-11.xlsx", list(good), [list(good.values())])
    result = run_feed(engine, landing, "bansos")
    report = _status(result, "PKH_2026-11.xlsx")
    assert report.status == "unreadable" and "1,048,576 rows x 16,384 columns" in report.problem
    assert _status(result, "BPNT_2026-11.xlsx").status == "loaded" and len(result.staged) == 1
    assert {d.status for d in load_registry(engine, "bansos")} == {"unreadable", "loaded"}


def test_a_workbook_that_expands_too_far_is_refused(landing, engine, monkeypatch):
    good = record("bansos")
    write_xlsx(landing, "bansos", "PKH_2026-11.xlsx", list(good), [list(good.values())])
    monkeypatch.setattr(guards, "MAX_UNZIPPED_BYTES", 1_000)  # a zip bomb, scaled down
    report = _status(run_feed(engine, landing, "bansos"), "PKH_2026-11.xlsx")
    assert report.status == "unreadable" and "expands to" in report.problem


def test_a_file_beyond_the_size_limit_is_refused_unread(landing, engine, monkeypatch):
    _good_pekon(landing, "pekon_besar.csv")
    monkeypatch.setattr(guards, "MAX_FILE_BYTES", 100)
    report = _status(run_feed(engine, landing, "pekon"), "pekon_besar.csv")
    assert report.status == "unreadable" and "more than the 100 a delivery may have" in report.problem


def test_any_reader_failure_registers_that_file_and_the_others_load(landing, engine, monkeypatch):
    _good_pekon(landing)
    write(landing, "pekon", "pekon_aneh.csv", b"nik,nama\n1,2\n")
    real = raw_records.read_records

    def failing(path, *args, **kwargs):
        if path.name == "pekon_aneh.csv":
            raise RuntimeError("1806012208900001 could not be parsed")  # a message quoting a value
        return real(path, *args, **kwargs)

    monkeypatch.setattr(raw_records, "read_records", failing)
    result = run_feed(engine, landing, "pekon")
    report = _status(result, "pekon_aneh.csv")
    assert report.status == "unreadable" and report.problem == "file pekon/pekon_aneh.csv: cannot be read (RuntimeError)"
    assert len(result.staged) == 3


def test_a_line_longer_than_the_csv_field_limit_does_not_stop_the_run(landing, engine):
    _good_pekon(landing)
    rows = [list(record("pekon")),
            list(record("pekon", nik=man_nik(9), alamat="X" * 200_000, _village=OTHER_VILLAGE).values())]
    write(landing, "pekon", "pekon_panjang.csv", csv_bytes(rows))
    result = run_feed(engine, landing, "pekon")
    assert _status(result, "pekon_panjang.csv").status in ("loaded", "unreadable")
    assert {r.source_file for r in result.intake.reports} == {"pekon/pekon_baik.csv", "pekon/pekon_panjang.csv"}
    assert set(result.staged["source_file"]) >= {"pekon/pekon_baik.csv"}


def test_extra_headers_differing_in_case_or_named_like_pipeline_columns_load(landing, engine):
    first = [[*record("dtsen"), "Keterangan", "Source_File"], [*record("dtsen").values(), "a", "b"]]
    write(landing, "dtsen", "DTSEN_1806_202610.csv", csv_bytes(first, sep=";"))
    run_feed(engine, landing, "dtsen", run_id="r1")
    second = [[*record("dtsen"), "keterangan", "Persentase bantuan (%)"], [*record("dtsen").values(), "c", "50"]]
    write(landing, "dtsen", "DTSEN_1806_202611.csv", csv_bytes(second, sep=";"))
    result = run_feed(engine, landing, "dtsen", run_id="r2")
    assert [r.status for r in result.intake.reports] == ["loaded"]
    columns = set(read_sql(engine, "SELECT * FROM raw.dtsen LIMIT 0").columns)
    assert {"keterangan", "_source_file", "persentase_bantuan", "source_file"} <= columns


def test_extra_column_names_are_safe_short_and_stable():
    assert extra_column_name("Persentase bantuan (%)") == "persentase_bantuan"
    long_header = "Keterangan tambahan dari petugas pendamping sosial kecamatan " * 2
    name = extra_column_name(long_header)
    assert len(name.encode()) <= 63 and name == extra_column_name(long_header)
    assert name != extra_column_name(long_header + "x")
    assert extra_column_name("2026 catatan") == "c_2026_catatan"
    spec = SPECS["dtsen"]
    assert canonical_headers(["NIK", "Keterangan", "KETERANGAN", "nama", "NAMA", "Source_File"], spec) == [
        "NIK", "keterangan", "keterangan_1", "NAMA", "NAMA_1", "_source_file"]


def test_a_duplicated_declared_column_is_noted_with_the_copy_used(landing, engine):
    header = list(record("pekon"))
    rows = [[*header, "nama"], [*record("pekon").values(), "NAMA LAIN"]]
    write(landing, "pekon", "pekon_ganda.csv", csv_bytes(rows))
    result = run_feed(engine, landing, "pekon")
    report = _status(result, "pekon_ganda.csv")
    assert report.status == "loaded"
    assert "column nama delivered 2 times (columns 3, 14): the first is used" in report.note
    assert list(result.staged["nama"]) == [record("pekon")["nama"]]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_files_are_read(landing, engine, encoding):
    rows = [list(record("pekon")), list(record("pekon", nama="JOSÉ").values())]
    text = csv_bytes(rows).decode("utf-8")
    data = text.encode(encoding)  # "utf-16" writes a byte-order mark, the others none
    assert data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) == (encoding == "utf-16")
    write(landing, "pekon", "pekon_unicode.csv", data)
    result = run_feed(engine, landing, "pekon")
    assert [r.status for r in result.intake.reports] == ["loaded"]
    assert list(result.staged["nama"]) == ["JOSÉ"]


def test_links_out_of_the_landing_folder_are_refused_and_registered(landing, engine, tmp_path):
    _good_pekon(landing)
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes(feed_csv("pekon", [record("pekon", nik=man_nik(7), nama="ORANG LUAR")]))
    os.symlink(outside, landing / "pekon" / "pekon_tautan.csv")
    os.symlink("/etc/passwd", landing / "pekon" / "pekon_passwd.csv")
    result = run_feed(engine, landing, "pekon")
    refused = {r.source_file: r for r in result.intake.reports if r.status == "refused"}
    assert set(refused) == {"pekon/pekon_tautan.csv", "pekon/pekon_passwd.csv"}
    assert all("refused, never read" in r.problem for r in refused.values())
    assert set(result.staged["nama"]) == {"WARGA 1", "WARGA 2", "WARGA 3"}  # nothing from outside
    again = run_feed(engine, landing, "pekon", run_id="r2")  # still there: still refused, one entry each
    assert sorted(r.status for r in again.intake.reports) == ["refused", "refused"]
    assert sum(d.status == "refused" for d in load_registry(engine, "pekon")) == 2


def test_files_the_feed_does_not_read_are_listed(landing, engine):
    _good_pekon(landing)
    for name in ("catatan.txt", "pekon_arsip.csv.gz", "pekon_lama.xls"):
        write(landing, "pekon", name, b"x")
    (landing / "pekon" / "arsip").mkdir()
    result = run_feed(engine, landing, "pekon")
    assert result.intake.unclaimed == ("pekon/arsip", "pekon/catatan.txt", "pekon/pekon_arsip.csv.gz",
                                       "pekon/pekon_lama.xls")
    assert result.intake.summary()["files_not_claimed"] == list(result.intake.unclaimed)
    assert unknown_landing_entries(landing, {"pekon"}) == []
    (landing / "bpjs").mkdir()
    assert unknown_landing_entries(landing, {"pekon"}) == ["bpjs"]
