"""Every trap of the input contract (docs/feeds.md), each with a small file and what must happen to it.

Each test writes the delivery, runs what the raw/<feed> and staging/<feed> assets run, and
checks the staged row or the quarantine reason: nothing is lost, damage is flagged, never repaired.
"""

import datetime as dt

import pandas as pd
import pytest

from tests.ingest.helpers import (
    KK,
    MAN_NIK,
    OUTSIDE_VILLAGE,
    SPECS,
    VILLAGE,
    WOMAN_NIK,
    csv_bytes,
    feed_csv,
    man_nik,
    record,
    run_feed,
    write,
    write_xlsx,
)


def _conserved(result) -> None:
    assert result.staged_counts.rows_in == len(result.staged) + len(result.quarantine)


def _staged_value(result, row: int, column: str):
    return result.staged.set_index("source_row").loc[row, column]


def _reason(result, row: int) -> str:
    return result.quarantine.set_index("source_row").loc[row, "reason"]


# --- identifiers -----------------------------------------------------------------------------

@pytest.mark.parametrize(("nik", "issue"), [
    ("1.80601E+15", "NIK_EXCEL_DAMAGED"),  # scientific notation (CSV saved from Excel)
    ("1,80601E+15", "NIK_EXCEL_DAMAGED"),  # the same, from a decimal-comma locale
    ("1806012208900001.0", "NIK_EXCEL_DAMAGED"),  # a number cell's float
    ("0806012208900001", "NIK_PLACEHOLDER"),  # village systems' temporary NIK
    ("0000000000000000", "NIK_PLACEHOLDER"),
    ("7777777777777777", "NIK_PLACEHOLDER"),
    ("1234567890123456", "NIK_PLACEHOLDER"),
    ("1806010000000001", "NIK_PLACEHOLDER"),  # date part 000000
    ("18060122089", "NIK_BAD_FORMAT"),
])
def test_damaged_nik_is_flagged_kept_out_of_linkage_and_never_repaired(landing, engine, nik, issue):
    write(landing, "pekon", "pekon_a.csv", feed_csv("pekon", [record("pekon", nik=nik), record("pekon")]))
    result = run_feed(engine, landing, "pekon")
    _conserved(result)
    assert _staged_value(result, 1, "nik_issue") == issue
    assert pd.isna(_staged_value(result, 1, "nik"))  # linkage blocks and compares on `nik` only
    assert _staged_value(result, 2, "nik") == MAN_NIK


@pytest.mark.parametrize(("kk", "issue"), [
    ("1.80601E+15", "KK_EXCEL_DAMAGED"), ("1806010101100001.0", "KK_EXCEL_DAMAGED"),
    ("0806010101100001", "KK_PLACEHOLDER")])
def test_damaged_kk_is_flagged(landing, engine, kk, issue):
    write(landing, "dukcapil", "d.csv", feed_csv("dukcapil", [record("dukcapil", no_kk=kk)]))
    result = run_feed(engine, landing, "dukcapil")
    assert _staged_value(result, 1, "kk_issue") == issue
    assert pd.isna(_staged_value(result, 1, "no_kk"))


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_numeric_xlsx_cell_with_16th_digit_zeroed_is_damaged(landing, engine, monkeypatch, reader):
    if reader == "openpyxl":  # the fallback reader must see the same damage
        import dtsen_pipeline.ingest.readers as readers

        def no_calamine(*_args):
            raise ImportError("python-calamine not installed")

        monkeypatch.setattr(readers, "_sheet_rows_calamine", no_calamine)
    header = list(record("bansos"))
    good = list(record("bansos").values())
    damaged = list(record("bansos").values())
    damaged[header.index("NIK_KPM")] = 1806014107850000  # what Excel keeps of 1806014107850001
    damaged[header.index("NO_KK")] = 1806010101100000
    write_xlsx(landing, "bansos", "PKH_2026-10.xlsx", header, [damaged, good])
    result = run_feed(engine, landing, "bansos")
    _conserved(result)
    assert _staged_value(result, 1, "nik_issue") == "NIK_EXCEL_DAMAGED"
    assert _staged_value(result, 1, "kk_issue") == "KK_EXCEL_DAMAGED"
    assert pd.isna(_staged_value(result, 1, "nik"))
    assert _staged_value(result, 2, "nik") == WOMAN_NIK and _staged_value(result, 2, "no_kk") == KK


# --- encodings and separators ----------------------------------------------------------------

@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("cp1252", False)])
@pytest.mark.parametrize("sep", [",", ";"])
def test_encodings_and_separators_are_detected(landing, engine, encoding, bom, sep):
    rows = [record("pekon", nama="MA’RUF AMIN", alamat="JL. MAWAR; NO 3, RT 1"),
            record("pekon", nama="JOSÉ RIZAL", nik=man_nik(2))]
    write(landing, "pekon", "p.csv", feed_csv("pekon", rows, sep=sep, encoding=encoding, bom=bom,
                                                   newline="\r\n"))
    result = run_feed(engine, landing, "pekon")
    report = result.intake.reports[0]
    assert report.encoding == {"utf-8": "utf-8-sig" if bom else "utf-8", "cp1252": "cp1252"}[encoding]
    assert report.separator == sep
    assert list(result.staged["nama"]) == ["MA’RUF AMIN", "JOSÉ RIZAL"]
    assert result.staged["alamat"].iloc[0] == "JL. MAWAR; NO 3, RT 1"
    assert len(result.quarantine) == 0


def test_a_few_damaged_bytes_do_not_turn_utf8_into_cp1252(landing, engine):
    data = feed_csv("pekon", [record("pekon", nama="JOSÉ RIZAL"), record("pekon", nama="ANDRÉ", nik=man_nik(2))])
    data = data.replace("ANDRÉ".encode(), b"ANDR\xc3")  # a truncated two-byte sequence
    write(landing, "pekon", "p.csv", data)
    result = run_feed(engine, landing, "pekon")
    assert result.intake.reports[0].encoding == "utf-8"
    assert list(result.staged["nama"]) == ["JOSÉ RIZAL", "ANDR\ufffd"]


# --- broken rows -------------------------------------------------------------------------------

def test_truncated_and_overlong_rows_are_malformed(landing, engine):
    header = list(record("dukcapil"))
    good = list(record("dukcapil").values())
    rows = [header, good, [*good, "EXTRA", "FIELDS"], good, good[:9]]
    write(landing, "dukcapil", "d.csv", csv_bytes(rows, final_newline=False))  # export cut mid-row
    result = run_feed(engine, landing, "dukcapil")
    _conserved(result)
    assert list(result.staged["source_row"]) == [1, 3]
    assert _reason(result, 2) == "MALFORMED_ROW" and _reason(result, 4) == "MALFORMED_ROW"
    detail = result.quarantine.set_index("source_row").loc[4, "detail"]
    assert detail == f"expected {len(header)} fields, found 9"


def test_a_runaway_quote_breaks_one_row_not_the_rest_of_the_file(landing, engine):
    header = ",".join(record("pekon"))
    good = ",".join(record("pekon").values())
    broken = good.replace("AHMAD SUBAGIO", '"AHMAD SUBAGIO')  # opened, never closed
    text = "\n".join([header, good, broken, good, good]) + "\n"
    write(landing, "pekon", "p.csv", text.encode())
    result = run_feed(engine, landing, "pekon")
    _conserved(result)
    assert result.staged_counts.rows_in == 4
    assert list(result.staged["source_row"]) == [1, 3, 4]
    assert _reason(result, 2) == "MALFORMED_ROW"


def test_a_quoted_line_break_stays_inside_its_field(landing, engine):
    rows = [record("pekon", alamat="DUSUN II\nRT 3"), record("pekon")]
    write(landing, "pekon", "p.csv", feed_csv("pekon", rows))
    result = run_feed(engine, landing, "pekon")
    assert list(result.staged["alamat"]) == ["DUSUN II\nRT 3", "DUSUN II"]
    assert list(result.staged["source_row"]) == [1, 2]


def test_repeated_headers_summary_rows_and_blank_lines_are_quarantined(landing, engine):
    spec_header = list(record("dtsen"))
    good = list(record("dtsen").values())
    lower = [h.lower().replace("_", " ") for h in spec_header]  # another export's spelling
    blank = [""] * len(good)
    summary = ["JUMLAH", *[""] * (len(good) - 2), "3"]
    total = ["", "Total KPM: 3", *[""] * (len(good) - 2)]
    body = csv_bytes([spec_header, good, spec_header, good, lower, blank, good, summary, total], sep=";",
                     bom=True)
    concatenated = body + b"\xef\xbb\xbf" + csv_bytes([spec_header, good], sep=";")  # a second BOM file
    write(landing, "dtsen", "x.csv", concatenated)
    result = run_feed(engine, landing, "dtsen")
    _conserved(result)
    reasons = result.quarantine.set_index("source_row")["reason"].to_dict()
    assert reasons == {2: "REPEATED_HEADER", 4: "REPEATED_HEADER", 5: "EMPTY_ROW", 7: "SUMMARY_ROW",
                       8: "SUMMARY_ROW", 9: "REPEATED_HEADER"}
    assert list(result.staged["source_row"]) == [1, 3, 6, 10]


def test_blank_lines_are_empty_rows_and_leading_ones_are_skipped(landing, engine):
    data = b"\r\n\r\n" + feed_csv("pekon", [record("pekon")], newline="\r\n") + b"\r\n  \r\n" + feed_csv(
        "pekon", [record("pekon")], newline="\r\n").split(b"\r\n", 1)[1]
    write(landing, "pekon", "p.csv", data)
    result = run_feed(engine, landing, "pekon")
    assert result.quarantine.set_index("source_row")["reason"].to_dict() == {2: "EMPTY_ROW", 3: "EMPTY_ROW"}
    assert list(result.staged["source_row"]) == [1, 4]


# --- whole files -------------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "problem"), [
    (b"", "no header and no records"),
    (b"\r\n \r\n", "no header and no records"),
    (None, "header only, no records"),
    ("junk", "no data records"),
])
def test_empty_files_are_reported_and_not_loaded(landing, engine, content, problem):
    header = list(record("pekon"))
    if content is None:
        content = csv_bytes([header])
    elif content == "junk":
        content = csv_bytes([header, ["JUMLAH", *[""] * (len(header) - 1)]])
    write(landing, "pekon", "pekon_empty.csv", content)
    result = run_feed(engine, landing, "pekon")
    report = result.intake.reports[0]
    assert report.status == "empty"
    assert problem in report.problem and "pekon/pekon_empty.csv" in report.problem
    assert result.staged_counts.rows_in == 0 and result.intake.in_force == []


def test_extra_columns_are_kept_in_raw_and_missing_optional_ones_are_noted(landing, engine):
    rows = [{**{k: v for k, v in record("pekon").items() if k not in ("dusun", "rw")}, "nama_ibu": "X",
             "kolom_baru": "Y"}]
    write(landing, "pekon", "p.csv", feed_csv("pekon", rows))
    result = run_feed(engine, landing, "pekon")
    report = result.intake.reports[0]
    assert report.status == "loaded"
    assert report.note == ("optional column(s) missing, staged as empty: rw, dusun; "
                           "2 column(s) the feed does not declare, kept in raw only")
    assert "X" not in report.note and "Y" not in report.note  # values never reach reports
    assert len(result.staged) == 1 and pd.isna(result.staged["rw"].iloc[0])


def test_missing_required_column_rejects_the_file_and_names_the_column(landing, engine):
    rows = [{k: v for k, v in record("pekon").items() if k != "tanggal_lahir"}]
    write(landing, "pekon", "pekon_bad.csv", feed_csv("pekon", rows))
    result = run_feed(engine, landing, "pekon")
    report = result.intake.reports[0]
    assert report.status == "rejected"
    assert report.problem == "file pekon/pekon_bad.csv: missing required column(s) tanggal_lahir"
    assert result.staged_counts.rows_in == 0


def test_headers_match_whatever_their_case_and_separators(landing, engine):
    rows = [{k.replace("_", " ").title(): v for k, v in record("bansos").items()}]  # "Nik Kpm"
    write(landing, "bansos", "PKH.csv", feed_csv("bansos", rows, sep=";"))
    result = run_feed(engine, landing, "bansos")
    assert result.intake.reports[0].status == "loaded"
    assert list(result.staged["nik"]) == [WOMAN_NIK]


def test_unreadable_workbook_is_reported(landing, engine):
    write(landing, "bansos", "PKH_2026-10.xlsx", b"PK\x03\x04 not a zip archive")
    result = run_feed(engine, landing, "bansos")
    report = result.intake.reports[0]
    assert report.status == "unreadable" and "bansos/PKH_2026-10.xlsx" in report.problem


# --- dates -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["1990-08-22", "22-08-1990", "22/08/1990", "2-8-1990", "33107", "33107.0",
                                   "1990-08-22 00:00:00"])
def test_every_date_format_in_text(landing, engine, value):
    day = dt.date(1990, 8, 22) if value != "2-8-1990" else dt.date(1990, 8, 2)
    write(landing, "pekon", "p.csv", feed_csv("pekon", [record("pekon", tgl_lahir=value)]))
    result = run_feed(engine, landing, "pekon")
    assert pd.Timestamp(_staged_value(result, 1, "tgl_lahir")).date() == day


def test_dates_in_workbooks_as_date_cells_and_excel_serials(landing, engine):
    header = list(record("verval"))
    at = header.index("TANGGAL")
    rows = []
    for value in (dt.date(2026, 10, 15), 46310, "46310", "15-10-2026", "31-02-2026"):
        row = list(record("verval").values())
        row[at] = value
        rows.append(row)
    write_xlsx(landing, "verval", "VERVAL_2026-10_PEKON.xlsx", header, rows, sheet="Sheet1")
    result = run_feed(engine, landing, "verval")
    _conserved(result)
    assert {pd.Timestamp(v).date() for v in result.staged["tanggal"]} == {dt.date(2026, 10, 15)}
    assert len(result.staged) == 4 and _reason(result, 5) == "BAD_DECISION_DATE"


def test_unusable_birth_dates_keep_the_person(landing, engine):
    """Issue #10: an impossible, implausible or unreadable birth date is nulled and flagged; the
    person is staged (a named person with a NIK is never lost for a repairable field)."""
    values = ("31/02/1990", "1/1/2030", "01/01/1890", "kemarin", "00/00/1985", "00/07/1985", "1985",
              "07/25/1985")
    rows = [record("pekon", tgl_lahir=v, nik=man_nik(i + 2)) for i, v in enumerate(values)]
    write(landing, "pekon", "p.csv", feed_csv("pekon", rows))
    result = run_feed(engine, landing, "pekon")
    _conserved(result)
    assert result.quarantine.empty and len(result.staged) == len(values)
    staged = result.staged.set_index("source_row")
    flags = staged["flags"].str.split(";").map(lambda codes: [c for c in codes if c.startswith("DOB_")])
    assert flags.to_dict() == {1: ["DOB_IMPOSSIBLE"], 2: ["DOB_IN_FUTURE"], 3: ["DOB_TOO_OLD"],
                               4: ["DOB_UNPARSEABLE"], 5: ["DOB_PARTIAL"], 6: ["DOB_PARTIAL"],
                               7: ["DOB_PARTIAL"], 8: ["DOB_MONTH_FIRST"]}
    assert staged["tgl_lahir"].isna().tolist() == [True] * 7 + [False]
    assert [None if pd.isna(v) else int(v) for v in staged["birth_year"]] == [1990, None, None, None, 1985, 1985,
                                                                            1985, 1985]
    assert [None if pd.isna(v) else v for v in staged["dob_precision"]] == ["year", None, None, None, "year",
                                                                           "month", "year", "day"]


# --- region codes ------------------------------------------------------------------------------

@pytest.mark.parametrize("parts", [("18", "6", "1", "2016"), ("18", "06", "01", "2016"),
                                   ("18.0", "6.0", "1.0", "2016.0")])
def test_region_code_in_integer_parts(landing, engine, parts):
    prov, kab, kec, kel = parts
    write(landing, "dukcapil", "d.csv", feed_csv("dukcapil", [record("dukcapil", prov=prov, kab=kab, kec=kec,
                                                                       kel=kel)]))
    result = run_feed(engine, landing, "dukcapil")
    assert _staged_value(result, 1, "kode_desa") == VILLAGE
    assert _staged_value(result, 1, "kode_kecamatan") == "18.06.01"


def test_region_parts_as_numbers_in_a_workbook(landing, engine, tmp_path):
    from dataclasses import replace

    spec = replace(SPECS["dukcapil"], files=("*.xlsx",))
    header = list(record("dukcapil"))
    row = list(record("dukcapil").values())
    for name, value in (("NO_PROP", 18), ("NO_KAB", 6), ("NO_KEC", 1), ("NO_KEL", 2016)):
        row[header.index(name)] = value
    write_xlsx(landing, "dukcapil", "d.xlsx", header, [row], sheet="Sheet1")
    result = run_feed(engine, landing, "dukcapil", spec=spec)
    assert _staged_value(result, 1, "kode_desa") == VILLAGE


@pytest.mark.parametrize(("code", "expected"), [
    (VILLAGE, ("staged", VILLAGE)), (VILLAGE.replace(".", ""), ("staged", VILLAGE)),
    (" 1806012016 ", ("staged", VILLAGE)), ("1806012016.0", ("staged", VILLAGE)),
    ("18.06.01.20", ("placeless", "REGION_BAD_FORMAT")), ("18.06.01.2999", ("placeless", "REGION_UNKNOWN")),
    ("", ("placeless", "REGION_MISSING"))])
def test_dotted_and_undotted_village_codes(landing, engine, code, expected):
    """Issue #10: a record without a usable village code that still identifies the person (name and
    NIK, No. KK or birth year) is staged without a village, flagged and placed in its No. KK's
    kecamatan; without such an identifier it is quarantined with the region reason."""
    rows = [record("bansos", _village=code), record("bansos", _village=code, nik="", no_kk="")]
    write(landing, "bansos", "PKH.csv", feed_csv("bansos", rows, sep=";"))
    result = run_feed(engine, landing, "bansos")
    _conserved(result)
    outcome, value = expected
    if outcome == "staged":
        assert _staged_value(result, 1, "kode_desa") == value
        assert _staged_value(result, 2, "kode_desa") == value
    else:
        assert pd.isna(_staged_value(result, 1, "kode_desa"))
        assert _staged_value(result, 1, "kode_kecamatan") == "18.06.01"  # from the No. KK
        assert bool(_staged_value(result, 1, "in_scope"))
        assert value in _staged_value(result, 1, "flags").split(";")
        assert "OUT_OF_SCOPE" not in _staged_value(result, 1, "flags").split(";")
        assert list(result.quarantine["reason"]) == [value] and _reason(result, 2) == value


def test_out_of_scope_rows_are_staged_flagged_and_counted(landing, engine):
    rows = [record("bansos"), record("bansos", _village=OUTSIDE_VILLAGE), record("bansos", _village=OUTSIDE_VILLAGE)]
    write(landing, "bansos", "PKH.csv", feed_csv("bansos", rows, sep=";"))
    result = run_feed(engine, landing, "bansos")
    assert len(result.staged) == 3
    assert list(result.staged["in_scope"]) == [True, False, False]
    assert result.staged["flags"].str.contains("OUT_OF_SCOPE").tolist() == [False, True, True]
    assert result.staged_counts.rows_out_of_scope == 2


def test_bps_coded_feed_is_rejected_with_a_clear_message(landing, engine):
    from dataclasses import replace

    spec = SPECS["pekon"]
    bps = replace(spec, region=replace(spec.region, code_system="bps"))
    write(landing, "pekon", "p.csv", feed_csv("pekon", [record("pekon")]))
    result = run_feed(engine, landing, "pekon", spec=bps)
    report = result.intake.reports[0]
    assert report.status == "rejected"
    assert "code system bps" in report.problem and "REG-03" in report.problem
    assert result.staged_counts.rows_in == 0


def test_a_totals_row_is_told_by_the_files_own_column_order(landing, engine):
    # The file starts with PROGRAM; the feed declares NIK_KPM and NAMA_KPM first. "JUMLAH" is the
    # row's first field in the file, "128 KPM" would be first in the declared order.
    file_order = ["PROGRAM", "PERIODE", "NIK_KPM", "NO_KK", "NAMA_KPM", "ALAMAT", "KODE_DESA", "NAMA_DESA",
                  "NOMINAL"]
    good = record("bansos")
    totals = {h: "" for h in file_order} | {"PROGRAM": "JUMLAH", "NAMA_KPM": "128 KPM", "NOMINAL": "96000000"}
    write(landing, "bansos", "PKH.csv", csv_bytes([file_order, [good[h] for h in file_order],
                                                   [totals[h] for h in file_order]], sep=";"))
    t4 = good | {"PERIODE": "2026-T4"}  # another period: both files stay in force
    write_xlsx(landing, "bansos", "PKH_2026-T4.xlsx", file_order,
               [[t4[h] for h in file_order], [totals[h] or None for h in file_order]])
    result = run_feed(engine, landing, "bansos")
    _conserved(result)
    assert result.quarantine[["source_file", "source_row", "reason"]].values.tolist() == [
        ["bansos/PKH.csv", 2, "SUMMARY_ROW"], ["bansos/PKH_2026-T4.xlsx", 2, "SUMMARY_ROW"]]


def test_a_bad_desil_or_programme_is_not_used_and_the_person_stays(landing, engine):
    """Issue #10: PRG-01 (desil not 1-10) and an unknown programme null the value and flag it."""
    write(landing, "dtsen", "d.csv", feed_csv("dtsen", [record("dtsen", desil="11"), record("dtsen", desil="3",
                                                                                            nik=man_nik(2))],
                                              sep=";"))
    result = run_feed(engine, landing, "dtsen")
    assert result.quarantine.empty
    assert [None if pd.isna(v) else int(v) for v in result.staged["desil"]] == [None, 3]
    assert [("BAD_DESIL" in f.split(";")) for f in result.staged["flags"]] == [True, False]
    write(landing, "bansos", "BLT_2026-10.csv", feed_csv("bansos", [record("bansos", program="BLT DD")], sep=";"))
    result = run_feed(engine, landing, "bansos")
    assert result.quarantine.empty and pd.isna(result.staged["program"].iloc[0])
    assert "BAD_PROGRAM" in result.staged["flags"].iloc[0].split(";")
