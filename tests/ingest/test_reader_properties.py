"""Property: whatever a file holds (arbitrary bytes, a workbook of any dimensions, any headers),
ingestion never dies, every file ends in the registry with a status, and a second file with other
arbitrary headers still loads beside it (issue #11)."""

import csv
import io
import tempfile
from pathlib import Path

import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dtsen_pipeline.ingest.deliveries import STATUSES
from dtsen_pipeline.ingest.intake import ingest_feed
from dtsen_pipeline.ingest.raw_store import load_registry
from tests.ingest.helpers import SPECS, engine_at, record, write

FEEDS = tuple(SPECS)
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEADERS = st.lists(st.text(min_size=0, max_size=80), min_size=1, max_size=12)


def _quoted_csv(rows: list[list[str]], sep: str) -> bytes:
    """Valid CSV whatever the cells hold: every cell quoted (Python's minimal quoting leaves a bare
    carriage return unquoted when lines end in a line feed, which no reader can take apart)."""
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    return out.getvalue().encode("utf-8", errors="surrogatepass")


def _registered(landing: Path, feed: str, names: list[str]) -> None:
    """Ingest the feed's folder in a fresh warehouse; every file must be registered with a status."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = engine_at(Path(tmp) / "w.duckdb")
        try:
            result = ingest_feed(engine, landing, SPECS[feed], run_id="p")
            registry = {d.source_file: d.status for d in load_registry(engine, feed)}
        finally:
            engine.dispose()
    assert {f"{feed}/{n}" for n in names} <= set(registry)
    assert set(registry.values()) <= set(STATUSES)
    assert all(r.problem and r.source_file in r.problem for r in result.problems if r.status != "duplicate")


@PROPERTY
@given(feed=st.sampled_from(FEEDS), data=st.binary(max_size=4000), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_arbitrary_bytes_never_stop_ingestion(feed, data, suffix):
    if not SPECS[feed].matches(f"f{suffix}"):
        suffix = ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp)
        write(landing, feed, f"acak{suffix}", data)
        _registered(landing, feed, [f"acak{suffix}"])


@PROPERTY
@given(row=st.integers(0, 1_048_575), column=st.integers(0, 16_383), headers=HEADERS,
       feed=st.sampled_from(["bansos", "verval"]))
def test_workbooks_of_any_dimensions_never_stop_ingestion(row, column, headers, feed):
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp)
        path = landing / feed / "sheet.xlsx"
        path.parent.mkdir(parents=True)
        workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
        sheet = workbook.add_worksheet()
        good = record(feed)
        sheet.write_row(0, 0, [*good, *headers])
        sheet.write_row(1, 0, list(good.values()))
        sheet.write_string(row, column, "x")  # one cell anywhere, up to XFD1048576
        workbook.close()
        _registered(landing, feed, ["sheet.xlsx"])


@PROPERTY
@given(first=HEADERS, second=HEADERS, feed=st.sampled_from(["dtsen", "pekon", "dukcapil"]))
def test_any_extra_headers_load_file_after_file(first, second, feed):
    good = record(feed)
    sep = ";" if feed == "dtsen" else ","
    with tempfile.TemporaryDirectory() as tmp:
        landing, engine = Path(tmp) / "landing", engine_at(Path(tmp) / "w.duckdb")
        try:
            for i, extra in enumerate((first, second)):
                rows = [[*good, *extra], [*good.values(), *("v" for _ in extra)]]
                write(landing, feed, f"berkas_{i}.csv", _quoted_csv(rows, sep))
                ingest_feed(engine, landing, SPECS[feed], run_id=f"p{i}")
            statuses = {d.source_file: d.status for d in load_registry(engine, feed)}
        finally:
            engine.dispose()
    assert set(statuses) == {f"{feed}/berkas_0.csv", f"{feed}/berkas_1.csv"}
    assert set(statuses.values()) <= {"loaded", "duplicate", "rejected", "suspect"}
