"""No NIK, name or birth date from the input reaches the run's event log or metadata (UU 27/2022)."""

import re

import pytest
import sqlalchemy as sa

from dtsen_pipeline.warehouse import read_table

pytestmark = pytest.mark.slow

# A 16-digit run (PDP-02); the fraction of a float such as 0.6765532729822637 is not an identifier.
SIXTEEN_DIGITS = re.compile(r"(?<![\d.])\d{16}(?!\d)")


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
    assert SIXTEEN_DIGITS.findall(text) == []
    upper = text.upper()
    assert [n for n in names if n.upper() in upper] == []
    assert [d for d in dates if d in text] == []
    assert not any(n in text for n in niks)


def test_the_scan_would_catch_a_leak(duckdb_run, seeded_values):
    niks, names, _ = seeded_values
    leaked = f"logged by mistake: {next(iter(niks))} {next(iter(names))}"
    assert SIXTEEN_DIGITS.search(leaked)
    assert any(n in leaked for n in names)
