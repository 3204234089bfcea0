"""Feed declarations: header matching, reader options and the checks that keep a bad YAML out."""

import datetime as dt

import pandas as pd
import pytest

from dtsen_pipeline.ingest.feeds import header_key, load_feed_spec, load_feed_specs
from dtsen_pipeline.ingest.raw_records import read_delivery
from dtsen_pipeline.ingest.standardise import stage_feed
from tests.ingest.helpers import engine_at, feed_csv, record, run_feed, write

MINIMAL = """name: {name}
entity: person
survivorship: {{priority: 9}}
delivery_mode: {mode}
files: ['*.csv']
region: {{code_system: kemendagri, vintage: '2025', village: KODE_DESA}}
columns: {{nama: NAMA}}
"""


def _spec(tmp_path, name="blt", mode="snapshot", extra=""):
    path = tmp_path / f"{name}.yaml"
    path.write_text(MINIMAL.format(name=name, mode=mode) + extra)
    return load_feed_spec(path)


def test_header_keys_ignore_case_spaces_dots_dashes_and_underscores():
    assert header_key("Nama KPM") == header_key("NAMA_KPM") == header_key(" nama-kpm ") == "NAMA_KPM"
    assert header_key("No. KK") == header_key("NO_KK")
    spec = load_feed_specs()["bansos"]
    assert spec.declared_header("nik kpm") == "NIK_KPM" and spec.declared_header("UMUR") is None


def test_reader_options_are_read(tmp_path):
    spec = _spec(tmp_path, extra="reader: {separator: '|', encoding: cp1252, xlsx_sheet: Data}\n")
    assert (spec.separator, spec.encoding, spec.xlsx_sheet) == ("|", "cp1252", "Data")


@pytest.mark.parametrize(("name", "mode", "extra", "message"), [
    ("delivery", "snapshot", "", "must be lower-case"),
    ("Bansos-2", "snapshot", "", "must be lower-case"),
    ("blt", "replace", "", "delivery_mode"),
    ("blt", "snapshot", "reader: {separator: '#'}\n", "reader.separator"),
    ("blt", "snapshot", "reader: {encoding: latin-99}\n", "unknown reader.encoding"),
    ("blt", "snapshot", "entity: household\n", "entity must be person or decision"),
    ("blt", "snapshot", "types: {aktif: yes_no}\n", "types.aktif names no column of extras"),
    ("blt", "snapshot", "extras: {aktif: AKTIF}\ntypes: {aktif: boolean}\n", "types.aktif must be one of"),
])
def test_bad_declarations_are_refused_with_the_reason(tmp_path, name, mode, extra, message):
    with pytest.raises(ValueError, match=message):
        _spec(tmp_path, name, mode, extra)


def test_a_declared_separator_and_encoding_override_detection(tmp_path):
    from dataclasses import replace

    spec = replace(load_feed_specs()["pekon"], separator="|", encoding="cp1252")
    landing = tmp_path / "landing"
    # One field holds a ';' and a ',' so detection alone could pick either; the declaration decides.
    write(landing, "pekon", "p.csv", feed_csv("pekon", [record("pekon", alamat="JL. A; NO 3, RT 1")], sep="|",
                                              encoding="cp1252"))
    engine = engine_at(tmp_path / "w.duckdb")
    result = run_feed(engine, landing, "pekon", spec=spec)
    engine.dispose()
    assert result.intake.reports[0].separator == "|" and result.intake.reports[0].encoding == "cp1252"
    assert list(result.staged["alamat"]) == ["JL. A; NO 3, RT 1"]


def test_extras_are_typed_as_the_yaml_declares_not_by_their_name(tmp_path):
    """A new feed's extras under new names get the declared types; an undeclared one stays text."""
    spec = _spec(tmp_path, extra="extras: {aktif: AKTIF, bantuan: BANTUAN, wafat: WAFAT, desil: DESIL, status: STATUS}\n"
                 "types: {aktif: yes_no, bantuan: number, wafat: date, status: code}\n")
    landing = tmp_path / "landing"
    write(landing, "blt", "blt.csv", (b"NAMA,KODE_DESA,AKTIF,BANTUAN,WAFAT,DESIL,STATUS\n"
                                      b"SITI,1806012016,ya,300000,2025-03-04,3,  lulus  sementara\n"))
    report, raw = read_delivery(landing / "blt" / "blt.csv", landing, spec, "d1")
    result = stage_feed(raw, spec, scope="18.06", as_of=dt.date(2026, 1, 1))
    assert result.quarantine.to_dict("records") == []
    staged = result.staged.iloc[0]
    assert bool(staged["aktif"]) is True  # `ya` (NA would raise)
    assert staged["bantuan"] == 300000
    assert staged["wafat"] == pd.Timestamp("2025-03-04")
    assert staged["status"] == "LULUS SEMENTARA"
    assert staged["desil"] == "3"  # `desil` is not declared here: text as delivered, whatever its name


def test_a_feed_reports_an_event_by_any_of_several_codes(tmp_path):
    """survivorship.reported: the event holds when any listed extra has its code, ANY meaning any value."""
    from dtsen_pipeline.golden.sql_models import _person_select

    yaml = MINIMAL.replace("survivorship: {{priority: 9}}",
                           "survivorship: {{priority: 9, reported: {{dead: {{status: MATI, tgl_mati: ANY}}}}}}")
    path = tmp_path / "blt.yaml"
    path.write_text(yaml.format(name="blt", mode="snapshot") + "extras: {status: STATUS, tgl_mati: TGL_MATI}\n")
    spec = load_feed_spec(path)
    assert spec.reported == {"dead": (("status", "MATI"), ("tgl_mati", "ANY"))}
    assert "coalesce(status = 'MATI' or tgl_mati is not null, false) as reported_dead" in _person_select(spec)
    path.write_text(yaml.format(name="blt", mode="snapshot") + "extras: {status: STATUS}\n")
    with pytest.raises(ValueError, match="names no column of extras: tgl_mati"):
        load_feed_spec(path)
