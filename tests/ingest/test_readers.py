"""The file readers keep every record as text, whatever the encoding, separator or file type."""

import codecs
import gc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from dtsen_pipeline.ingest.readers import (
    _clean_utf8,
    _read_clean_utf8,
    _read_text,
    cell_text,
    detect_encoding,
    detect_separator,
    read_csv_records,
    read_records,
    read_xlsx_records,
)

ROWS = [["NIK", "NAMA", "ALAMAT"], ["1806014107850001", "MA’RUF", "JL. MAWAR; NO 3"], ["", "SITI", ""]]


def _write_csv(path: Path, rows, sep: str, encoding: str, bom: bool = False) -> Path:
    lines = []
    for row in rows:
        lines.append(sep.join(f'"{v}"' if sep in v else v for v in row))
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    return path


@pytest.mark.parametrize(("encoding", "bom", "expected"), [
    ("utf-8", True, "utf-8-sig"), ("utf-8", False, "utf-8"), ("cp1252", False, "cp1252")])
@pytest.mark.parametrize("sep", [",", ";"])
def test_csv_encodings_and_separators(tmp_path, encoding, bom, expected, sep):
    path = _write_csv(tmp_path / "f.csv", ROWS, sep, encoding, bom)
    got = read_csv_records(path)
    assert got.encoding == expected
    assert got.separator == sep
    assert got.header == ["NIK", "NAMA", "ALAMAT"]
    assert got.records == [["1806014107850001", "MA’RUF", "JL. MAWAR; NO 3"], ["", "SITI", ""]]


def test_detect_encoding_prefers_bom_then_utf8():
    assert detect_encoding(codecs.BOM_UTF8 + b"a") == "utf-8-sig"
    assert detect_encoding("é".encode()) == "utf-8"
    assert detect_encoding("é".encode("cp1252")) == "cp1252"


def test_detect_separator_counts_fields():
    assert detect_separator("A;B;C") == ";"
    assert detect_separator("a,b,c") == ","
    assert detect_separator("only") == ";"  # a one-column header: any choice splits nothing


def test_empty_csv_has_no_header(tmp_path):
    (tmp_path / "e.csv").write_bytes(b"")
    got = read_csv_records(tmp_path / "e.csv")
    assert got.header == [] and got.records == []


def test_truncated_and_junk_rows_are_all_records(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("A,B,C\n1,2,3\nA,B,C\n\nJUMLAH,,2\n4,5\n", encoding="utf-8")
    got = read_csv_records(path)
    # a blank line is one record of empty fields (staging calls it EMPTY_ROW)
    assert got.records == [["1", "2", "3"], ["A", "B", "C"], ["", "", ""], ["JUMLAH", "", "2"], ["4", "5"]]
    assert got.n_fields.tolist() == [3, 3, 3, 3, 2]


def test_cell_text_marks_long_numbers_as_floats():
    assert cell_text(1806014107850000) == "1806014107850000.0"
    assert cell_text(1.80601410785e15) == "1806014107850000.0"
    assert cell_text(600000) == "600000"
    assert cell_text(45000.0) == "45000"
    assert cell_text(None) is None


def test_xlsx_numeric_identifier_keeps_trace_of_damage(tmp_path):
    path = tmp_path / "kpm.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("KPM")
    sheet.write_row(0, 0, ["NIK_KPM", "NAMA_KPM", "NOMINAL"])
    sheet.write_number(1, 0, 1806014107850000)
    sheet.write_string(1, 1, "SITI AMINAH")
    sheet.write_number(1, 2, 750000)
    sheet.write_string(2, 0, "1806014107850002")
    sheet.write_string(2, 1, "JUMLAH")
    workbook.close()
    got = read_xlsx_records(path, "KPM")
    assert got.header == ["NIK_KPM", "NAMA_KPM", "NOMINAL"]
    assert got.records[0] == ["1806014107850000.0", "SITI AMINAH", "750000"]
    assert got.records[1][:2] == ["1806014107850002", "JUMLAH"]
    assert read_records(path, "KPM").records == got.records


def test_corrupt_xlsx_is_reported_not_crashed(tmp_path):
    from dtsen_pipeline.ingest.readers import UnreadableFileError

    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(UnreadableFileError):
        read_xlsx_records(path, None)
    assert gc.isenabled()  # the collector paused for the workbook runs again after a failure


def test_workbook_cells_as_text_and_the_collector_resumed(tmp_path):
    """Text cells: empty ones missing; mixed columns through `cell_text`. Workbooks read on two
    threads at once leave Python's collector as they found it (on, or off if it was off)."""
    path = tmp_path / "kpm.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["NIK_KPM", "NAMA_KPM", "RT"])
    for row in range(1, 400):
        sheet.write_string(row, 0, f"18060141078{row:05d}")
        sheet.write_string(row, 1, "" if row % 7 == 0 else f"NAMA {row}")
        if row % 3:
            sheet.write_number(row, 2, row % 20)
        else:
            sheet.write_string(row, 2, f"{row % 20:03d}")
    workbook.close()
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            with ThreadPoolExecutor(2) as pool:
                results = list(pool.map(lambda _: read_xlsx_records(path, None), range(6)))
            assert gc.isenabled() is enabled
        finally:
            gc.enable()
    records = results[0].records
    assert all(r.records == records for r in results)
    assert records[6] == ["1806014107800007", None, "7"]  # row 7: empty name, number cell
    assert records[5] == ["1806014107800006", "NAMA 6", "006"]  # text cell kept as written


_FIELD = st.text(alphabet="ab1 Ééç’;,\"'\t", max_size=6)
_LINE_END = st.sampled_from(["\n", "\r\n", "\r"])


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(_FIELD, min_size=0, max_size=5), min_size=1, max_size=8),
    ends=st.lists(_LINE_END, min_size=9, max_size=9),
    blank_lines=st.integers(min_value=0, max_value=2),
    bom=st.booleans(),
    sep=st.sampled_from([";", ","]),
    final_end=st.booleans(),
)
def test_utf8_byte_path_reads_what_the_text_path_reads(rows, ends, blank_lines, bom, sep, final_end):
    """Clean UTF-8 is parsed from its bytes (`_read_clean_utf8`); whenever it answers, it gives
    the records, header, encoding and separator the text path gives for the same bytes."""
    lines = [""] * blank_lines + [sep.join(row) for row in [["NIK", "NAMA", "ALAMAT"], *rows]]
    text = "".join(line + end for line, end in zip(lines, ends * 2, strict=False))
    if not final_end:
        text = text.rstrip("\r\n")
    data = (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8")
    encoding = detect_encoding(data)
    assert _clean_utf8(data, encoding)
    fast = _read_clean_utf8(data, encoding, None)
    if fast is None:  # records spanning lines, a single column: the text path decides alone
        return
    exact = _read_text(data, encoding, None)
    assert (fast.header, fast.records, fast.encoding, fast.separator) == (
        exact.header, exact.records, exact.encoding, exact.separator)


def test_damaged_utf8_is_not_read_from_bytes():
    assert not _clean_utf8(b"NIK;NAMA\n1;SITI\n\xff\n", "utf-8")
    assert not _clean_utf8(b"NIK;NAMA\n1;SI\x00TI\n", "utf-8")
    assert not _clean_utf8("NIK;NAMA\n1;MA’RUF\n".encode("cp1252"), "cp1252")
    assert _clean_utf8("NIK;NAMA\n1;MA’RUF\n".encode(), "utf-8")


def test_a_header_cell_with_a_quoted_line_break_is_one_header(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b'NIK;"NAMA\r\nLENGKAP";DESA\r\n1;2;3\r\n4;5;6\r\n')
    records = read_csv_records(path)
    assert records.header == ["NIK", "NAMA\r\nLENGKAP", "DESA"] and records.records == [["1", "2", "3"], ["4", "5", "6"]]
