"""The summary report as a meeting document (#15 item 4): Indonesian formats, the kabupaten's name
and data date, changes since the previous report, flags by kecamatan with meanings, verification
per tier, data quality per feed with its trend; printable on A4."""

import datetime as dt
import re

import pandas as pd
import sqlalchemy as sa

from dtsen_pipeline.golden.flags import FLAGS
from dtsen_pipeline.reports import formats as fmt
from dtsen_pipeline.reports.labels import FEED_LABELS, FLAG_LABELS
from dtsen_pipeline.reports.report_data import previous_snapshot
from dtsen_pipeline.reports.summary_html import ReportContext, Snapshot, progress_per_tier, render_report


def test_indonesian_numbers_dates_and_wib():
    assert fmt.number(20023) == "20.023" and fmt.number(1234567) == "1.234.567" and fmt.number(0) == "0"
    assert fmt.number(1234.5, 1) == "1.234,5" and fmt.percent(0.1234) == "12,3%" and fmt.percent(None) == "–"
    assert fmt.signed(1204) == "+1.204" and fmt.signed(-35) == "−35" and fmt.points(0.012) == "+1,2 poin"
    assert fmt.date(dt.date(2026, 12, 5)) == "5 Desember 2026" and fmt.period("2026-01") == "Januari 2026"
    # 18.10 UTC on 31 December is 01.10 WIB on 1 January: the nightly run's own date
    assert fmt.wib(dt.datetime(2026, 12, 31, 18, 10)) == "1 Januari 2027 pukul 01.10 WIB"


VILLAGES = pd.DataFrame({"kode_desa": ["18.06.01.2001", "18.06.02.2001"], "village_name": ["Baros", "Banjar"],
                         "kode_kecamatan": ["18.06.01", "18.06.02"], "kecamatan_name": ["Kota Agung", "Talang Padang"],
                         "is_kelurahan": [False, False]})
RULES = pd.DataFrame({"program": ["PKH", "BPNT", "PBI-JK"], "max_desil": [4, 5, 5]})


def _flags() -> pd.DataFrame:
    rows = ([("DUPLICATE_RECORDS", "18.06.01", "UNVERIFIED", None)] * 1200
            + [("DEAD_RECIPIENT", "18.06.01", "CONFIRMED", "PEKON")] * 3
            + [("DEAD_RECIPIENT", "18.06.02", "CONFIRMED", "KECAMATAN")] * 2
            + [("INCLUSION_CANDIDATE", "18.06.02", "REJECTED", "KABUPATEN")])
    return pd.DataFrame(rows, columns=["flag", "kode_kecamatan", "verval_status", "verval_tingkat"])


def _render(previous: Snapshot | None) -> str:
    persons = pd.DataFrame({"is_recipient": [True] * 1500 + [False] * 19000})
    households = pd.DataFrame({"desil": [1, 2, 7, None] * 300, "pkh": [True, False, True, False] * 300,
                               "bpnt": False, "pbi_jk": False})
    quality = pd.DataFrame({
        "run_id": ["r1", "r1", "r2", "r2"], "run_at": pd.to_datetime(["2026-11-04 18:00"] * 2 + ["2026-12-04 18:00"] * 2),
        "feed": ["dtsen", "pekon"] * 2, "records": [18000, 12000, 18100, 12050],
        "valid_nik_share": [0.95, 0.90, 0.963, 0.90], "padan_share": [0.93, None, 0.932, None],
        "damaged_id_share": [0.01, 0.02, 0.0, 0.02], "imprecise_dob_share": [0.05, 0.06, 0.05, 0.06],
        "missing_name_share": [0.0, 0.001, 0.0, 0.001]})
    feeds = pd.DataFrame({"feed": ["dtsen", "pekon"], "arrived": pd.to_datetime(["2026-12-01", "2026-12-03"]),
                          "quarantined": [12, 1301]})
    ctx = ReportContext("18.06", "Kabupaten Tanggamus", "2026-12", dt.date(2026, 12, 5), "r2-abcdef-1234",
                        dt.datetime(2026, 12, 4, 18, 10))
    return render_report(ctx, persons, households, _flags(), VILLAGES, RULES, quality=quality, feeds=feeds,
                         previous=previous)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_report_is_a_meeting_document():
    previous = Snapshot(published_at=dt.datetime(2026, 11, 4, 18, 12), persons=20000, households=1190,
                        recipients=1480, flags={"DUPLICATE_RECORDS": 1100, "DEAD_RECIPIENT": 9}, decided=2)
    html = _render(previous)
    text = _text(html)
    assert "Kabupaten Tanggamus" in text and "kode wilayah 18.06" in text
    assert "Data per 5 Desember 2026" in text and "5 Desember 2026 pukul 01.10 WIB" in text
    assert "Desember 2026" in text and "20.500" in text and "20,500" not in text
    assert not re.search(r"\d,\d{3}\b", text)  # no English thousands separators anywhere
    # what changed since the previous report (published 5 November 01.12 WIB)
    assert "5 November 2026 pukul 01.12 WIB" in text
    changes = html[html.index("1. Perubahan"):html.index("2. Flag per kecamatan")]
    assert "+500" in changes and "+100" in changes and "−4" in changes  # persons, duplicates, dead
    # flags per kecamatan with names, and every flag's meaning beside its code
    for flag in FLAGS:
        label, meaning = FLAG_LABELS[flag.code]
        assert label in text and meaning in text and flag.code in text
    assert "Kota Agung" in text and "Talang Padang" in text
    # verification per tier, pekon -> kecamatan -> kabupaten
    tiers = html[html.index("3. Kemajuan verifikasi"):html.index("4. Mutu data")]
    assert re.search(r"Diputus di tingkat pekon/kelurahan.*Diputus di tingkat kecamatan.*Diputus di tingkat kabupaten",
                     tiers)
    # data quality per feed with the trend since the previous run
    quality = html[html.index("4. Mutu data"):html.index("5. Sebaran desil")]
    assert FEED_LABELS["dtsen"] in quality and "96,3% (+1,3 poin)" in quality and "1.301" in quality
    assert "1 Desember 2026" in quality and "<polyline" in quality
    # printable: A4 pages, sections kept whole, breaks between parts; offline, no script
    assert "@page{size:A4" in html and "break-before:page" in html and "break-inside:avoid" in html
    assert "<script" not in html and not re.search(r"(src|href)\s*=|https?://", html)


def test_the_first_report_says_there_is_nothing_to_compare_yet():
    text = _text(_render(None))
    assert "Ini laporan pertama" in text and "Belum ada laporan sebelumnya" in text


def test_progress_counts_decisions_at_the_tier_in_force():
    progress = progress_per_tier(_flags(), VILLAGES).set_index("kode_kecamatan")
    assert progress.loc["18.06.01", ["flags", "open", "PEKON", "KECAMATAN", "KABUPATEN"]].tolist() == [1203, 1200, 3, 0, 0]
    assert progress.loc["18.06.02", ["flags", "open", "PEKON", "KECAMATAN", "KABUPATEN"]].tolist() == [3, 0, 0, 2, 1]


def test_the_previous_report_comes_from_the_publication_before(tmp_path):
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with engine.begin() as conn:
        for ddl in ("CREATE SCHEMA audit", "CREATE SCHEMA golden_history",
                    "CREATE TABLE audit.run (run_id VARCHAR, status VARCHAR, finished_at TIMESTAMP)",
                    "CREATE TABLE golden_history.person (run_id VARCHAR, is_recipient BOOLEAN)",
                    "CREATE TABLE golden_history.household (run_id VARCHAR)",
                    "CREATE TABLE golden_history.flag (run_id VARCHAR, flag VARCHAR, verval_status VARCHAR)",
                    "INSERT INTO audit.run VALUES ('old', 'PUBLISHED', '2026-10-04 18:00'), "
                    "('prev', 'PUBLISHED', '2026-11-04 18:00'), ('now', 'PUBLISHED', '2026-12-04 18:00'), "
                    "('blocked', 'BLOCKED', '2026-11-20 18:00')",
                    "INSERT INTO golden_history.person VALUES ('old', true), ('prev', true), ('prev', false), "
                    "('prev', true), ('now', true)",
                    "INSERT INTO golden_history.household VALUES ('prev'), ('prev'), ('now')",
                    "INSERT INTO golden_history.flag VALUES ('prev', 'DEAD_RECIPIENT', 'CONFIRMED'), "
                    "('prev', 'DEAD_RECIPIENT', 'UNVERIFIED'), ('prev', 'DUPLICATE_RECORDS', 'UNVERIFIED')"):
            conn.exec_driver_sql(ddl)
    before = previous_snapshot(engine, "now")
    assert before is not None and before.published_at == dt.datetime(2026, 11, 4, 18, 0)
    assert (before.persons, before.households, before.recipients, before.decided) == (3, 2, 2, 1)
    assert before.flags["DEAD_RECIPIENT"] == 2 and before.flags["DUPLICATE_RECORDS"] == 1
    assert before.flags["MOVED_RECIPIENT"] == 0
    assert previous_snapshot(engine, "old") is not None  # the latest other publication
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit.run WHERE run_id <> 'now'")
    assert previous_snapshot(engine, "now") is None  # the first report
    engine.dispose()
