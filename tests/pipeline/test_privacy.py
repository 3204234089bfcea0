"""No NIK, name or birth date from the input reaches the run's event log or metadata (UU 27/2022)."""

import re

import pytest
import sqlalchemy as sa

from dtsen_pipeline.warehouse import read_table

pytestmark = pytest.mark.slow

# A 16-digit run standing on its own (PDP-02). Not an identifier: the fraction of a float such as
# 0.6765532729822637, or digits inside a hex digest such as Dagster's data versions
# ("…ab9362848122434657c…"), which are random per run and hold such a run about once in 40 runs.
SIXTEEN_DIGITS = re.compile(r"(?<![0-9A-Za-z.])\d{16}(?![0-9A-Za-z])")


def _masked_contexts(text: str) -> list[str]:
    """Where each 16-digit run sits, digits masked, so a failure names the place, not the value."""
    return [re.sub(r"\d", "#", text[max(m.start() - 60, 0) : m.end() + 10]) for m in SIXTEEN_DIGITS.finditer(text)]


def _serialised_run(instance, run_id) -> str:
    """Every event of the run: messages, metadata, check results, errors, as one text."""
    from dagster._serdes import serialize_value

    parts = []
    for entry in instance.all_logs(run_id):
        parts.append(entry.user_message or "")
        if entry.dagster_event is not None:
            parts.append(serialize_value(entry.dagster_event))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def seeded_values(duckdb_run):
    engine = sa.create_engine(duckdb_run.settings.warehouse_url)
    person = read_table(engine, "golden", "person", ["nik", "nama", "tgl_lahir"])
    engine.dispose()
    niks = set(person["nik"].dropna())
    names = {n for n in person["nama"].dropna() if len(n) >= 8 and " " in n}
    dates = {d.strftime(f) for d in person["tgl_lahir"].dropna() for f in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")}
    assert len(niks) > 1000 and len(names) > 500 and len(dates) > 500
    return niks, names, dates


def test_event_log_has_no_personal_data(duckdb_run, seeded_values):
    niks, names, dates = seeded_values
    text = _serialised_run(duckdb_run.instance, duckdb_run.run_id)
    assert len(text) > 10_000  # the scan read a real run, not an empty log
    assert _masked_contexts(text) == []
    upper = text.upper()
    assert sum(n.upper() in upper for n in names) == 0, "a seeded name is in the event log"
    assert sum(d in text for d in dates) == 0, "a seeded birth date is in the event log"
    assert sum(n in text for n in niks) == 0, "a seeded NIK is in the event log"


def test_the_scan_would_catch_a_leak(duckdb_run, seeded_values):
    niks, names, _ = seeded_values
    leaked = f"logged by mistake: {next(iter(niks))} {next(iter(names))}"
    assert SIXTEEN_DIGITS.search(leaked)
    assert any(n in leaked for n in names)


def test_the_scan_passes_over_hex_digests_and_floats():
    digest = "dagster/data_version: 3ab9362848122434657cfe0d; score 0.6765532729822637"
    assert _masked_contexts(digest) == []
    assert _masked_contexts("nik=1806015505900001;") != []
