"""Property: whatever damage a delivery suffered, nothing crashes and no row is lost.

Files of every feed come from a small generated sample; hypothesis applies random byte damage
(flips, insertions, deletions, truncation) and random row mutations (lost or extra fields,
stray quotes and separators, repeated headers, blank and totals rows, joined lines, numbers
where a workbook had text). Each damaged delivery goes through what the raw/<feed> and
staging/<feed> assets run; then rows in force = rows staged + rows quarantined, every file has
a status, and a file that was not loaded has a problem naming it.
"""

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dtsen_pipeline.ingest.deliveries import STATUSES
from dtsen_pipeline.ingest.landing import discover_files
from dtsen_pipeline.ingest.raw_store import count_in_force
from dtsen_pipeline.ingest.readers import sheet_rows
from tests.ingest.helpers import SPECS, engine_at, run_feed, write, write_xlsx

FEEDS = tuple(SPECS)
FILES_PER_FEED = 2
MAX_ROWS = 40  # the tail of each sample file is cut, so an example stays fast


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory) -> dict[str, list[tuple[str, bytes]]]:
    """A few small delivery files per feed: (name, bytes); workbooks cut to MAX_ROWS rows."""
    from dtsen_pipeline.sample import generate

    landing = tmp_path_factory.mktemp("sample")
    generate(persons=400, seed=11, out_dir=landing)
    out: dict[str, list[tuple[str, bytes]]] = {}
    for feed, spec in SPECS.items():
        files = discover_files(landing, spec)
        chosen = [p for p in files if p.suffix == ".csv"][:1] + [p for p in files if p.suffix == ".xlsx"][:1]
        chosen = (chosen + [p for p in files if p not in chosen])[:FILES_PER_FEED]
        entries = []
        for path in chosen:
            if path.suffix == ".xlsx":
                rows = sheet_rows(path, spec.xlsx_sheet)[: MAX_ROWS + 1]
                small = write_xlsx(landing / "_small", feed, path.name, [str(v) for v in rows[0]], rows[1:],
                                   sheet=spec.xlsx_sheet or "Sheet1")
                entries.append((path.name, small.read_bytes()))
            else:
                lines = path.read_bytes().splitlines(keepends=True)
                entries.append((path.name, b"".join(lines[: MAX_ROWS + 1])))
        out[feed] = entries
    assert all(out.values())
    return out


def _byte_damage(data: bytes, draw) -> bytes:
    kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "nul"]))
    if not data:
        return draw(st.binary(max_size=50))
    at = draw(st.integers(0, len(data) - 1))
    if kind == "flip":
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if kind == "delete":
        return data[:at] + data[at + draw(st.integers(1, 64)):]
    if kind == "nul":
        return data[:at] + b"\x00" + data[at:]
    return data[:at]


_TEXT_MUTATIONS = ["drop_field", "extra_field", "stray_quote", "duplicate", "header_again", "blank", "jumlah",
                   "join_lines", "swap_separator", "drop_line", "bom_mid_file"]


def _row_mutation_csv(data: bytes, draw) -> bytes:
    lines = data.splitlines(keepends=True)
    if len(lines) < 2:
        return data
    kind = draw(st.sampled_from(_TEXT_MUTATIONS))
    at = draw(st.integers(1, len(lines) - 1))
    line = lines[at]
    sep = b";" if lines[0].count(b";") > lines[0].count(b",") else b","
    fields = line.rstrip(b"\r\n").split(sep)
    if kind == "drop_field":
        fields.pop(draw(st.integers(0, len(fields) - 1)))
        lines[at] = sep.join(fields) + b"\n"
    elif kind == "extra_field":
        lines[at] = line.rstrip(b"\r\n") + sep + b"x" + b"\n"
    elif kind == "stray_quote":
        lines[at] = b'"' + line
    elif kind == "duplicate":
        lines.insert(at, line)
    elif kind == "header_again":
        lines.insert(at, lines[0].removeprefix(b"\xef\xbb\xbf"))
    elif kind == "blank":
        lines.insert(at, b"\n")
    elif kind == "jumlah":
        lines.append(b"JUMLAH" + sep * (len(fields) - 1) + b"\n")
    elif kind == "join_lines" and at + 1 < len(lines):
        lines[at] = line.rstrip(b"\r\n") + lines.pop(at + 1)
    elif kind == "swap_separator":
        lines[at] = line.replace(sep, b";" if sep == b"," else b",")
    elif kind == "drop_line":
        lines.pop(at)
    elif kind == "bom_mid_file":
        lines.insert(at, b"\xef\xbb\xbf" + lines[0].removeprefix(b"\xef\xbb\xbf"))
    return b"".join(lines)


def _row_mutation_xlsx(rows: list[list[object]], draw) -> list[list[object]]:
    if len(rows) < 2:
        return rows
    rows = [list(r) for r in rows]
    kind = draw(st.sampled_from(["drop_cell", "extra_cell", "duplicate", "header_again", "blank", "jumlah",
                                 "number_for_text", "drop_row"]))
    at = draw(st.integers(1, len(rows) - 1))
    if kind == "drop_cell" and rows[at]:
        rows[at] = rows[at][:-1]
    elif kind == "extra_cell":
        rows[at] = [*rows[at], "x"]
    elif kind == "duplicate":
        rows.insert(at, rows[at])
    elif kind == "header_again":
        rows.insert(at, rows[0])
    elif kind == "blank":
        rows.insert(at, [None] * len(rows[0]))
    elif kind == "jumlah":
        rows.append(["JUMLAH", *[None] * (len(rows[0]) - 2), len(rows) - 1])
    elif kind == "number_for_text":
        column = draw(st.integers(0, len(rows[at]) - 1)) if rows[at] else 0
        value = rows[at][column] if rows[at] else None
        if isinstance(value, str) and value.isdigit():
            rows[at][column] = float(value)  # what a numeric column does to NIK, KK and codes
    elif kind == "drop_row":
        rows.pop(at)
    return rows


def _damaged(name: str, data: bytes, sheet: str | None, workdir: Path, draw) -> bytes:
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            data = _byte_damage(data, draw)
        elif name.endswith(".xlsx"):
            source = workdir / "in.xlsx"
            source.write_bytes(data)
            try:
                rows = sheet_rows(source, sheet)
            except Exception:  # already byte-damaged beyond reading: keep the bytes
                continue
            rows = _row_mutation_xlsx(rows, draw)
            header = [("" if v is None else str(v)) for v in rows[0]] if rows else []
            out = write_xlsx(workdir, "x", "out.xlsx", header, rows[1:], sheet=sheet or "Sheet1")
            data = out.read_bytes()
        else:
            data = _row_mutation_csv(data, draw)
    return data


@pytest.mark.parametrize("feed", FEEDS)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_deliveries_never_crash_and_lose_no_row(sample_files, feed, data):
    spec = SPECS[feed]
    files = sample_files[feed]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        landing = tmp / "landing"
        damaged_index = data.draw(st.integers(0, len(files) - 1))
        for i, (name, content) in enumerate(files):
            if i == damaged_index:
                content = _damaged(name, content, spec.xlsx_sheet, tmp, data.draw)
            write(landing, feed, name, content)
        engine = engine_at(tmp / "w.duckdb")
        try:
            result = run_feed(engine, landing, feed)
            rows_in = count_in_force(engine, feed)
        finally:
            engine.dispose()
    assert rows_in == result.staged_counts.rows_in == len(result.staged) + len(result.quarantine)
    assert rows_in == sum(d.records for d in result.intake.in_force)
    assert len(result.intake.reports) == len(files)
    for report in result.intake.reports:
        assert report.status in STATUSES
        if report.status != "loaded":
            assert report.source_file in report.problem
